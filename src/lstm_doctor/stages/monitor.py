"""Training monitors: gradient norms and update/weight ratios on a probe batch, once an epoch.

Measuring on one fixed batch per epoch (not every step) keeps the cost to one extra
forward and backward pass per epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_doctor.stages import keras_env as backend  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras


class GradientMonitor(keras.callbacks.Callback):
    """Per epoch: global and per-layer gradient norms, the first LSTM layer's gradient
    relative to the output layer's, and each layer's update/weight ratio.

    Results accumulate in `records` (one dict an epoch) and go to `sink(metrics, epoch)`.
    """

    def __init__(self, probe: tuple[np.ndarray, np.ndarray], sink: Any = None) -> None:
        super().__init__()
        self.probe = probe
        self.sink = sink
        self.records: list[dict[str, float]] = []
        self._before: dict[str, np.ndarray] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        import tensorflow as tf

        model = self.model

        def probe_gradients(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                predictions = model(x, training=False)
                loss = model.compute_loss(x=x, y=y, y_pred=predictions)
            return tape.gradient(loss, model.trainable_variables)

        # Compiled once per fit: eager LSTM gradients cost ~10x more every epoch.
        self._probe_gradients = tf.function(probe_gradients)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._before = {
            v.path: keras.ops.convert_to_numpy(v) for v in self.model.trainable_variables
        }

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        x, y = self.probe
        variables = self.model.trainable_variables
        grads = self._probe_gradients(x, y)
        record: dict[str, float] = {}
        layer_grad: dict[str, float] = {}
        layer_update: dict[str, list[float]] = {}
        total = 0.0
        for variable, grad in zip(variables, grads, strict=True):
            parts = variable.path.split("/")
            layer = parts[1] if parts[0] == self.model.name and len(parts) > 2 else parts[0]
            g = (
                float(np.sum(np.square(keras.ops.convert_to_numpy(grad))))
                if grad is not None
                else 0.0
            )
            total += g
            layer_grad[layer] = layer_grad.get(layer, 0.0) + g
            now = keras.ops.convert_to_numpy(variable)
            before = self._before.get(variable.path)
            if before is not None:
                scale = float(np.linalg.norm(now)) or 1.0
                layer_update.setdefault(layer, []).append(
                    float(np.linalg.norm(now - before)) / scale
                )
        record["grad_norm"] = float(np.sqrt(total))
        for layer, g in layer_grad.items():
            record[f"grad_norm/{layer}"] = float(np.sqrt(g))
        for layer, ratios in layer_update.items():
            record[f"update_ratio/{layer}"] = float(np.max(ratios))
        lstm_layers = [name for name in layer_grad if name.startswith("lstm")]
        if lstm_layers and "output" in layer_grad and layer_grad["output"] > 0:
            record[f"grad_ratio/{lstm_layers[0]}"] = float(
                np.sqrt(layer_grad[lstm_layers[0]] / layer_grad["output"])
            )
        self.records.append(record)
        if self.sink is not None:
            self.sink(record, epoch)
