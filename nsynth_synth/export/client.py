"""Generation through an exported model's `generate` signature, loaded here or served by TF Serving.

A piece longer than the export's request limit is cut into segments of at most max_frames frames,
each cut at the last silent frame (all keys off) in the second half of the span when there is
one, so that few notes are interrupted. Every segment starts from silence (the signature is
stateless) with seed + segment index. `nsynth-synth client` speaks TF Serving's REST API:
POST {url}/v1/models/{name}:predict with {"signature_name", "inputs"}, answer {"outputs"} or
{"error"}.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from tqdm import tqdm

from nsynth_synth.errors import NsynthSynthError
from nsynth_synth.export.saved_model import LIMIT_MESSAGE


class ServingError(NsynthSynthError):
    """The server refused a request or could not be reached."""


class RequestTooLong(ServingError):
    """The server's limit, parsed from its error, in frames."""

    def __init__(self, message, max_frames):
        super().__init__(message)
        self.max_frames = max_frames


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


def saved_model_call(folder):
    """The `generate` signature of a SavedModel folder as a `call` for render_segments."""
    import tensorflow as tf

    generate = tf.saved_model.load(folder).signatures["generate"]

    def call(piano_roll, style_id, seed, temperature):
        return generate(piano_roll=tf.constant(piano_roll), style_id=tf.constant(style_id), seed=tf.constant(seed),
                        temperature=tf.constant(temperature))["audio"].numpy()

    return call


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
            "piano_roll": piano_roll.astype(np.uint8).tolist(), "style_id": style_id.tolist(),
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


def generate_remote(url, model, roll, hop, *, signature="generate", max_frames=None, **options):
    """render_segments against a server. max_frames None: send the whole piece first and, if the
    server answers with its limit, cut the piece to it."""
    call = rest_call(url, model, signature)
    try:
        return render_segments(call, roll, hop, max_frames or len(roll), **options)
    except RequestTooLong as error:
        if max_frames is not None and error.max_frames >= max_frames:
            raise
        return render_segments(call, roll, hop, error.max_frames, **options)
