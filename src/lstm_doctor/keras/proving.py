"""`prove(model, x, y, validation_data=..., changes=[...])`: is a prescribed change to a
user's own model better beyond seed noise? The model is cloned (its architecture, fresh
weights), recompiled with and without each change and refitted over seeds; each change's
best validation loss is judged against the original's by Welch's test, as `lstm-doctor fix`
judges a pipeline's fixes (comparison.judge).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from lstm_doctor.base.errors import DataError
from lstm_doctor.comparison.judging import judge, spread

FIT_KEYS = ("epochs", "batch_size")


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def _variant(model: keras.Model, change: str | None, build_fn: Callable[[], Any] | None) -> Any:
    """A fresh copy of the model, compiled as the original was but for the change."""
    if build_fn is not None:
        clone = build_fn()
    else:
        try:
            clone = keras.models.clone_model(model)
        except Exception:  # a subclassed model cannot be cloned from its config
            raise DataError(
                f"{type(model).__name__} is a subclassed model: pass build_fn= (a function "
                "returning a new, uncompiled model) to prove a change on it"
            ) from None
    optimizer = keras.optimizers.serialize(model.optimizer)
    key, _, value = (change or "").partition("=")
    if key.startswith("optimizer."):
        optimizer["config"][key.removeprefix("optimizer.")] = _value(value)
    # The loss is what the verdict judges; the original's metrics are not needed for it.
    clone.compile(optimizer=keras.optimizers.deserialize(optimizer), loss=model.loss)
    return clone


def prove(
    model: keras.Model,
    x: Any,
    y: Any,
    validation_data: tuple[Any, Any],
    changes: list[str],
    seeds: int = 5,
    epochs: int = 10,
    batch_size: int = 32,
    build_fn: Callable[[], Any] | None = None,
) -> list[dict[str, Any]]:
    """Fit the original and each change over `seeds` seeds; judge each change.

    A change is `optimizer.<key>=value` (e.g. optimizer.learning_rate=1e-3), `epochs=N` or
    `batch_size=N`. Returns one dict per configuration (the original first): name, the best
    validation losses, `mean ± sd`, verdict and p. Prints one line for each.
    """
    results = []
    for change in [None, *changes]:
        key, _, value = (change or "").partition("=")
        fit_args = {"epochs": epochs, "batch_size": batch_size}
        if key in FIT_KEYS:
            fit_args[key] = int(value)
        elif change and not key.startswith("optimizer."):
            raise DataError(
                f"cannot apply '{change}': prove takes optimizer.<key>=value, epochs=N, "
                "batch_size=N"
            )
        best = []
        for seed in range(seeds):
            keras.utils.set_random_seed(seed)
            clone = _variant(model, change, build_fn)
            history = clone.fit(
                x, y, validation_data=validation_data, verbose=0, **fit_args
            ).history
            best.append(float(np.nanmin(history["val_loss"])))
        results.append({"name": change or "original", "best_val_loss": best})
    base = results[0]["best_val_loss"]
    for result in results:
        if result is results[0]:
            result["verdict"], result["p_value"] = "baseline", None
        else:
            result["verdict"], result["p_value"], _ = judge(result["best_val_loss"], base, False)
        result["spread"] = spread(result["best_val_loss"])
        p = "" if result["p_value"] is None else f"  p={result['p_value']:.3g}"
        print(f"{result['name']:<40} best val_loss {result['spread']}  {result['verdict']}{p}")
    return results
