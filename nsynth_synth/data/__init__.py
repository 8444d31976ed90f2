"""TFRecord feature specs and tf.data pipelines."""
