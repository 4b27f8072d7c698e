"""lstm-doctor: find out why an LSTM will not learn, and prove the fix."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# The adapter for users' own scripts, loaded by name when first used: every module of the
# package loads this file, and neither Keras nor the adapter belongs to what the pipeline's
# stages load (`lstm-doctor --help` and DVC's stage dependencies stay as they were).
KERAS_ADAPTER = "lstm_doctor.keras"


def autolog(out_dir: str | None = None) -> None:
    """Diagnose every `keras.Model.fit` from now on (see lstm_doctor.keras.patching).

    Keras loads here, when called, never at `import lstm_doctor`.
    """
    import_module(f"{KERAS_ADAPTER}.patching").autolog(out_dir=out_dir)


def __getattr__(name: str) -> Any:
    if name == "DoctorCallback":
        return import_module(f"{KERAS_ADAPTER}.callback").DoctorCallback
    raise AttributeError(f"module 'lstm_doctor' has no attribute {name!r}")
