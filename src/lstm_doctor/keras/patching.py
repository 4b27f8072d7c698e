"""`lstm_doctor.autolog()`: patch `keras.Model.fit` so every fit is diagnosed, with the
arrays, the validation data or split, the batch size and the epochs it was called with.

Works with `mlflow.keras.autolog()` in either order: both wrap whatever `fit` is at the
time, and each passes the callbacks list on with its own callback added.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keras

from lstm_doctor.keras.callback import DoctorCallback
from lstm_doctor.keras.finish import new_folder

_state: dict[str, Any] = {"original": None, "out_dir": None, "paused": False}


@contextmanager
def paused() -> Iterator[None]:
    """Fits the doctor makes itself (prove's refits over seeds) are not diagnosed one by one
    when the user's script turned autolog on: the proof's verdict is their diagnosis."""
    before, _state["paused"] = _state["paused"], True
    try:
        yield
    finally:
        _state["paused"] = before


def _arrays(value: Any) -> Any:
    """Arrays the doctor can read (a tf.data pipeline or a generator is not one)."""
    return value if hasattr(value, "shape") and hasattr(value, "__len__") else None


def _doctor_for(bound: inspect.BoundArguments) -> DoctorCallback:
    args = bound.arguments
    kwargs = args.get("kwargs", {})
    get = lambda name, default=None: args.get(name, kwargs.get(name, default))  # noqa: E731
    validation = get("validation_data")
    if validation is not None and not all(_arrays(v) is not None for v in tuple(validation)[:2]):
        validation = None
    doctor = DoctorCallback(
        _arrays(get("x")),
        _arrays(get("y")),
        validation_data=validation,
        validation_split=get("validation_split") or None,
        # Every fit its own folder, under the one autolog was given: fits would overwrite it.
        out_dir=str(new_folder(_state["out_dir"])) if _state["out_dir"] else None,
    )
    doctor.batch_size = get("batch_size")
    doctor.early_stopping = any(
        isinstance(c, keras.callbacks.EarlyStopping) for c in get("callbacks") or []
    )
    return doctor


def autolog(out_dir: str | None = None) -> None:
    """Diagnose every later `keras.Model.fit`, each into a new folder under ./lstm-doctor/
    (or under `out_dir`); calling it again only changes `out_dir`."""
    _state["out_dir"] = out_dir
    if _state["original"] is not None:
        return
    original = keras.Model.fit
    signature = inspect.signature(original)
    # Where `callbacks` stands among fit's positional arguments after self (x, y, batch_size,
    # epochs, verbose, callbacks in Keras 3).
    at = list(signature.parameters).index("callbacks") - 1

    @functools.wraps(original)
    def fit(self: keras.Model, *args: Any, **kwargs: Any) -> Any:
        if _state["paused"]:
            return original(self, *args, **kwargs)
        callbacks = list(kwargs.get("callbacks") or [])
        try:
            bound = signature.bind(self, *args, **kwargs)
            given = bound.arguments.get("callbacks") or []
            if not any(isinstance(c, DoctorCallback) for c in given):
                callbacks = [*given, _doctor_for(bound)]
                if "callbacks" in bound.arguments and len(args) > at:
                    args = (*args[:at], callbacks, *args[at + 1 :])  # passed positionally
                else:
                    kwargs["callbacks"] = callbacks
        except Exception as exc:  # the user's fit runs whatever the doctor could not read
            warnings.warn(f"lstm-doctor: {exc}; this fit is not diagnosed", stacklevel=2)
        return original(self, *args, **kwargs)

    _state["original"] = original
    keras.Model.fit = fit
