"""Environment for Keras, set before it is first imported (import this module first).

Keras runs on TensorFlow here. oneDNN's reordered float sums are switched off: they make
CPU runs differ between seeds-equal runs and print a banner on every start.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import logging

# Many small models in one worker process (sweeps) make TensorFlow warn about retracing
# predict functions on every run: expected here, and it buries the real output.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
# With interactive logging off, Keras sends progress bars to absl at INFO; MLflow's check of
# the logged model's input example would print two of them into every run's log.
logging.getLogger("absl").setLevel(logging.WARNING)
