"""Generation through an exported model, served by TF Serving (`nsynth-synth client`).

The client reads the model's signatures from the server (GET {url}/v1/models/{name}/metadata) and
plays the piece the way they allow:
- a model with a stateless `generate` only (SynthNet): a piece longer than the export's request
  limit is cut into segments of at most max_frames frames, each cut at the last silent frame (all
  keys off) in the second half of the span when there is one, so that few notes are interrupted.
  Every segment starts from silence with seed + segment index;
- a model with a `stream` signature that passes its state in and out (the harmonic kind): blocks of
  at most max_frames frames from `initial_state`, each carrying the state the last one returned, so
  the piece plays as one; its audio comes at the model's learned level and gets the builder's peak
  rule over the whole piece, as `generate` does.
Requests are POST {url}/v1/models/{name}:predict with {"signature_name", "inputs"}, answer
{"outputs"} or {"error"}.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from nsynth_synth.errors import RequestTooLong, ServingError
from nsynth_synth.export.modules import LIMIT_MESSAGE
from nsynth_synth.generate.segments import render_segments


def _roll_json(piano_roll):
    """A roll as JSON lists: 0/1 integers for a binary roll (short requests), else its values to 4 decimals."""
    if np.all((piano_roll == 0) | (piano_roll == 1)):
        return piano_roll.astype(np.uint8).tolist()
    return np.round(piano_roll.astype(np.float64), 4).tolist()


def _http(url, body=None, timeout=600):
    """GET (body None) or POST JSON; returns the decoded JSON answer or raises ServingError."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            message = json.loads(text).get("error", text)
        except json.JSONDecodeError:
            message = text
        limit = re.search(r"max_frames=(\d+)", message)
        if LIMIT_MESSAGE in message and limit:
            raise RequestTooLong(f"{url}: {message}", int(limit.group(1))) from error
        raise ServingError(f"{url}: HTTP {error.code}: {message.strip()}") from error
    except urllib.error.URLError as error:
        raise ServingError(f"{url}: cannot reach the server ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise ServingError(f"{url}: the answer is not JSON ({error})") from error


def _endpoint(url, path):
    """url + path; ServingError unless url is an http(s) address with a host."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServingError(f"--url {url!r}: expected the server's address, like http://localhost:8501")
    return f"{url.rstrip('/')}/{path}"


def rest_call(url, model, signature="generate", timeout=600):
    """A `call` for render_segments that POSTs TF Serving's REST :predict (columnar "inputs")."""
    endpoint = _endpoint(url, f"v1/models/{model}:predict")

    def call(piano_roll, style_id, seed, temperature):
        body = {"signature_name": signature, "inputs": {
            "piano_roll": _roll_json(piano_roll), "style_id": style_id.tolist(),
            "seed": seed.tolist(), "temperature": temperature.tolist()}}
        answer = _http(endpoint, body, timeout)
        outputs = answer.get("outputs")
        if not isinstance(outputs, dict) or "audio" not in outputs:
            raise ServingError(f"{endpoint}: the answer has no outputs.audio (keys: {sorted(answer)})")
        return np.asarray(outputs["audio"], np.float32)

    return call


def model_status(url, model):
    """GET /v1/models/NAME: TF Serving's version status list; raises ServingError when not served."""
    return _http(_endpoint(url, f"v1/models/{model}"), timeout=30)


def signature_inputs(url, model):
    """{signature name: [input names]} of a served model (TF Serving's metadata)."""
    answer = _http(_endpoint(url, f"v1/models/{model}/metadata"), timeout=30)
    try:
        signatures = answer["metadata"]["signature_def"]["signature_def"]
        return {name: sorted(value.get("inputs", {})) for name, value in signatures.items()}
    except (KeyError, TypeError, AttributeError) as error:
        raise ServingError(f"{url}: the metadata of {model} lists no signatures ({error})") from error


def stream_remote(url, model, roll, onsets, hop, max_frames, seed=0, style_id=0, bends=None):
    """Play roll, onsets and bends (None: no `pitch_bend` input) [frames, 128] through the `stream`
    signature in blocks of max_frames frames, carrying the state from block to block -> audio
    float32 [frames * hop] at the learned level, and the notes dropped."""
    endpoint = _endpoint(url, f"v1/models/{model}:predict")
    start = _http(endpoint, {"signature_name": "initial_state", "inputs": {"batch_size": 1}})
    state = {name: value for name, value in start.get("outputs", {}).items() if name.startswith("state_")}
    if not state:
        raise ServingError(f"{endpoint}: initial_state answered no state (keys: {sorted(start)})")
    pieces, dropped = [], 0
    for first in range(0, len(roll), max_frames):
        inputs = {"piano_roll": _roll_json(roll[None, first:first + max_frames]),
                  "onsets": _roll_json(onsets[None, first:first + max_frames]), "style_id": [style_id],
                  "seed": [seed], **state}
        if bends is not None:
            inputs["pitch_bend"] = _roll_json(bends[None, first:first + max_frames])
        outputs = _http(endpoint, {"signature_name": "stream", "inputs": inputs}).get("outputs")
        if not isinstance(outputs, dict) or "audio" not in outputs:
            raise ServingError(f"{endpoint}: the stream answered no outputs.audio")
        state = {name: outputs[name] for name in state}
        pieces.append(np.asarray(outputs["audio"], np.float32)[0])
        dropped += int(np.asarray(outputs.get("dropped", [0]))[0])
    return np.concatenate(pieces), dropped


def generate_remote(url, model, roll, hop, *, onsets=None, bends=None, signature="generate", max_frames=None,
                    **options):
    """Play a roll against a server: through `stream` with its state where the model has one (then
    the peak rule over the whole piece), else render_segments over `signature`. max_frames None: the
    server's limit (a stream asks for the whole piece first and learns the limit from the answer).
    bends: semitones [frames, 128] (None: none), for a model whose stream takes `pitch_bend`.
    -> (audio float32 [frames * hop], notes dropped)."""
    from nsynth_synth.audio import peak_rule

    stream_inputs = signature_inputs(url, model).get("stream", [])
    if bends is not None and "pitch_bend" not in stream_inputs:
        warnings.warn(f"{model} takes no pitch bend: the score's bends are not played", stacklevel=2)
    if "onsets" in stream_inputs:
        onsets = np.zeros_like(roll) if onsets is None else onsets
        options = {key: value for key, value in options.items() if key in ("seed", "style_id")}
        if "pitch_bend" in stream_inputs:
            options["bends"] = np.zeros_like(roll) if bends is None else bends
        try:
            audio, dropped = stream_remote(url, model, roll, onsets, hop, max_frames or len(roll), **options)
        except RequestTooLong as error:
            audio, dropped = stream_remote(url, model, roll, onsets, hop, error.max_frames, **options)
        return peak_rule(audio), dropped
    call = rest_call(url, model, signature)
    try:
        return render_segments(call, roll, hop, max_frames or len(roll), **options), 0
    except RequestTooLong as error:
        if max_frames is not None and error.max_frames >= max_frames:
            raise
        return render_segments(call, roll, hop, error.max_frames, **options), 0
