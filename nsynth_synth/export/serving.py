"""TF Serving configuration for the exports under a folder (`nsynth-synth serving-config`).

Writes, beside the exported models (each a folder of integer versions):
  models.config      ModelServerConfig: one entry per model, serving its newest version
  batching.config    BatchingParameters: batches of up to 16 voices, shorter rolls padded
  monitoring.config  MonitoringConfig: Prometheus metrics on the REST port
Each file is parsed back with the protos before it is written. ModelServerConfig comes from the
`tensorflow-serving-api` wheel; that wheel does not ship BatchingParameters or MonitoringConfig, so
both are declared here with upstream's package, names, field numbers and types
(tensorflow_serving/servables/tensorflow/session_bundle_config.proto and
tensorflow_serving/config/monitoring_config.proto).
"""

import os

import tensorflow as tf
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format, wrappers_pb2

from nsynth_synth.errors import ServingConfigError
from nsynth_synth.fileio import atomic_output

MODELS_CONFIG = "models.config"
BATCHING_CONFIG = "batching.config"
MONITORING_CONFIG = "monitoring.config"
PROMETHEUS_PATH = "/monitoring/prometheus/metrics"
CONTAINER_ROOT = "/models"
BATCHING = {"max_batch_size": 16, "batch_timeout_micros": 2000, "max_enqueued_batches": 64, "num_batch_threads": 2}


def _extra_protos():
    """Message classes {name: class} for BatchingParameters and MonitoringConfig (see the module doc)."""
    T = descriptor_pb2.FieldDescriptorProto
    int64_value = ".google.protobuf.Int64Value"
    schema = {
        "BatchingParameters": [
            ("max_batch_size", 1, T.TYPE_MESSAGE, int64_value, T.LABEL_OPTIONAL),
            ("batch_timeout_micros", 2, T.TYPE_MESSAGE, int64_value, T.LABEL_OPTIONAL),
            ("max_enqueued_batches", 3, T.TYPE_MESSAGE, int64_value, T.LABEL_OPTIONAL),
            ("num_batch_threads", 4, T.TYPE_MESSAGE, int64_value, T.LABEL_OPTIONAL),
            ("thread_pool_name", 5, T.TYPE_MESSAGE, ".google.protobuf.StringValue", T.LABEL_OPTIONAL),
            ("allowed_batch_sizes", 6, T.TYPE_INT64, None, T.LABEL_REPEATED),
            ("pad_variable_length_inputs", 7, T.TYPE_BOOL, None, T.LABEL_OPTIONAL),
        ],
        "PrometheusConfig": [
            ("enable", 1, T.TYPE_BOOL, None, T.LABEL_OPTIONAL),
            ("path", 2, T.TYPE_STRING, None, T.LABEL_OPTIONAL),
        ],
        "MonitoringConfig": [
            ("prometheus_config", 1, T.TYPE_MESSAGE, ".tensorflow.serving.PrometheusConfig", T.LABEL_OPTIONAL),
        ],
    }
    file = descriptor_pb2.FileDescriptorProto(name="nsynth_synth/tf_serving_extra.proto",
                                              package="tensorflow.serving", syntax="proto3",
                                              dependency=["google/protobuf/wrappers.proto"])
    for message, fields in schema.items():
        proto = file.message_type.add(name=message)
        for name, number, kind, type_name, label in fields:
            field = proto.field.add(name=name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(file)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tensorflow.serving.{name}"))
            for name in schema}


def message_classes():
    """{file name: the proto message class its text parses into}."""
    from tensorflow_serving.config import model_server_config_pb2

    extra = _extra_protos()
    return {MODELS_CONFIG: model_server_config_pb2.ModelServerConfig,
            BATCHING_CONFIG: extra["BatchingParameters"], MONITORING_CONFIG: extra["MonitoringConfig"]}


def parse_config(path):
    """Parse a written config file with its proto; raises ServingConfigError naming the file."""
    cls = message_classes()[os.path.basename(path)]
    with open(path) as f:
        text = f.read()
    try:
        return text_format.Parse(text, cls())
    except text_format.ParseError as error:
        raise ServingConfigError(f"{path}: not a valid {cls.DESCRIPTOR.name} text proto: {error}") from error


def exported_models(root):
    """Names of the folders under `root` holding at least one integer version with a saved_model.pb."""
    if not os.path.isdir(root):
        return []
    return sorted(
        name for name in os.listdir(root)
        if os.path.isdir(os.path.join(root, name)) and any(
            version.isdigit() and os.path.isfile(os.path.join(root, name, version, "saved_model.pb"))
            for version in os.listdir(os.path.join(root, name)))
    )


def config_texts(names, container_root=CONTAINER_ROOT):
    """{file name: text proto} for serving `names`, which the server sees under container_root."""
    from tensorflow_serving.config import model_server_config_pb2

    classes = message_classes()
    models = model_server_config_pb2.ModelServerConfig()
    for name in names:
        entry = models.model_config_list.config.add(name=name, base_path=f"{container_root.rstrip('/')}/{name}",
                                                    model_platform="tensorflow")
        entry.model_version_policy.latest.num_versions = 1
    batching = classes[BATCHING_CONFIG](pad_variable_length_inputs=True)
    for field, value in BATCHING.items():
        getattr(batching, field).value = value
    monitoring = classes[MONITORING_CONFIG]()
    monitoring.prometheus_config.enable = True
    monitoring.prometheus_config.path = PROMETHEUS_PATH
    return {MODELS_CONFIG: text_format.MessageToString(models), BATCHING_CONFIG: text_format.MessageToString(batching),
            MONITORING_CONFIG: text_format.MessageToString(monitoring)}


def write_serving_config(root, container_root=CONTAINER_ROOT):
    """Write the three config files for every model under `root`; returns {file name: path}."""
    names = exported_models(root)
    if not names:
        raise ServingConfigError(f"{root}: no exported models (folders of integer versions); run `nsynth-synth export`")
    classes = message_classes()
    paths = {}
    for file_name, text in config_texts(names, container_root).items():
        text_format.Parse(text, classes[file_name]())  # what TF Serving will read must parse
        path = os.path.join(root, file_name)
        with atomic_output(path) as tmp, open(tmp, "w") as f:
            f.write(text)
        paths[file_name] = path
    return paths


def warmup_request(name, signature, inputs):
    """A PredictRequest of `signature` with numpy `inputs` ({name: array})."""
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


def write_warmup_requests(path, name, signature, inputs):
    """assets.extra/tf_serving_warmup_requests: TFRecord of PredictionLog, which TF Serving replays
    at load so the first client does not wait for graph compilation."""
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.CopyFrom(warmup_request(name, signature, inputs))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(log.SerializeToString())
