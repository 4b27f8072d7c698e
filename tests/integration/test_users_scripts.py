"""A user's own Keras script served three ways, run small and real: the callback, autolog
(with mlflow.keras.autolog, in either order, against a temp SQLite store) and
`lstm-doctor diagnose` on the run MLflow logged; bad input is one line and status 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CLI = [sys.executable, "-c", "from lstm_doctor.commands.app import main; main()"]
KEYS = {"verdict", "primary", "codes", "findings", "not_assessed"}


def _example(name: str):  # returns the example script, a module
    import importlib

    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
        cwd=ROOT, timeout=300,
    )  # fmt: skip


# Every example goes through autolog and diagnose below; the callback itself, by hand, once.
@pytest.mark.parametrize(("name", "epochs"), [("unscaled_features", 4)])
def test_the_callback_names_the_cause(name: str, epochs: int, tmp_path: Path) -> None:
    import keras

    from lstm_doctor.keras import DoctorCallback

    example = _example(name)
    keras.utils.set_random_seed(0)
    x, y, xv, yv = example.data(800)
    doctor = DoctorCallback(x, y, validation_data=(xv, yv), out_dir=str(tmp_path))
    example.model(x.shape[1:]).fit(
        x, y, validation_data=(xv, yv), epochs=epochs, batch_size=64, verbose=0,
        callbacks=[doctor],
    )  # fmt: skip
    result = doctor.diagnosis
    assert result is not None and set(result) >= KEYS
    assert example.EXPECTED & set(result["primary"]), result["primary"]
    for name_ in ("diagnosis.json", "diagnosis.md", "diagnosis.html"):
        assert (tmp_path / name_).exists()
    assert json.loads((tmp_path / "diagnosis.json").read_text())["codes"] == result["codes"]
    fixes = [fix for f in result["findings"] for fix in f["fixes"]]
    # A Hydra override (optimizer.lr=0.001, scaling=standard) is not Keras code.
    override = re.compile(r"[a-z_]+(\.[a-z_]+)*=[^\s(),]+")
    assert not any(all(override.fullmatch(part) for part in fix.split()) for fix in fixes), fixes


def test_without_arrays_the_curves_and_the_step_are_still_diagnosed(tmp_path: Path) -> None:
    import keras

    from lstm_doctor.keras import DoctorCallback

    example = _example("lr_too_low")
    x, y, xv, yv = example.data(600)
    doctor = DoctorCallback(out_dir=str(tmp_path))
    example.model(x.shape[1:]).fit(
        x, y, validation_data=(xv, yv), epochs=4, verbose=0, callbacks=[doctor]
    )
    result = doctor.diagnosis
    assert "train.step_too_small" in result["codes"]
    assert any("arrays" in need for need in result["not_assessed"].values())
    assert not any("step" in check for check in result["not_assessed"])
    del keras


def test_bad_arrays_are_one_warning_and_the_fit_goes_on(tmp_path: Path) -> None:
    from lstm_doctor.keras import DoctorCallback

    example = _example("lr_too_low")
    x, y, xv, yv = example.data(600)
    with pytest.warns(UserWarning, match="disagree"):
        doctor = DoctorCallback(x, y[:-5], validation_data=(xv, yv), out_dir=str(tmp_path))
    history = example.model(x.shape[1:]).fit(x, y, epochs=2, verbose=0, callbacks=[doctor])
    assert len(history.history["loss"]) == 2
    assert doctor.diagnosis is not None


AUTOLOG = """
import sys, numpy as np, keras, mlflow
sys.path.insert(0, {examples!r})
import lstm_doctor, unscaled_features as ex
mlflow.set_tracking_uri({uri!r})
if {ours_first}:
    lstm_doctor.autolog(out_dir={out!r}); mlflow.keras.autolog(log_models=False)
else:
    mlflow.keras.autolog(log_models=False); lstm_doctor.autolog(out_dir={out!r})
x, y, xv, yv = ex.data(800)
ex.model(x.shape[1:]).fit(x, y, epochs=4, batch_size=64, validation_split=0.2, verbose=0)
print("RUN", mlflow.last_active_run().info.run_id)
np.savez({npz!r}, x_train=x, y_train=y, x_val=xv, y_val=yv)
"""


# lstm_doctor.autolog() first, then MLflow's, and `diagnose` on the run: every example below.
@pytest.mark.parametrize("ours_first", [False])
def test_autolog_beside_mlflow_autolog_then_diagnose_the_run(
    ours_first: bool, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    npz = tmp_path / "arrays.npz"
    code = AUTOLOG.format(
        examples=str(EXAMPLES), uri=uri, ours_first=ours_first, out=str(tmp_path / "auto"),
        npz=str(npz),
    )  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "diagnosis: data.unscaled_features" in done.stdout
    run_id = done.stdout.split("RUN ")[1].split()[0]
    import mlflow

    client = mlflow.tracking.MlflowClient(uri)
    tags = client.get_run(run_id).data.tags
    assert tags["diagnosis.primary"] == "data.unscaled_features"
    if ours_first:  # the command on the same run, from the curves and the arrays
        out = tmp_path / "cmd"
        cmd = _cli("diagnose", run_id, "--data", str(npz), "--out", str(out),
                   env={"MLFLOW_TRACKING_URI": uri})  # fmt: skip
        assert cmd.returncode == 0, cmd.stderr[-2000:]
        result = json.loads((out / "diagnosis.json").read_text())
        assert "data.unscaled_features" in result["primary"]
        assert "diagnosis.md" in {a.path for a in client.list_artifacts(run_id)}


def test_diagnose_a_history_json_and_a_csvlogger_file(tmp_path: Path) -> None:
    loss = [1.0, 0.5, 3.0, 0.4, 5.0, 0.3, 9.0, 0.5, 20.0, 1.0]
    (tmp_path / "h.json").write_text(json.dumps({"loss": loss, "val_loss": loss}))
    done = _cli("diagnose", str(tmp_path / "h.json"), "--out", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    assert "train.oscillating" in done.stdout
    rows = "epoch,loss,val_loss\n" + "".join(f"{i},{v},{v}\n" for i, v in enumerate(loss))
    (tmp_path / "log.csv").write_text(rows)
    done = _cli("diagnose", str(tmp_path / "log.csv"), "--out", str(tmp_path / "b"))
    assert done.returncode == 0 and "train.oscillating" in done.stdout


def test_bad_input_to_diagnose_is_one_line_and_status_2(tmp_path: Path) -> None:
    (tmp_path / "h.json").write_text(json.dumps({"accuracy": [0.5, 0.6]}))
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((5, 3, 1)), y_train=np.zeros(4))
    (tmp_path / "ok.json").write_text(json.dumps({"loss": [1.0, 0.9, 0.8]}))
    (tmp_path / "text.npz").write_text("not numpy")
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "broken.json").write_text("{not json")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    for args in (
        [str(tmp_path / "h.json")],
        [str(tmp_path / "broken.json")],
        ["0123456789abcdef0123456789abcdef"],
        [str(tmp_path / "ok.json"), "--data", str(tmp_path / "bad.npz")],
        [str(tmp_path / "ok.json"), "--data", str(tmp_path / "text.npz")],
        [str(tmp_path / "ok.json"), "--data", str(tmp_path / "one.npy")],
        [str(tmp_path / "ok.json"), "--model", str(tmp_path / "broken.json")],
        [str(tmp_path / "ok.json"), "--model", "runs:/0123456789abcdef/model"],
    ):
        done = _cli("diagnose", *args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert not (tmp_path / "mlflow.db").exists(), args  # no store made by a refusal


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # CSVLogger(separator=";")
        ("semicolons.csv", "epoch;loss;val_loss\n0;1.0;1.1\n1;0.8;0.9\n2;0.7;0.85\n"),
        # pandas' DataFrame(history.history).to_json(orient="records")
        ("records.json", json.dumps([{"loss": v, "val_loss": v + 0.1} for v in (1.0, 0.8, 0.7)])),
        # DataFrame(history.history).to_json(): {"loss": {"0": ..., "1": ...}}
        ("columns.json", json.dumps({"loss": {"0": 1.0, "1": 0.8, "2": 0.7}})),
    ],
)
def test_diagnose_reads_the_other_ways_a_history_is_saved(
    name: str, text: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_text(text)
    done = _cli("diagnose", str(tmp_path / name), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr[-1500:]
    diagnosis = json.loads((tmp_path / "out" / "diagnosis.json").read_text())
    assert diagnosis["verdict"] in ("healthy", "sick")


def test_importing_lstm_doctor_loads_no_keras() -> None:
    code = "import sys, lstm_doctor; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"]


def test_prove_judges_a_change_over_seeds() -> None:
    import keras

    from lstm_doctor.keras import prove

    example = _example("lr_too_high")
    x, y, xv, yv = example.data(500)
    model = example.model(x.shape[1:])
    model.build((None, *x.shape[1:]))
    results = prove(model, x, y, (xv, yv), ["optimizer.learning_rate=0.003"], seeds=2, epochs=2)
    assert [r["name"] for r in results] == ["original", "optimizer.learning_rate=0.003"]
    assert results[1]["verdict"] and len(results[1]["best_val_loss"]) == 2
    del keras


def test_a_classifier_without_an_accuracy_metric_is_judged_on_its_answers(tmp_path: Path) -> None:
    """The doctor measures the validation accuracy the fit did not log, and it is Keras' own
    (the validation set fits in the doctor's probe here, so the two must agree exactly)."""
    import keras

    from lstm_doctor.keras import DoctorCallback

    healthy = _example("healthy_classifier")
    x, y = healthy.sequences(160, 0)
    xv, yv = healthy.sequences(64, 1)
    logged = {}
    for metrics in ([], ["accuracy"]):
        keras.utils.set_random_seed(0)
        net = keras.Sequential(
            [keras.Input(x.shape[1:]), keras.layers.LSTM(4), keras.layers.Dense(2, "softmax")]
        )
        net.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
        doctor = DoctorCallback(
            x, y, validation_data=(xv, yv), out_dir=str(tmp_path / str(metrics))
        )
        history = net.fit(x, y, validation_data=(xv, yv), epochs=3, batch_size=32, verbose=0,
                          callbacks=[doctor], shuffle=False)  # fmt: skip
        logged[bool(metrics)] = (doctor.epochs, history.history)
    measured = [e["val_accuracy"] for e in logged[False][0]]
    assert "val_accuracy" not in logged[False][1]  # the fit itself logged none
    assert measured == pytest.approx(logged[True][1]["val_accuracy"], abs=1e-6)
    assert [e["val_accuracy"] for e in logged[True][0]] == pytest.approx(measured, abs=1e-6)


def _binary_sigmoid_with_flat_labels():  # (model, fit arguments)
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 2)).astype("float32")
    labels = (x[:, -1, 0] > 0).astype(int)  # shape (64,) for an output of shape (64, 1)
    model = keras.Sequential(
        [keras.Input((8, 2)), keras.layers.LSTM(4), keras.layers.Dense(1, "sigmoid")]
    )
    model.compile("adam", "binary_crossentropy")
    return model, {"x": x, "y": labels, "validation_split": 0.25}


def _two_inputs():
    import keras

    rng = np.random.default_rng(0)
    a, b = keras.Input((8, 2)), keras.Input((8, 2))  # same shapes: numpy would stack them
    out = keras.layers.Dense(1)(keras.layers.LSTM(4)(keras.layers.Concatenate()([a, b])))
    model = keras.Model([a, b], out)
    model.compile("adam", "mse")
    xa, xb = (rng.normal(size=(64, 8, 2)).astype("float32") for _ in range(2))
    return model, {"x": [xa, xb], "y": xa[:, -1, :1], "validation_split": 0.25}


def _tf_data():
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 2)).astype("float32")
    model = keras.Sequential([keras.Input((8, 2)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    batches = tf.data.Dataset.from_tensor_slices((x, x[:, -1, :1])).batch(16)
    return model, {"x": batches, "validation_data": batches}


@pytest.mark.parametrize(
    ("script", "warned"),
    [
        (_binary_sigmoid_with_flat_labels, None),
        (_two_inputs, "x holds several arrays"),
        (_tf_data, None),
    ],
)
def test_scripts_of_other_shapes_are_diagnosed_as_far_as_the_evidence_goes(
    script, warned: str | None, tmp_path: Path
) -> None:
    import warnings

    from lstm_doctor.keras import DoctorCallback

    model, fit = script()
    arrays = {k: fit[k] for k in ("x", "y") if k in fit and isinstance(fit[k], (list, np.ndarray))}
    if "validation_split" in fit:
        arrays["validation_split"] = fit["validation_split"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doctor = DoctorCallback(arrays.get("x"), arrays.get("y"), out_dir=str(tmp_path),
                                validation_split=arrays.get("validation_split"))  # fmt: skip
        model.fit(**fit, epochs=2, verbose=0, callbacks=[doctor])
    said = [str(w.message) for w in caught if "lstm-doctor" in str(w.message)]
    assert len(said) == (0 if warned is None else 1), said
    if warned:
        assert warned in said[0] and "the fit goes on" in said[0]
    assert doctor.diagnosis is not None and doctor.diagnosis["verdict"] in ("healthy", "sick")
    assert (tmp_path / "diagnosis.json").exists()


def test_autolog_reads_fits_called_positionally_and_gives_each_its_folder(tmp_path: Path) -> None:
    """fit(x, y, 16, 2, 0, [callback]): the doctor joins the callbacks where they stand (it
    once replaced `verbose` with them, and was left out); two fits, two folders."""
    script = f"""
import numpy as np, keras, lstm_doctor
lstm_doctor.autolog(out_dir={str(tmp_path / "doctor")!r})
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 6, 2)).astype("float32")
model = keras.Sequential([keras.Input((6, 2)), keras.layers.LSTM(4), keras.layers.Dense(1)])
model.compile("adam", "mse")
model.fit(x, x[:, -1, :1], 16, 2, 0, [keras.callbacks.TerminateOnNaN()])
model.fit(x, x[:, -1, :1], 16, 2, 0)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Epoch 1/2" not in result.stdout  # verbose=0 was honoured
    assert len(list((tmp_path / "doctor").glob("*/diagnosis.json"))) == 2


@pytest.mark.parametrize(
    ("first", "flagged"),
    [(None, True), ("normalization", False), ("rescaling", True)],
)
def test_scales_are_judged_as_the_lstm_receives_them(
    first: str | None, flagged: bool, tmp_path: Path
) -> None:
    """Features a thousandfold apart are unscaled, unless the model standardises them itself
    (an adapted Normalization layer, as Keras' guides do); a layer that leaves them apart
    (Rescaling by one) is said to have been looked through."""
    import keras

    from lstm_doctor.keras import DoctorCallback

    rng = np.random.default_rng(0)
    scales = np.array([1.0, 1000.0, 0.001])
    x, xv = (rng.normal(size=(n, 8, 3)) * scales for n in (96, 32))
    layers: list = [keras.Input((8, 3))]
    if first == "normalization":
        norm = keras.layers.Normalization()
        norm.adapt(x)
        layers.append(norm)
    elif first == "rescaling":
        layers.append(keras.layers.Rescaling(1.0))
    model = keras.Sequential([*layers, keras.layers.LSTM(4), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    doctor = DoctorCallback(x, x[:, -1, :1], validation_data=(xv, xv[:, -1, :1]),
                            out_dir=str(tmp_path))  # fmt: skip
    model.fit(x, x[:, -1, :1], validation_data=(xv, xv[:, -1, :1]), epochs=2, verbose=0,
              callbacks=[doctor])  # fmt: skip
    found = [f for f in doctor.diagnosis["findings"] if f["code"] == "data.unscaled_features"]
    assert bool(found) is flagged
    if first == "rescaling":
        assert "after the model's own Rescaling layer" in found[0]["explanation"]


EVERY_WAY = """
import importlib, sys, numpy as np, keras, mlflow
sys.path.insert(0, {examples!r})
import lstm_doctor
from lstm_doctor.commands import diagnose
example = importlib.import_module({name!r})
mlflow.set_tracking_uri({uri!r})
lstm_doctor.autolog(out_dir={out!r})
mlflow.keras.autolog(log_models=False)
keras.utils.set_random_seed(0)
x, y, xv, yv = example.data()
net = example.model(x.shape[1:])
net.fit(x, y, validation_data=(xv, yv), verbose=0, callbacks=list(example.CALLBACKS), **example.FIT)
run_id = mlflow.last_active_run().info.run_id
net.save({model!r})
np.savez({npz!r}, x_train=x, y_train=y, x_val=xv, y_val=yv)
diagnose.main([run_id, "--data", {npz!r}, "--model", {model!r}, "--out", {cmd!r}])
"""
SCRIPTS = (
    "unscaled_features", "lr_too_high", "lr_too_low", "model_too_small", "no_signal",
    "imbalanced_classifier", "shuffled_split", "overfit_small_set",
    "healthy_forecaster", "healthy_classifier",
)  # fmt: skip


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_example_through_autolog_and_then_diagnose_on_the_run_mlflow_logged(
    name: str, tmp_path: Path
) -> None:
    """Each script of examples/ as its user would run it, with lstm_doctor.autolog() and
    mlflow.keras.autolog() on, its own epochs: the doctor names its fault (or nothing, for
    the controls); then `diagnose` on the run MLflow logged, with the arrays and the model,
    names it from that evidence, and lists what only a live fit could show."""
    example = _example(name)
    paths = {k: str(tmp_path / v) for k, v in
             {"out": "auto", "npz": "d.npz", "model": "m.keras", "cmd": "cmd"}.items()}  # fmt: skip
    code = EVERY_WAY.format(examples=str(EXAMPLES), name=name,
                            uri=f"sqlite:///{tmp_path / 'mlflow.db'}", **paths)  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    import mlflow

    client = mlflow.tracking.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    # The fit's own diagnosis tags the run autolog logged; diagnose attaches its files to it.
    assert run.data.tags["diagnosis.verdict"] in ("healthy", "sick")
    assert "diagnosis.md" in {a.path for a in client.list_artifacts(run.info.run_id)}
    (folder,) = (tmp_path / "auto").iterdir()
    assert {p.name for p in folder.iterdir()} >= {
        "diagnosis.json",
        "diagnosis.md",
        "diagnosis.html",
    }
    live = json.loads((folder / "diagnosis.json").read_text())
    logged = json.loads((tmp_path / "cmd" / "diagnosis.json").read_text())
    # Fixes in the user's terms (Keras code, plain steps), never Hydra overrides alone.
    override = re.compile(r"[a-z_]+(\.[a-z_]+)*=[^\s(),]+")
    fixes = [fix for f in live["findings"] + logged["findings"] for fix in f["fixes"]]
    assert not any(all(override.fullmatch(part) for part in fix.split()) for fix in fixes), fixes
    if not example.EXPECTED:
        assert live["verdict"] == logged["verdict"] == "healthy", (live["codes"], logged["codes"])
        return
    assert example.EXPECTED & set(live["codes"]), live["codes"]
    if example.EXPECTED <= LIVE_ONLY:  # only a live fit measures the optimiser's step
        assert "the optimiser's step (update/weight ratio)" in logged["not_assessed"]
    else:
        assert example.EXPECTED & set(logged["codes"]), logged["codes"]


# Causes only a fit the doctor watched can show: its optimiser's step.
LIVE_ONLY = {"train.step_too_small", "train.step_too_large"}


def test_the_callback_probes_gradients_and_finds_them_vanishing(tmp_path: Path) -> None:
    """A live fit on TensorFlow gets the pipeline's gradient probe: a stack whose first LSTM
    starts at zero weights passes its layer almost no gradient (the pipeline's
    zero_init_stack scenario), and the doctor says so from the callback alone."""
    import keras

    from lstm_doctor.keras import DoctorCallback

    rng = np.random.default_rng(0)
    x, xv = (rng.normal(size=(n, 12, 2)).astype("float32") for n in (256, 64))
    y, yv = x[:, -1, :1] * 0.5, xv[:, -1, :1] * 0.5
    keras.utils.set_random_seed(0)
    zeros = {"kernel_initializer": "zeros", "recurrent_initializer": "zeros"}
    model = keras.Sequential([keras.Input((12, 2)),
                              keras.layers.LSTM(8, return_sequences=True, **zeros),
                              keras.layers.LSTM(8, **zeros), keras.layers.Dense(1)])  # fmt: skip
    model.compile("adam", "mse")
    doctor = DoctorCallback(x, y, validation_data=(xv, yv), out_dir=str(tmp_path))
    model.fit(x, y, validation_data=(xv, yv), epochs=3, batch_size=32, verbose=0,
              callbacks=[doctor])  # fmt: skip
    assert all("grad_norm" in r for r in doctor.records), doctor.records
    assert all(any(k.startswith("grad_ratio/lstm") for k in r) for r in doctor.records)
    assert "the gradient probe (exploding, vanishing)" not in doctor.diagnosis["not_assessed"]
    assert "train.vanishing_gradients" in doctor.diagnosis["codes"]


def test_reading_edges_a_review_found(tmp_path: Path) -> None:
    """A one-column history CSV, a truncated .npz, Keras' other names for accuracy, a
    model led by GaussianNoise (no scaling at inference), a sigmoid on logits."""
    import keras
    import pandas as pd

    from lstm_doctor.base.errors import DataError
    from lstm_doctor.doctor.script import ScriptRun
    from lstm_doctor.keras import facts
    from lstm_doctor.keras.sources import read_arrays, read_history

    (tmp_path / "one.csv").write_text("loss\n1.0\n0.8\n0.7\n")
    assert list(read_history(tmp_path / "one.csv")["loss"]) == [1.0, 0.8, 0.7]
    np.savez(tmp_path / "d.npz", x_train=np.zeros((4, 3, 1)), y_train=np.zeros(4))
    (tmp_path / "cut.npz").write_bytes((tmp_path / "d.npz").read_bytes()[:100])
    with pytest.raises(DataError, match=r"not a NumPy \.npz"):
        read_arrays(tmp_path / "cut.npz")
    run = ScriptRun(pd.DataFrame({"loss": [1.0], "acc": [0.5], "val_acc": [0.4]}))
    assert {"accuracy", "val_accuracy"} <= set(run.history)
    noisy = keras.Sequential([keras.Input((3, 2)), keras.layers.GaussianNoise(0.1),
                              keras.layers.LSTM(2), keras.layers.Dense(1)])  # fmt: skip
    assert facts.seen_inputs(noisy, np.ones((4, 3, 2))) is None
    logits = keras.Sequential([keras.Input((3, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    logits.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    logits.layers[-1].set_weights([np.ones((3, 1)), np.zeros(1)])
    x = np.array([[[-1.0], [-1.0], [-1.0]], [[0.1], [0.1], [0.1]]], dtype="float32")
    assert facts.accuracy(logits, x, np.array([0, 1]), 2) == 1.0  # logits -3 and 0.3: cut at 0


def test_prove_keeps_an_adapted_normalization_in_every_variant() -> None:
    import keras

    from lstm_doctor.keras.proving import _variant

    x = np.random.default_rng(0).normal(5.0, 3.0, size=(64, 6, 2)).astype("float32")
    norm = keras.layers.Normalization()
    norm.adapt(x)
    model = keras.Sequential(
        [keras.Input((6, 2)), norm, keras.layers.LSTM(4), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    variant = _variant(model, "optimizer.learning_rate=0.01", None)
    for kept, original in zip(variant.layers[0].get_weights(), norm.get_weights(), strict=True):
        np.testing.assert_allclose(kept, original)
