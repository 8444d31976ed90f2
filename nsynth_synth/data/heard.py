"""What a model heard in training, and where a score leaves it.

A Bach set's manifest describes every piece (pitch and velocity ranges, the most keys down at once
in its piano roll, its length, the styles it is played in); `heard` sums that up for one style's
training pieces, the run record keeps it per trained style, and `departures` names what a score
to be generated holds that the model never heard. Polyphony is counted in the piano roll the model
sees: the most keys down in one frame (a key struck twice at once counts once).
"""

import numpy as np

SUMMARY_KEYS = ("pitch_range", "velocity_range", "max_polyphony")


def score_summary(pitches, velocities, roll):
    """Notes (pitch [notes], velocity [notes]) and their roll [frames, 128] (bool, 0/1 or velocities) ->
    {"pitch_range": [low, high], "velocity_range": [low, high], "max_polyphony": int}."""
    return {"pitch_range": [int(np.min(pitches)), int(np.max(pitches))],
            "velocity_range": [int(np.min(velocities)), int(np.max(velocities))],
            "max_polyphony": int(np.asarray(roll, bool).sum(axis=1).max())}


def heard(manifest, program, split="train"):
    """What `split` of a set holds in style `program`: {"pieces", "minutes", "pitch_range",
    "velocity_range", "max_polyphony"}; None when it holds no piece in that style. A piece without
    "styles" (manifests before they were recorded) is played in every style; a key that some piece
    lacks (velocity_range, max_polyphony before they were recorded) is None."""
    all_styles = [s["program"] for s in manifest["styles"]]
    pieces = [p for p in manifest["pieces"] if p["split"] == split and program in p.get("styles", all_styles)]
    if not pieces:
        return None
    summary = {"pieces": len(pieces), "minutes": sum(p["seconds"] for p in pieces) / 60}
    for key in SUMMARY_KEYS:
        values = [p.get(key) for p in pieces]
        summary[key] = None if None in values else _merge(key, values)
    return summary


def set_heard(manifest, program):
    """heard(manifest, program) as the set's builder recorded it in the manifest ("heard"), or,
    for a set built before that was recorded, summed up from its pieces now."""
    recorded = manifest.get("heard", {})
    return recorded[str(program)] if str(program) in recorded else heard(manifest, program)


def combine(summaries):
    """Several heard() summaries (styles) -> one: the union of the ranges, the largest polyphony,
    the pieces and minutes added up."""
    combined = {"pieces": sum(s["pieces"] for s in summaries), "minutes": sum(s["minutes"] for s in summaries)}
    for key in SUMMARY_KEYS:
        values = [s.get(key) for s in summaries]
        combined[key] = None if None in values else _merge(key, values)
    return combined


def _merge(key, values):
    if key == "max_polyphony":
        return max(values)
    return [min(v[0] for v in values), max(v[1] for v in values)]


def departures(pitches, velocities, roll, frame_rate, heard_summary):
    """Where a score leaves what a model heard -> [message] (empty when it stays inside).

    pitches, velocities [notes]; roll [frames, 128] (bool, 0/1, velocities or their fractions) at frame_rate frames a second;
    heard_summary: heard()'s keys (a missing or None one is not checked).
    """
    messages = []
    pitches, velocities = np.asarray(pitches), np.asarray(velocities)
    if heard_summary.get("pitch_range"):
        low, high = heard_summary["pitch_range"]
        outside = sorted({int(p) for p in pitches if not low <= p <= high})
        if outside:
            messages.append(f"pitches {outside} lie outside the training pieces' range {low}-{high}; the model has "
                            "not heard them")
    if heard_summary.get("max_polyphony") is not None:
        most = heard_summary["max_polyphony"]
        down = np.asarray(roll, bool).sum(axis=1)
        if down.max() > most:
            first = int(np.argmax(down > most))
            messages.append(f"up to {int(down.max())} keys sound at once (first more than {most} at "
                            f"{first / frame_rate:.2f} s), but the training pieces never held more than {most}")
    if heard_summary.get("velocity_range"):
        low, high = heard_summary["velocity_range"]
        outside = sorted({int(v) for v in velocities if not low <= v <= high})
        if outside:
            messages.append(f"velocities {outside} lie outside the training pieces' range {low}-{high}")
    return messages


def format_heard(summary):
    """heard() -> "pitches 36-81, at most 4 keys at once, velocities 16-127, 12.3 min in 40 pieces"."""
    parts = [f"pitches {summary['pitch_range'][0]}-{summary['pitch_range'][1]}"]
    if summary.get("max_polyphony") is not None:
        most = summary["max_polyphony"]
        parts.append(f"at most {most} key{'s' if most != 1 else ''} at once")
    if summary.get("velocity_range"):
        parts.append(f"velocities {summary['velocity_range'][0]}-{summary['velocity_range'][1]}")
    parts.append(f"{summary['minutes']:.1f} min in {summary['pieces']} pieces")
    return ", ".join(parts)


def model_heard(data_record, program=None):
    """A run record's data section -> what the model heard in style `program` (None, or a style
    it was not trained on: in all its styles together); a record from before "heard" was kept gives
    its pitch range alone."""
    by_style = data_record.get("heard")
    if not by_style:
        return {"pitch_range": data_record["pitch_range"]}
    if str(program) in by_style and by_style[str(program)] is not None:
        return by_style[str(program)]
    return combine([h for h in by_style.values() if h is not None])
