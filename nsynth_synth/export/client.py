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
