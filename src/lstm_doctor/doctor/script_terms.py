"""The doctor's prescriptions said in a user's own Keras terms.

The checks prescribe this project's overrides (`optimizer.lr=0.001`, `scaling=standard`);
a user's own script has no such keys. Each override is said as the Keras code or the plain
step that does the same (`keras.optimizers.Adam(learning_rate=0.001)`, `LSTM(64)`); an
override with no counterpart in a script is dropped rather than shown.
"""

from __future__ import annotations

from dataclasses import dataclass

STANDARDISE = (
    "standardise each feature with statistics of the training windows only: "
    "mean = x_train.mean(axis=(0, 1)); std = x_train.std(axis=(0, 1)) + 1e-8; "
    "x = (x - mean) / std for every split"
)
EARLY_STOPPING = "keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)"


@dataclass
class ScriptTerms:
    """What a prescription needs to know of the user's script."""

    optimizer: str = "Adam"  # the Keras class name of the optimiser
    lr: float = 1e-3
    units: int | None = None  # the first LSTM layer's units


def _one(key: str, value: str, terms: ScriptTerms) -> str | None:
    """One override as the user's step, or None when a script has no counterpart."""
    group = key.split(".")[0]
    if key == "optimizer.lr":
        return f"keras.optimizers.{terms.optimizer}(learning_rate={value})"
    if key == "optimizer.clipnorm":
        return f"keras.optimizers.{terms.optimizer}(learning_rate={terms.lr:g}, clipnorm={value})"
    if key == "optimizer":
        return f"keras.optimizers.{value.capitalize()}()"
    if key == "scaling" and value in ("standard", "robust", "minmax"):
        return STANDARDISE
    if key == "model.units":
        return f"LSTM({value})"
    if key == "model.layers":
        return f"stack {value} LSTM layers: LSTM({terms.units or 32}, return_sequences=True), ..."
    if key in ("model.activation", "model.recurrent_activation"):
        return f"LSTM(..., {key.split('.')[1]}='{value}')"
    if key in ("model.dropout", "model.recurrent_dropout"):
        return f"LSTM(..., {key.split('.')[1]}={value})"
    if key in ("model.kernel_initializer", "model.recurrent_initializer"):
        return f"LSTM(..., {key.split('.')[1]}='{value}')"
    if key == "training.epochs":
        return f"model.fit(..., epochs={value})"
    if key == "training.batch_size":
        return f"model.fit(..., batch_size={value})"
    if key == "training.class_weight":
        return "model.fit(..., class_weight={c: len(y) / (n_classes * count_c) for each class c})"
    if key.startswith("training.early_stopping"):
        return f"model.fit(..., callbacks=[{EARLY_STOPPING}])"
    if key == "window.length":
        return f"windows of {value} steps (they then see one season back)"
    if key == "window.normalize":
        return (
            "forecast each window's change from its last value: subtract the target's last "
            "input value from the window and its target, add it back to the prediction"
        )
    if key == "prepare.missing":
        return (
            "replace or drop NaN and inf before fit (interpolate the series, or drop those windows)"
        )
    if key == "prepare.outliers":
        return "clip the spikes to a few robust standard deviations before windowing"
    if group in ("split", "dataset"):
        return "more training windows: a longer series, or a smaller validation share"
    return None


def in_script_terms(fix: str, terms: ScriptTerms) -> str | None:
    """A fix (one or more overrides) as the user's steps joined by '; ', or None."""
    if "=" not in fix:  # already a plain step (the script checks' own prescriptions)
        return fix
    said = []
    for part in fix.split():
        key, _, value = part.partition("=")
        step = _one(key, value, terms)
        if step is None:
            return None
        if step not in said:
            said.append(step)
    return "; ".join(said) or None


def translate(fixes: list[str], terms: ScriptTerms) -> list[str]:
    """Each fix in the user's terms, untranslatable ones dropped, repeats removed."""
    out: list[str] = []
    for fix in fixes:
        said = in_script_terms(fix, terms)
        if said and said not in out:
            out.append(said)
    return out
