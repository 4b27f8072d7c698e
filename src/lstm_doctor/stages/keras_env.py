"""Environment for Keras, set before it is first imported (import this module first).

Keras runs on TensorFlow here. oneDNN's reordered float sums are switched off: they make
CPU runs differ between seeds-equal runs and print a banner on every start.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

if os.environ["KERAS_BACKEND"] == "tensorflow" and not {"tensorflow", "jax"} & sys.modules.keys():
    # TensorFlow's TFLite converter imports JAX whenever JAX is installed: 0.5-0.9 s of CPU
    # on every start of every process that trains. Nothing here converts to TFLite, so
    # TensorFlow loads without it (the converter's own fallback); JAX stays importable.
    sys.modules["jax"] = None  # type: ignore[assignment]
    try:
        import tensorflow  # noqa: F401
    finally:
        del sys.modules["jax"]

import logging

# Many small models in one worker process (sweeps) make TensorFlow warn about retracing
# predict functions on every run: expected here, and it buries the real output.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
# With interactive logging off, Keras sends progress bars to absl at INFO; MLflow's check of
# the logged model's input example would print two of them into every run's log.
logging.getLogger("absl").setLevel(logging.WARNING)
