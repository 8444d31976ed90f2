"""What the kinds' export modules (models/<kind>/export.py) share: the request limit and its
message, and the batch check."""

import tensorflow as tf

WARMUP_SECONDS = 0.25
LIMIT_MESSAGE = "request too long for this model"


def limit_message(max_frames, seconds, what):
    """The InvalidArgument text of a request over the export's limit (the client parses max_frames)."""
    return (f"{LIMIT_MESSAGE}: at most max_frames={max_frames} frames ({seconds:g} s, set at export by "
            f"--max-seconds) per request; split the {what}. Frames requested:")


def check_batch(batch, rows_of, **inputs):
    """Assert that every input has one entry per row of the `rows_of` input (batch rows)."""
    for name, tensor in inputs.items():
        tf.debugging.assert_equal(tf.shape(tensor)[0], batch, message=f"{name} needs one entry per {rows_of} batch row")
