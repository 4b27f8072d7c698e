"""`prove(model, x, y, validation_data=..., changes=[...])`: is a prescribed change to a
user's own model better beyond seed noise? The model is cloned (its architecture, fresh
weights), recompiled with and without each change and refitted over seeds; each change's
best validation loss is judged against the original's by Welch's test, Holm-adjusted over
the changes, as `lstm-doctor fix` judges a pipeline's fixes (comparison.significance).

Every change and count is checked before the first fit. With an MLflow store set
(MLFLOW_TRACKING_URI, `mlflow.set_tracking_uri` or an active run) each fit is a run nested
under one parent run named "prove"; without one nothing is logged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_doctor.base.errors import ConfigError, DataError, first_line
from lstm_doctor.comparison.judging import spread, verdict_against
from lstm_doctor.comparison.significance import holm, welch_p

if TYPE_CHECKING:
    import keras

FIT_KEYS = ("epochs", "batch_size")
FORMS = "optimizer.<key>=value, epochs=N or batch_size=N"


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def check_counts(counts: dict[str, Any]) -> None:
    """Refuse a count below 1, each named as the caller says it (`seeds` or `--seeds`).

    Raises:
        ConfigError: naming the count and what to give instead.
    """
    # One seed runs (a quick look), but no verdict on noise can come of it, as in `fix`.
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ConfigError(f"{name} {value!r}: give a whole number of at least 1")


def check_changes(changes: list[str]) -> None:
    """Refuse what no model could take: no change, a change not written `key=value`, a key
    prove cannot apply, or a fit count that is not a whole number of at least 1.

    Raises:
        ConfigError: naming the change and the forms prove takes.
    """
    if not changes:
        raise ConfigError(f"no change to prove: give one or more of {FORMS}")
    for change in changes:
        key, equals, value = change.partition("=")
        if not equals or not key or not value:
            raise ConfigError(f"cannot apply '{change}': write it as {FORMS}")
        number = _value(value)
        if key in FIT_KEYS:
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise ConfigError(f"cannot apply '{change}': {key} takes a whole number ≥ 1")
        elif not key.startswith("optimizer.") or key == "optimizer.":
            raise ConfigError(f"cannot apply '{change}': prove takes {FORMS}")


def _check_model(model: keras.Model, changes: list[str], build_fn: Any) -> None:
    """Refuse, before any fit, a model prove cannot copy or recompile and an optimizer key
    (or value) its optimizer does not take."""
    import keras

    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise DataError(
            "the model is not compiled: compile it with its optimizer and loss (prove "
            "recompiles each copy the same way, but for the change)"
        )
    if build_fn is None:
        _variant(model, None, None)  # a subclassed model is refused here, in one line
    optimizer = keras.optimizers.serialize(model.optimizer)
    for change in changes:
        key, _, text = change.partition("=")
        if not key.startswith("optimizer."):
            continue
        name = key.removeprefix("optimizer.")
        config = optimizer["config"]
        if name not in config:
            raise ConfigError(
                f"cannot apply '{change}': {optimizer['class_name']} has no '{name}' "
                f"(its keys: {', '.join(sorted(k for k in config if k != 'name'))})"
            )
        value, old = _value(text), config[name]
        numeric = (int, float)
        mismatched = (isinstance(old, bool) and not isinstance(value, bool)) or (
            isinstance(old, numeric)
            and not isinstance(old, bool)
            and (isinstance(value, bool) or not isinstance(value, numeric))
        )
        if mismatched:
            raise ConfigError(f"cannot apply '{change}': {name} takes a {type(old).__name__}")
        try:
            keras.optimizers.deserialize(_changed(optimizer, change))
        except Exception as exc:
            raise ConfigError(f"cannot apply '{change}': {first_line(exc)[:200]}") from None


def _changed(optimizer: dict[str, Any], change: str | None) -> dict[str, Any]:
    """The serialized optimizer with an `optimizer.<key>=value` change applied."""
    key, _, value = (change or "").partition("=")
    config = dict(optimizer["config"])
    if key.startswith("optimizer."):
        config[key.removeprefix("optimizer.")] = _value(value)
    return {**optimizer, "config": config}


def _variant(model: keras.Model, change: str | None, build_fn: Callable[[], Any] | None) -> Any:
    """A fresh copy of the model, compiled as the original was but for the change."""
    import keras

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
        _keep_adapted_state(model, clone)
    optimizer = _changed(keras.optimizers.serialize(model.optimizer), change)
    # The loss is what the verdict judges; the original's metrics are not needed for it.
    clone.compile(optimizer=keras.optimizers.deserialize(optimizer), loss=model.loss)
    return clone


def _keep_adapted_state(model: keras.Model, clone: keras.Model) -> None:
    """A clone is built from the model's config, which leaves out what a preprocessing layer
    learned from the data (an adapted Normalization's mean and variance): copied over, so
    every variant sees its inputs as the original did. Learned weights stay fresh."""
    import keras

    for original, copy in zip(model.layers, clone.layers, strict=False):
        if isinstance(original, keras.layers.Normalization) and original.get_weights():
            copy.set_weights(original.get_weights())


def _store_set() -> bool:
    """Whether the user set an MLflow store: MLFLOW_TRACKING_URI, `mlflow.set_tracking_uri`
    or an active run (MLflow is not loaded to ask when the script never loaded it)."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return True
    if "mlflow" not in sys.modules:
        return False
    from lstm_doctor.tracking.script_runs import store_set

    return store_set()


@contextmanager
def _no_run(name: str, **_: Any) -> Iterator[None]:
    yield None


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
    validation losses, `mean ± sd`, verdict, p (Holm-adjusted over the changes) and p_raw.
    Prints one line for each.

    Raises:
        ConfigError: a count below 1 or a change the model cannot take (before any fit).
        DataError: no validation data, a model that is not compiled, or a subclassed one
            without build_fn.
    """
    import keras

    check_counts({"seeds": seeds, "epochs": epochs, "batch_size": batch_size})
    check_changes(changes)
    if not isinstance(validation_data, tuple | list) or len(validation_data) < 2:
        raise DataError(
            "validation_data=(x_val, y_val) is needed: each change is judged on its best "
            "validation loss"
        )
    _check_model(model, changes, build_fn)
    runs: Any = None
    if _store_set():
        from lstm_doctor.tracking import script_runs

        script_runs.check_active_store()  # a store that cannot be written: refused here
        runs = script_runs
    opened = runs.opened if runs else _no_run
    settings = {"seeds": seeds, "epochs": epochs, "batch_size": batch_size}
    tags = {"kind": "prove", "prove.changes": " | ".join(changes)}
    from lstm_doctor.keras.patching import paused

    with opened("prove", params=settings, tags=tags) as parent, paused():
        if parent:
            print(f"prove: {len(changes)} change(s) x {seeds} seeds, each fit an MLflow run "
                  f"under the parent run {parent}")  # fmt: skip
        results = []
        for change in [None, *changes]:
            name = change or "original"
            key, _, value = (change or "").partition("=")
            fit_args = {"epochs": epochs, "batch_size": batch_size}
            if key in FIT_KEYS:
                fit_args[key] = int(value)
            best = []
            for seed in range(seeds):
                params = {"change": name, "seed": seed, **fit_args}
                with opened(f"{name} seed {seed}", params=params, tags={"change": name}):
                    keras.utils.set_random_seed(seed)
                    clone = _variant(model, change, build_fn)
                    callbacks = [runs.epoch_callback()] if runs else []
                    history = clone.fit(
                        x, y, validation_data=validation_data, verbose=0, callbacks=callbacks,
                        **fit_args,
                    ).history  # fmt: skip
                    best.append(float(np.nanmin(history["val_loss"])))
                    if runs:
                        runs.log_metrics({"best_val_loss": best[-1]})
            results.append({"name": name, "best_val_loss": best})
        _judge(results)
        if runs:
            runs.set_tags(_verdict_tags(results))
    return results


def _judge(results: list[dict[str, Any]]) -> None:
    """Each change against the original, Holm-adjusted over the changes; print each line.

    No p is had from zero spread on both sides (welch_p), and none counts in the family.
    """
    base = results[0]["best_val_loss"]
    raw = [welch_p(r["best_val_loss"], base) for r in results[1:]]
    results[0].update(verdict="baseline", p_value=None, p_raw=None)
    for result, p_raw, p in zip(results[1:], raw, holm(raw), strict=True):
        values = result["best_val_loss"]
        verdict, _, _ = verdict_against(values, base, True, True, False, p)
        result.update(verdict=verdict, p_value=p, p_raw=p_raw)
    for result in results:
        result["spread"] = spread(result["best_val_loss"])
        p = _p(result, len(results) - 1)
        line = f"{result['name']:<40} best val_loss {result['spread']}  {result['verdict']}"
        print(f"{line}  {p}" if p else line)


def _verdict_tags(results: list[dict[str, Any]]) -> dict[str, str]:
    """The parent run's tags: each change's verdict (one line a change) and those better."""
    said = [(r, _p(r, len(results) - 1)) for r in results[1:]]
    lines = [f"{r['name']}: {r['verdict']}" + (f" ({p})" if p else "") for r, p in said]
    better = [r["name"] for r in results[1:] if r["verdict"].startswith("better")]
    return {"prove.verdicts": "\n".join(lines), "prove.better": " | ".join(better) or "none"}


def _p(result: dict[str, Any], changes: int) -> str:
    """The p a verdict stands on, said Holm's where it was adjusted for other changes."""
    if result["p_value"] is None:
        return ""
    return f"{'Holm p' if changes > 1 else 'p'}={result['p_value']:.3g}"
