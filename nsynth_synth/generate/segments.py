"""Generating a long piano roll through a model with a request limit (an export's `generate`
signature, local or over TF Serving's REST API): cut into segments of at most max_frames frames,
at rests where there are any."""

import numpy as np
from tqdm import tqdm


def segment_bounds(roll, max_frames):
    """frame roll [frames, 128] -> [(start, end)] covering every frame, each at most max_frames long."""
    silent = ~np.asarray(roll, dtype=bool).any(axis=1)
    bounds, start = [], 0
    while len(roll) - start > max_frames:
        span = silent[start + max_frames // 2:start + max_frames]
        rests = np.flatnonzero(span)
        end = start + max_frames // 2 + rests[-1] + 1 if len(rests) else start + max_frames
        bounds.append((start, end))
        start = end
    bounds.append((start, len(roll)))
    return bounds


def render_segments(call, roll, hop, max_frames, *, seed=0, temperature=1.0, style_id=0, progress=True):
    """Generate a frame roll [frames, 128] segment by segment.

    call(piano_roll float32 [1, F, 128], style_id int32 [1], seed int32 [1], temperature float32 [1])
    -> audio float32 [1, F * hop]. Returns audio float32 [frames * hop].
    """
    roll = np.asarray(roll, np.float32)
    pieces = []
    with tqdm(total=len(roll) * hop, desc="generating", unit="sample", unit_scale=True, disable=not progress) as bar:
        for index, (start, end) in enumerate(segment_bounds(roll, max_frames)):
            audio = call(roll[None, start:end], np.array([style_id], np.int32), np.array([seed + index], np.int32),
                         np.array([temperature], np.float32))
            pieces.append(np.asarray(audio, np.float32)[0, :(end - start) * hop])
            bar.update((end - start) * hop)
    return np.concatenate(pieces)
