"""The examples/ scripts through the doctor's callback: per script the primary causes named
and whether one is expected; recall on the sick, false alarms on the healthy controls.

    .venv/bin/python bench/users_scripts.py [--epochs-scale 1.0]   (writes nothing)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = (
    "unscaled_features", "lr_too_high", "lr_too_low", "model_too_small", "no_signal",
    "imbalanced_classifier", "shuffled_split", "overfit_small_set",
    "healthy_forecaster", "healthy_classifier",
)  # fmt: skip


def run(name: str, scale: float) -> dict:
    """One example through the callback: its expected and found primary causes."""
    import keras

    from lstm_doctor.keras import DoctorCallback

    module = importlib.import_module(name)
    keras.utils.set_random_seed(0)
    x, y, xv, yv = module.data()
    with tempfile.TemporaryDirectory() as out:
        doctor = DoctorCallback(x, y, validation_data=(xv, yv), out_dir=out)
        fit = {**module.FIT, "epochs": max(3, int(module.FIT["epochs"] * scale))}
        with contextlib.redirect_stdout(io.StringIO()):
            module.model(x.shape[1:]).fit(
                x, y, validation_data=(xv, yv), verbose=0,
                callbacks=[*module.CALLBACKS, doctor], **fit,
            )  # fmt: skip
    result = doctor.diagnosis or {}
    primary = set(result.get("primary") or [])
    return {
        "name": name,
        "expected": module.EXPECTED,
        "primary": sorted(primary),
        "verdict": result.get("verdict"),
        "hit": bool(module.EXPECTED & primary)
        if module.EXPECTED
        else result.get("verdict") == "healthy",
        "named": bool(module.EXPECTED & set(result.get("codes") or [])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    args = parser.parse_args()
    sys.path.insert(0, str(EXAMPLES))
    rows = []
    for name in SCRIPTS:
        start = time.perf_counter()
        row = run(name, args.epochs_scale)
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(f"| {name} | {', '.join(sorted(row['expected'])) or 'healthy'} | "
              f"{', '.join(row['primary']) or 'healthy'} | {'yes' if row['hit'] else 'no'} | "
              f"{row['seconds']:.0f}s |", flush=True)  # fmt: skip
    sick = [r for r in rows if r["expected"]]
    healthy = [r for r in rows if not r["expected"]]
    print(f"recall (expected cause among the codes): {sum(r['named'] for r in sick)}/{len(sick)}")
    print(f"primary cause right: {sum(r['hit'] for r in sick)}/{len(sick)}")
    print(f"false alarms on the controls: {sum(not r['hit'] for r in healthy)}/{len(healthy)}")


if __name__ == "__main__":
    main()
