"""The doctor inside a user's own Keras script: `DoctorCallback` for `fit(callbacks=[...])`,
`autolog()` to patch `keras.Model.fit`, and `prove()` to test a fix over seeds.

Keras loads only when one of them is used (`lstm_doctor.keras.DoctorCallback` on first
access), so importing lstm_doctor stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DoctorCallback", "autolog", "prove"]


def __getattr__(name: str) -> Any:
    if name == "DoctorCallback":
        from lstm_doctor.keras.callback import DoctorCallback

        return DoctorCallback
    if name == "autolog":
        from lstm_doctor.keras.patching import autolog

        return autolog
    if name == "prove":
        from lstm_doctor.keras.proving import prove

        return prove
    raise AttributeError(f"module 'lstm_doctor.keras' has no attribute {name!r}")
