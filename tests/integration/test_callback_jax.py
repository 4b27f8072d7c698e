"""DoctorCallback on Keras' JAX backend (TensorFlow is the tested one): a user's tiny script
run in its own process with KERAS_BACKEND=jax writes its diagnosis, the curves and the
optimiser's step (weight snapshots, any backend) are read, and the gradient probe,
TensorFlow-only here, is listed as not assessed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
import numpy as np, keras
from lstm_doctor.keras import DoctorCallback

rng = np.random.default_rng(0)
x, xv = (rng.normal(size=(n, 8, 1)).astype("float32") for n in (96, 32))
y, yv = x[:, -1, :] * 0.5, xv[:, -1, :] * 0.5
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
model.compile(keras.optimizers.Adam(1e-3), "mse")
doctor = DoctorCallback(x, y, validation_data=(xv, yv), out_dir="out")
model.fit(x, y, validation_data=(xv, yv), epochs=3, batch_size=32, verbose=0,
          callbacks=[doctor])
steps = sorted({k for r in doctor.records for k in r if k.startswith("step_ratio/")})
print(json.dumps({"backend": keras.backend.backend(), "epochs": len(doctor.epochs),
                  "steps": steps, "probe": [r.get("probe_loss") for r in doctor.records]}))
"""


def test_the_callback_diagnoses_a_fit_on_jax(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "lstm-doctor:" not in done.stderr  # the callback's own failures are warned so
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["backend"] == "jax" and seen["epochs"] == 3
    assert seen["steps"], "the update/weight ratio was not measured"
    assert all(isinstance(p, float) for p in seen["probe"])
    diagnosis = json.loads((tmp_path / "out" / "diagnosis.json").read_text())
    assert diagnosis["verdict"] in ("healthy", "sick") and diagnosis["source"] == "script"
    missing = diagnosis["not_assessed"]
    assert "the gradient probe (exploding, vanishing)" in missing
    # The curves, the validation curve and the live step were all read on JAX.
    assert "the optimiser's step (update/weight ratio)" not in missing
    assert "overfitting and the validation curve" not in missing
    assert (tmp_path / "out" / "diagnosis.md").exists()
    assert (tmp_path / "out" / "diagnosis.html").exists()
