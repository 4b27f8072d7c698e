"""Where conf/ is, where each stage reads and writes, and writing a stage's output folder
all-or-nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

# The files the stages write, named once: stages, the pipeline, the doctor and the commands
# all read and write them through these names (tests/unit/test_architecture.py holds every other
# module to it).
PREPARED_TABLE = "table.parquet"  # prepared/: the regular, time-indexed table (forecasts)
SEQUENCES = "sequences.npz"  # prepared/ and scaled/: labelled sequences (classifiers)
PREPARE_REPORT = "report.json"  # prepared/: what preparation changed
SCALED_SERIES = "series.npz"  # scaled/: the scaled series
META = "meta.json"  # scaled/ and windows/: bounds, scaler statistics; window settings
WINDOW_STARTS = "windows.npz"  # windows/: the start offsets per split
MODEL_FILE = "model.keras"  # models/
HISTORY_FILE = "history.csv"  # models/: the per-epoch curves
MONITORS_FILE = "monitors.csv"  # models/: the gradient monitor, per epoch
RUN_FILE = "run.json"  # models/: the MLflow run that trained the model
CURVES_FILE = "curves.csv"  # reports/: the curves for `dvc plots`
PREDICTIONS_FILE = "predictions.csv"  # reports/: the test span, one step ahead
DIAGNOSIS_JSON = "diagnosis.json"  # reports/ (and the run's artifacts): the diagnosis
DIAGNOSIS_MD = "diagnosis.md"
DIAGNOSIS_HTML = "diagnosis.html"
# The target as observed (before outlier handling), written by prepare when outliers are
# handled: models learn from clipped values but are scored against what was observed.
OBSERVED_TARGET = "observed_target.parquet"
# What evaluate writes: the few numbers runs are compared on (DVC metrics), and everything.
METRICS_FILE = "metrics.json"
EVALUATION_FILE = "evaluation.json"
# Every validation and test target evaluate scored, with each answer (stages/targets.py):
# proofs score runs on the targets they share.
TARGETS_FILE = "targets.parquet"
# In models/: the batch and patience train resolved from the data's size (config.sizing).
FIT_SIZES = "fit_sizes.json"
# Per row of prepared/table.parquet (same time index), a boolean column "observed": True
# where the raw file held the target, False where prepare inserted or filled it. Written
# by prepare for every forecast; scores count only the observed rows.
TARGET_OBSERVED = "target_observed.parquet"


def conf_dir() -> Path:
    """conf/ to compose: $LSTM_DOCTOR_CONF, else ./conf (the project being run), else the copy
    installed with the package, else the source tree's (a checkout run without installing)."""
    if os.environ.get("LSTM_DOCTOR_CONF"):
        return Path(os.environ["LSTM_DOCTOR_CONF"]).resolve()
    local = Path.cwd() / "conf"
    if (local / "config.yaml").is_file():
        return local
    # src/lstm_doctor/base/workspace.py -> the checkout (three folders up) -> conf/
    return packaged_conf_dir() or Path(__file__).resolve().parents[3] / "conf"


def packaged_conf_dir() -> Path | None:
    """conf/ as the wheel ships it, inside the package (lstm_doctor/conf); None in a source
    tree or an editable install, where conf/ sits beside src/ instead."""
    # Resolved through the package, not `import lstm_doctor.conf`: conf/ has no __init__.py,
    # and setuptools' editable finder cannot import a namespace package nested in ours.
    config = files("lstm_doctor") / "conf" / "config.yaml"
    # Hydra composes a folder on disk, which an installed wheel's package data is.
    path = Path(str(config))
    return path.parent if path.is_file() else None


@dataclass(frozen=True)
class StagePaths:
    """The output folder of every stage under one root.

    DVC runs use the project root (data/prepared, ..., models, reports); the Hydra app uses
    the job's output folder, so parallel sweep jobs never share files.
    """

    prepared: Path
    scaled: Path
    windows: Path
    models: Path
    reports: Path

    @classmethod
    def project(cls, root: Path | str = ".") -> StagePaths:
        """The layout dvc.yaml declares."""
        base = Path(root)
        return cls(
            prepared=base / "data" / "prepared",
            scaled=base / "data" / "scaled",
            windows=base / "data" / "windows",
            models=base / "models",
            reports=base / "reports",
        )

    @classmethod
    def job(cls, output_dir: Path | str) -> StagePaths:
        """A flat layout inside one Hydra job's folder."""
        base = Path(output_dir)
        return cls(
            prepared=base / "prepared",
            scaled=base / "scaled",
            windows=base / "windows",
            models=base / "models",
            reports=base / "reports",
        )

    def blocked(self) -> list[Path]:
        """Output folders whose place is taken by something that is not a folder (a file
        named `models`, say): checked before any work, since writing would fail only at
        the end of training."""
        folders = (self.prepared, self.scaled, self.windows, self.models, self.reports)
        return [p for p in folders if (p.exists() or p.is_symlink()) and not p.is_dir()]


@contextmanager
def atomic_dir(target: Path, merge: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder that replaces `target` only if the block succeeds.

    A stage that fails half-way leaves the previous output (or none), never a partial one
    that DVC could cache. With `merge`, only the entries written replace their namesakes
    inside `target` (reports/ also holds files that are not this stage's, e.g. .gitignore).
    """
    if (target.exists() or target.is_symlink()) and not target.is_dir():
        # Replacing a file with a folder would fail only after the block did its work.
        raise NotADirectoryError(f"{target} is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if merge:
        target.mkdir(exist_ok=True)
        for entry in tmp.iterdir():
            destination = target / entry.name
            if destination.is_dir():
                shutil.rmtree(destination)
            entry.replace(destination)
        tmp.rmdir()
        return
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)


def write_json(path: Path, payload: Any) -> None:
    """Write JSON with stable key order and a trailing newline (diff-friendly)."""
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_plain) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file written by a stage."""
    return json.loads(path.read_text())


def _plain(value: Any) -> Any:
    """Make numpy scalars and arrays JSON-serialisable."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
