"""What the doctor reads off a user's Keras model and arrays: the training and validation
arrays (rebuilding Keras' own `validation_split`), the loss of a probe batch, the weights
before and after a step, the optimiser, the first LSTM layer's size and the task."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from lstm_doctor.base.errors import DataError


def _array(value: Any, name: str) -> np.ndarray | None:
    """One array of samples, or None. A dict, or a list of arrays, is Keras' way of feeding
    several inputs (or outputs): numpy would stack same-shaped ones into one wrong array.

    Raises:
        DataError: for several inputs or outputs, which the data checks cannot read.
    """
    if value is None:
        return None
    if isinstance(value, dict) or (
        isinstance(value, (list, tuple)) and value and hasattr(value[0], "shape")
    ):
        raise DataError(
            f"{name} holds several arrays (a model of several inputs or outputs): the data "
            "checks and baselines read one array of windows; diagnosing the curves and the "
            "step only"
        )
    return np.asarray(value)


def split_arrays(
    x: Any, y: Any, validation_data: Any = None, validation_split: float | None = None
) -> dict[str, np.ndarray | None]:
    """x_train, y_train, x_val, y_val as fit will use them.

    `validation_split` holds out the last samples before any shuffling, as Keras does.

    Raises:
        DataError: arrays whose lengths disagree, or not arrays at all.
    """
    x_train, y_train = _array(x, "x"), _array(y, "y")
    x_val = y_val = None
    if validation_data is not None:
        given = tuple(validation_data)[:2]
        x_val, y_val = _array(given[0], "x_val"), _array(given[1], "y_val")
    for name, (a, b) in {"train": (x_train, y_train), "validation": (x_val, y_val)}.items():
        if a is not None and b is not None and len(a) != len(b):
            raise DataError(
                f"the {name} arrays disagree: x has {len(a)} samples, y has {len(b)}; "
                "diagnosing the curves only"
            )
    if validation_split and x_train is not None and y_train is not None and x_val is None:
        at = math.floor(len(x_train) * (1.0 - validation_split))
        x_train, x_val, y_train, y_val = x_train[:at], x_train[at:], y_train[:at], y_train[at:]
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}


def _loss_fn(model: keras.Model) -> Any:
    loss = model.loss
    if isinstance(loss, (list, tuple, dict)):
        raise ValueError("a model with several losses has no one probe loss")
    return keras.losses.get(loss) if isinstance(loss, str) else loss


def probe_loss(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """The model's loss on the probe batch, as it stands (no update).

    Predicted with a compiled forward pass (`_predict_on_batch`), which the diagnosis'
    predictions on the validation arrays then reuse: an eager LSTM forward pass costs ~4x
    more, and it would be paid every epoch."""
    predicted = _predict_on_batch(model, x)
    y = _same_rank(np.asarray(y), np.shape(predicted))
    value = _loss_fn(model)(keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(predicted))
    return float(np.mean(keras.ops.convert_to_numpy(value)))


def _predict_on_batch(model: keras.Model, x: np.ndarray) -> Any:
    """`model.predict_on_batch(x)`, on TensorFlow by a forward pass compiled once per
    architecture (stages/gradients)."""
    if keras.backend.backend() != "tensorflow":
        return model.predict_on_batch(x)
    from lstm_doctor.stages.gradients import predict_on_batch

    return predict_on_batch(model, x)


def _same_rank(y: np.ndarray, predicted: tuple[int, ...]) -> np.ndarray:
    """Targets shaped as the predictions where they differ by a trailing axis of one (labels
    of shape (n,) for a sigmoid's (n, 1)), as Keras' Loss objects do before a loss function;
    sparse labels for a softmax over classes stay as they are."""
    if y.ndim == len(predicted) - 1 and predicted[-1] == 1:
        return y[..., None]
    if y.ndim == len(predicted) + 1 and y.shape[-1] == 1:
        return y[..., 0]
    return y


def predictions(model: keras.Model, x: np.ndarray, batch: int) -> Any:
    """The model's predictions on `x`, `batch` windows at a time on its compiled predict
    function, the last batch padded to the same size: the probe's batches traced it once
    (Keras' `predict` would trace a function of its own, about 0.3 s of CPU). A model of
    several outputs goes to `predict`."""
    x = np.asarray(x)
    parts = []
    for lo in range(0, len(x), batch):
        chunk = x[lo : lo + batch]
        size = len(chunk)
        if size < batch:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - size, axis=0)])
        out = _predict_on_batch(model, chunk)
        if not isinstance(out, np.ndarray):
            return model.predict(x, verbose=0)
        parts.append(out[:size])
    return np.concatenate(parts) if parts else model.predict(x, verbose=0)


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, batch: int) -> float:
    """The share of `x` the model classes right: labels or one-hot `y`, softmax or sigmoid
    outputs."""
    predicted = np.asarray(predictions(model, x, batch))
    y = np.asarray(y)
    truth = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y))
    if predicted.ndim > 1 and predicted.shape[-1] > 1:
        answers = predicted.argmax(axis=-1)
    else:
        # A sigmoid's output, or its logit where the loss takes logits.
        cut = 0.0 if getattr(model.loss, "from_logits", False) else 0.5
        answers = (predicted.reshape(len(predicted)) > cut).astype(int)
    return float(np.mean(answers == truth.astype(int)))


def constant_loss(model: keras.Model, y: np.ndarray) -> float:
    """The probe's loss for the best input-blind answer: each output's mean (regression) or
    the class shares (a softmax over classes)."""
    y = _same_rank(np.asarray(y), (len(y), *model.output_shape[1:]))
    outputs = int(model.output_shape[-1])
    if outputs > 1 and (np.issubdtype(y.dtype, np.integer) or y.ndim == 1 or y.shape[-1] == 1):
        counts = np.bincount(y.astype(int).ravel(), minlength=outputs)[:outputs] + 1e-3
        constant = np.tile(counts / counts.sum(), (len(y), 1))
    else:
        constant = np.broadcast_to(y.astype(float).mean(axis=0, keepdims=True), y.shape)
    value = _loss_fn(model)(
        keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(constant.astype("float32"))
    )
    return float(np.mean(keras.ops.convert_to_numpy(value)))


# Layers that transform inputs without learning from the loss, which a model may put before
# its first learning layer to scale what that layer sees.
INPUT_TRANSFORMS = (
    "Normalization", "Rescaling", "BatchNormalization", "LayerNormalization", "Masking",
    "GaussianNoise", "InputLayer",
)  # fmt: skip
SEEN_SAMPLE = 4096  # windows passed through them: enough for each feature's spread


def seen_inputs(model: keras.Model, x: Any) -> tuple[np.ndarray, str] | None:
    """The windows as the model's first learning layer receives them, and the names of the
    layers before it that scale them; None where no such layer leads the model, or its
    leading layers cannot be run on their own."""
    leading = []
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ not in INPUT_TRANSFORMS:
            break
        leading.append(layer)
    # Layers that leave the values as they are at inference do not scale them.
    passing = ("InputLayer", "Masking", "GaussianNoise")
    scaling = [layer for layer in leading if type(layer).__name__ not in passing]
    if not scaling or x is None:
        return None
    try:
        seen = keras.ops.convert_to_tensor(np.asarray(x)[:SEEN_SAMPLE], dtype="float32")
        for layer in leading:
            if type(layer).__name__ != "InputLayer":
                seen = layer(seen, training=False)
        names = " and ".join(dict.fromkeys(type(layer).__name__ for layer in scaling))
        return np.asarray(keras.ops.convert_to_numpy(seen)), f"{names} layer"
    except Exception:  # a layer that needs more than the windows: judge the arrays as given
        return None


def weights(model: keras.Model) -> dict[str, np.ndarray]:
    """Each trainable variable's value now, by its path (works on every backend)."""
    return {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.trainable_variables}


def step_ratios(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> dict[str, float]:
    """Per layer: the norm of one step's change over the norm of the weights before it."""
    by_layer: dict[str, list[float]] = {}
    for path, old in before.items():
        if path not in after:
            continue
        layer = path.rsplit("/", 1)[0]
        change = float(np.sum((after[path] - old) ** 2))
        size = float(np.sum(old**2))
        by_layer.setdefault(layer, [0.0, 0.0])
        by_layer[layer][0] += change
        by_layer[layer][1] += size
    return {k: math.sqrt(c) / math.sqrt(s) for k, (c, s) in by_layer.items() if s > 0}


def task_from_loss(model: keras.Model) -> str | None:
    """classify for a cross-entropy loss, forecast for another, None when unknown."""
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or type(loss).__name__
    if not name or loss is None:
        return None
    return "classify" if "crossentropy" in name.lower().replace("_", "") else "forecast"


def optimizer_and_units(model: keras.Model) -> dict[str, Any]:
    """The optimiser's class name and learning rate, and the first LSTM layer's units."""
    optimizer = getattr(model, "optimizer", None)
    lr = getattr(optimizer, "learning_rate", None)
    try:
        rate = float(keras.ops.convert_to_numpy(lr)) if lr is not None else None
    except (TypeError, ValueError):  # a schedule: its value now is not the configured rate
        rate = None
    units = next(
        (int(layer.units) for layer in _layers(model) if type(layer).__name__ == "LSTM"), None
    )
    name = type(optimizer).__name__ if optimizer is not None else None
    return {"optimizer": name, "lr": rate, "units": units}


def _layers(model: Any) -> list[Any]:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found += _layers(layer) if hasattr(layer, "layers") else []
        inner = getattr(layer, "forward_layer", None) or getattr(layer, "layer", None)
        if inner is not None:  # Bidirectional, TimeDistributed
            found.append(inner)
    return found
