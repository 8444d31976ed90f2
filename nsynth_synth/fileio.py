"""Atomic file output and checksums: a file appears under its final name only once complete."""

import contextlib
import hashlib
import json
import os
import tempfile

from nsynth_synth.errors import OutputError

TMP_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside `path`; rename it to `path` when the block succeeds.

    On an exception (or a kill) the temporary file is removed or left under a `.tmp-` name that
    no reader mistakes for a finished output.
    """
    check_output_file(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=TMP_PREFIX, suffix="-" + os.path.basename(path))
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the output gets open()'s usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_output_file(path):
    """Raise OutputError unless `path` can become a file (commands call it before their work, so a
    wrong --out is refused before minutes of generation, not after)."""
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder; --out takes a file name")


def remove_abandoned(directory):
    """Delete the temporary files a killed run left in `directory` (atomic_output's `.tmp-*`);
    returns their names. Call it once this run owns the folder (its plan is checked)."""
    names = sorted(n for n in os.listdir(directory) if n.startswith(TMP_PREFIX))
    for name in names:
        os.unlink(os.path.join(directory, name))
    return names


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj):
    """Write `obj` as indented JSON, atomically."""
    with atomic_output(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")


def sha256_file(path, chunk_bytes=1 << 20):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()
