"""lstm-doctor: find out why an LSTM will not learn, and prove the fix."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def autolog(out_dir: str | None = None) -> None:
    """Diagnose every `keras.Model.fit` from now on (see lstm_doctor.keras.patching).

    Keras loads here, when called, never at `import lstm_doctor`.
    """
    from lstm_doctor.keras.patching import autolog as patch

    patch(out_dir=out_dir)


def __getattr__(name: str) -> Any:
    if name == "DoctorCallback":
        from lstm_doctor.keras.callback import DoctorCallback

        return DoctorCallback
    raise AttributeError(f"module 'lstm_doctor' has no attribute {name!r}")
