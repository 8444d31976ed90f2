"""TEST FIXTURE, not a product feature: a stand-in for TF Serving's REST API.

TF Serving's server cannot be installed on the test machines, so the client is tested against this
small HTTP server. It loads the real exported SavedModels (the newest version of each model folder
under ROOT) and answers the part of the REST contract the client uses, in TF Serving's formats:
  GET  /v1/models/NAME            {"model_version_status": [...]}
  GET  /v1/models/NAME/metadata   {"model_spec": ..., "metadata": {"signature_def": ...}}
  POST /v1/models/NAME:predict    {"signature_name", "inputs"} -> {"outputs"} | 4xx {"error"}

Usage: python tf_serving_standin.py ROOT PORT   (prints "ready" once the models are loaded)
"""

import http.server
import json
import os
import sys

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2


def load_models(root):
    models = {}
    for name in sorted(os.listdir(root)):
        versions = [int(v) for v in os.listdir(os.path.join(root, name)) if v.isdigit()] \
            if os.path.isdir(os.path.join(root, name)) else []
        if versions:
            folder = os.path.join(root, name, str(max(versions)))
            proto = saved_model_pb2.SavedModel()
            with open(os.path.join(folder, "saved_model.pb"), "rb") as f:
                proto.ParseFromString(f.read())
            signature_defs = {key: json_format.MessageToDict(value)
                              for key, value in proto.meta_graphs[0].signature_def.items()}
            models[name] = (max(versions), tf.saved_model.load(folder), signature_defs)
    return models


def make_handler(models):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _model(self, name):
            if name not in models:
                self._answer(404, {"error": f"Servable not found for request: Latest({name})"})
                return None
            return models[name]

        def do_GET(self):
            parts = self.path.strip("/").split("/")
            if len(parts) < 3 or parts[:2] != ["v1", "models"]:
                return self._answer(404, {"error": f"Malformed request: GET {self.path}"})
            model = self._model(parts[2])
            if model is None:
                return
            version, _, signature_defs = model
            if parts[3:] == ["metadata"]:
                return self._answer(200, {"model_spec": {"name": parts[2], "signature_name": "", "version": str(version)},
                                          "metadata": {"signature_def": {"signature_def": signature_defs}}})
            return self._answer(200, {"model_version_status": [
                {"version": str(version), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]})

        def do_POST(self):
            path = self.path.strip("/")
            if not (path.startswith("v1/models/") and path.endswith(":predict")):
                return self._answer(404, {"error": f"Malformed request: POST {self.path}"})
            model = self._model(path[len("v1/models/"):-len(":predict")])
            if model is None:
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                signature = model[1].signatures[body.get("signature_name", "serving_default")]
            except (json.JSONDecodeError, KeyError) as error:
                return self._answer(400, {"error": f"JSON Parse error or unknown signature: {error}"})
            specs = signature.structured_input_signature[1]
            try:
                # As TF Serving does, JSON numbers take the dtype the signature declares.
                inputs = {key: tf.constant(np.asarray(value), specs[key].dtype) for key, value in body["inputs"].items()}
                outputs = signature(**inputs)
            except (tf.errors.OpError, TypeError, ValueError, KeyError) as error:
                message = error.message if isinstance(error, tf.errors.OpError) else str(error)
                return self._answer(400, {"error": message})
            self._answer(200, {"outputs": {key: value.numpy().tolist() for key, value in outputs.items()}})

    return Handler


def main(root, port):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), make_handler(load_models(root)))
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:3])
