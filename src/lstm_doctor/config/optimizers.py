"""The optimizers a run may name (`optimizer.name`), each said once: its Keras class, its
usual step and whether it takes a momentum.

Adding one is a YAML file in conf/optimizer/ and an entry here: the allowed names
(config/values), the model's optimizer (stages/train) and the steps the doctor prescribes
(doctor/steps) all read this table, and a test holds conf/optimizer/ to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Optimizer:
    """One optimizer: the `keras.optimizers` class that makes it, its usual learning rate
    (Keras' default, where the doctor sends a step orders of magnitude off back to) and
    whether `optimizer.momentum` applies."""

    keras_class: str
    usual_lr: float
    momentum: bool


OPTIMIZERS: dict[str, Optimizer] = {
    "adam": Optimizer("Adam", 1e-3, momentum=False),
    "rmsprop": Optimizer("RMSprop", 1e-3, momentum=True),
    "sgd": Optimizer("SGD", 1e-2, momentum=True),
}


def usual_lr(name: str) -> float:
    """The usual step of an optimizer by name (Adam's for a name this table lacks, such as
    an optimizer a user's own script used)."""
    return OPTIMIZERS.get(name, OPTIMIZERS["adam"]).usual_lr
