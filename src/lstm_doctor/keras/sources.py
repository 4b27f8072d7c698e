"""What `lstm-doctor diagnose SOURCE` reads: a user's MLflow run (for example one that
`mlflow.keras.autolog()` logged), a Keras History saved as JSON or a CSVLogger file; the
arrays from an .npz and the model from a .keras file or an MLflow URI."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.errors import DataError, first_line
from lstm_doctor.doctor.script import ScriptRun

ARRAYS = ("x_train", "y_train", "x_val", "y_val")


def read_history(path: Path) -> pd.DataFrame:
    """Per-epoch curves from a History JSON ({"loss": [...], ...}, History.history under
    "history", or one record an epoch as pandas writes them) or a CSVLogger CSV (an `epoch`
    column and one per metric, with whatever `separator` the logger was given)."""
    try:
        if path.suffix.lower() == ".csv":
            # CSVLogger takes a separator: a header without a comma is read with the one
            # it holds (the sniffer), a header of one column as it is.
            header = path.open(encoding="utf-8", errors="replace").readline()
            guess = "," in header or not any(c in header for c in ";\t| ")
            frame = pd.read_csv(path) if guess else pd.read_csv(path, sep=None, engine="python")
            frame = frame.drop(columns=["epoch"], errors="ignore")
        else:
            raw = json.loads(path.read_text())
            raw = raw.get("history", raw) if isinstance(raw, dict) else raw
            if isinstance(raw, list):  # records: [{"loss": ..., "val_loss": ...}, ...]
                raw = pd.DataFrame.from_records(raw).to_dict(orient="list")
            frame = pd.DataFrame({k: pd.Series(v, dtype=float) for k, v in raw.items()})
    except (ValueError, TypeError, AttributeError, OSError, csv.Error) as exc:
        first = first_line(exc)
        raise DataError(
            f"{path}: not a Keras History JSON or CSVLogger file ({first[:200]}); give "
            "json.dump(history.history) or a keras.callbacks.CSVLogger file"
        ) from None
    if "loss" not in frame:
        raise DataError(f"{path}: no 'loss' curve (columns: {', '.join(frame.columns)})")
    return frame.reset_index(drop=True)


def read_arrays(path: Path) -> dict[str, np.ndarray | None]:
    """x_train, y_train and optionally x_val, y_val (x_test, y_test when no validation).

    Raises:
        DataError: a missing file or key, or arrays whose lengths disagree.
    """
    if not path.exists():
        raise DataError(f"--data {path}: no such file")
    how = "save them with np.savez(path, x_train=..., y_train=..., x_val=..., y_val=...)"
    try:
        found = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):  # numpy's words guess at pickles
        raise DataError(f"--data {path}: not a NumPy .npz of arrays; {how}") from None
    if not isinstance(found, np.lib.npyio.NpzFile):
        raise DataError(f"--data {path}: one array, not a .npz of named arrays; {how}")
    with found:
        arrays = {k: found[k] for k in found.files}
    if "x_train" not in arrays or "y_train" not in arrays:
        raise DataError(f"--data {path}: needs x_train and y_train (has {sorted(arrays)})")
    if "x_val" not in arrays and "x_test" in arrays:
        arrays["x_val"], arrays["y_val"] = arrays["x_test"], arrays.get("y_test")
    for split in ("train", "val"):
        x, y = arrays.get(f"x_{split}"), arrays.get(f"y_{split}")
        if (x is None) != (y is None) or (x is not None and len(x) != len(y)):  # type: ignore[arg-type]
            raise DataError(
                f"--data {path}: x_{split} and y_{split} disagree "
                f"({'missing' if x is None or y is None else f'{len(x)} vs {len(y)} samples'})"
            )
    return {k: arrays.get(k) for k in ARRAYS}


def _number(params: dict[str, str], *keys: str) -> float | None:
    for key in keys:
        try:
            return float(params[key])
        except (KeyError, ValueError):
            continue
    return None


def run_facts(params: dict[str, str]) -> dict[str, Any]:
    """Batch size, epochs and the optimiser from the params Keras' autolog logs (`opt_` in
    the older tf.keras flavour; a batch size of None is Keras' default 32)."""
    batch = _number(params, "batch_size")
    epochs = _number(params, "epochs")
    name = params.get("optimizer_name") or params.get("opt_name")
    return {
        "batch_size": int(batch) if batch else 32,
        "epochs": int(epochs) if epochs else None,
        "optimizer": name.capitalize() if name and name.islower() else name,
        "lr": _number(params, "optimizer_learning_rate", "opt_learning_rate", "opt_lr"),
    }


def load_model(where: str) -> Any:
    """A Keras model from a .keras/.h5 file, or from an MLflow URI (runs:/, models:/)."""
    if Path(where).exists():
        import warnings

        import keras

        with warnings.catch_warnings():
            # A model saved before its first fit has an optimizer with no state yet: nothing
            # is lost, as every reader here uses the weights (and prove the optimizer's config).
            warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
            try:
                return keras.models.load_model(where)
            except (ValueError, OSError, TypeError) as exc:
                raise DataError(
                    f"--model {where}: Keras cannot load it ({first_line(exc)[:160]}); give a "
                    "model saved with model.save('model.keras'), or an MLflow model URI"
                ) from None
    if ":/" in where:
        from lstm_doctor.tracking.script_runs import load_model as from_mlflow

        return from_mlflow(where)
    raise DataError(f"--model {where}: no such file, and not an MLflow model URI")


def script_run(
    source: str, data: Path | None, model_at: str | None, hints: dict[str, Any]
) -> tuple[ScriptRun, str | None]:
    """The ScriptRun SOURCE (a run id or a history file) and the options describe, and the
    MLflow run id when SOURCE is one."""
    run_id, facts = None, {}
    if Path(source).exists():
        history = read_history(Path(source))
    elif Path(source).suffix.lower() in (".json", ".csv"):
        raise DataError(f"{source}: no such file")
    else:
        from lstm_doctor.tracking.script_runs import read_run

        history, params = read_run(source)
        run_id, facts = source, run_facts(params)
    arrays = read_arrays(data) if data else {}
    predicted, extra = None, {}
    if model_at:
        from lstm_doctor.keras.facts import optimizer_and_units, task_from_loss

        model = load_model(model_at)
        extra = {k: v for k, v in optimizer_and_units(model).items() if v is not None}
        extra["task"] = hints.get("task") or task_from_loss(model)
        if arrays.get("x_val") is not None:
            predicted = model.predict(arrays["x_val"], verbose=0)
        from lstm_doctor.keras.facts import seen_inputs

        seen = seen_inputs(model, arrays.get("x_train"))
        if seen:
            extra["x_seen"], extra["scaled_by"] = seen
    merged = {**extra, **{k: v for k, v in facts.items() if v is not None}}
    merged["task"] = hints.get("task") or merged.get("task")
    run = ScriptRun(
        history=history,
        **{k: arrays.get(k) for k in ARRAYS},
        predicted=predicted,
        target_index=hints.get("target_index"),
        season=hints.get("season"),
        mlflow_run_id=run_id,
        **merged,
    )
    return run, run_id
