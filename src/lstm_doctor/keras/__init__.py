"""Layer 4: the doctor inside a user's own Keras script. `DoctorCallback` for
`fit(callbacks=[...])`, `autolog()` to patch `keras.Model.fit`, and `prove()` to test a fix
over seeds.

Keras loads only when one of them is used (`lstm_doctor.keras.DoctorCallback` on first
access), so importing lstm_doctor stays cheap. The modules are named by string, as the
root package names this one: the submodules import this package, and naming them here
would close a cycle.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

LAYER = 4

__all__ = ["DoctorCallback", "autolog", "prove"]

# Each public name and the module of this package that defines it.
HOMES = {"DoctorCallback": "callback", "autolog": "patching", "prove": "proving"}


def __getattr__(name: str) -> Any:
    if name in HOMES:
        return getattr(import_module(f"{__name__}.{HOMES[name]}"), name)
    raise AttributeError(f"module 'lstm_doctor.keras' has no attribute {name!r}")
