"""`prove` on a user's own model, run small and real (Keras, a temp SQLite MLflow store):
every change and count is checked before any fit, each fit is a run nested under one parent
(itself under the user's active run, left open), Holm's p over several changes, a failure
ends its runs FAILED, nothing is logged without a store, and the command refuses bad input
in one line with status 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ..conftest import cli


def _arrays() -> tuple[np.ndarray, ...]:
    """A few windows whose target is the last input step, halved."""
    rng = np.random.default_rng(0)
    x, xv = (rng.normal(size=(n, 6, 1)).astype("float32") for n in (48, 24))
    return x, x[:, -1, :] * 0.5, xv, xv[:, -1, :] * 0.5


def _model():  # a compiled keras.Model
    import keras

    model = keras.Sequential([keras.Input((6, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    return model


@pytest.fixture
def store(mlflow_uri: str) -> Iterator[str]:
    """The temp store, set in MLflow as a user's script sets it (this process may have set
    another before); unset after."""
    import mlflow

    mlflow.set_tracking_uri(mlflow_uri)
    yield mlflow_uri
    while mlflow.active_run():
        mlflow.end_run("FAILED")
    mlflow.set_tracking_uri(None)


def _runs(uri: str) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(ids, max_results=1000)


def test_each_fit_is_a_run_under_one_parent_nested_in_the_users_run(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    from lstm_doctor.keras import prove

    x, y, xv, yv = _arrays()
    with mlflow.start_run(run_name="user script") as outer:
        results = prove(_model(), x, y, (xv, yv), ["optimizer.learning_rate=0.01"], seeds=2,
                        epochs=2)  # fmt: skip
        assert mlflow.active_run().info.run_id == outer.info.run_id
        assert MlflowClient(store).get_run(outer.info.run_id).info.status == "RUNNING"
    runs = _runs(store)
    (parent,) = [r for r in runs if r.info.run_name == "prove"]
    assert parent.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["prove.verdicts"].startswith("optimizer.learning_rate=0.01: ")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted((r.data.params["change"], r.data.params["seed"]) for r in children) == [
        ("optimizer.learning_rate=0.01", "0"), ("optimizer.learning_rate=0.01", "1"),
        ("original", "0"), ("original", "1"),
    ]  # fmt: skip
    client = MlflowClient(store)
    for child in children:
        assert child.info.status == "FINISHED"
        assert {"epochs": "2", "batch_size": "32"}.items() <= child.data.params.items()
        for key in ("loss", "val_loss"):
            assert [m.step for m in client.get_metric_history(child.info.run_id, key)] == [0, 1]
        val = [m.value for m in client.get_metric_history(child.info.run_id, "val_loss")]
        assert child.data.metrics["best_val_loss"] == pytest.approx(min(val))
    logged = sorted(c.data.metrics["best_val_loss"] for c in children)
    assert logged == pytest.approx(sorted(v for r in results for v in r["best_val_loss"]))
    # One change: its own Welch p, said plainly (Holm over a family of one is the same p).
    out = capsys.readouterr().out
    assert results[1]["p_value"] == results[1]["p_raw"] and "Holm p=" not in out
    assert f"p={results[1]['p_value']:.3g}" in out


def test_several_changes_are_holm_adjusted_by_the_command(tmp_path: Path, mlflow_uri: str) -> None:
    from lstm_doctor.comparison.significance import holm

    x, y, xv, yv = _arrays()
    _model().save(tmp_path / "m.keras")
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_val=xv, y_val=yv)
    done = cli(
        "prove", "--model", "m.keras", "--data", "d.npz", "--seeds", "2", "--epochs", "2",
        "--change", "optimizer.learning_rate=0.01", "--change", "batch_size=16",
        cwd=tmp_path, store=mlflow_uri,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    said = [line for line in lines if line.startswith(("optimizer.", "batch_size="))]
    assert len(said) == 2 and all("Holm p=" in line for line in said), done.stdout
    runs = _runs(mlflow_uri)
    (parent,) = [r for r in runs if r.info.run_name == "prove"]
    assert parent.info.status == "FINISHED" and "mlflow.parentRunId" not in parent.data.tags
    assert parent.info.run_id in lines[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 6 and {c.info.status for c in children} == {"FINISHED"}
    # The printed p is Holm's over the two changes' Welch p's, from the logged best losses.
    from lstm_doctor.comparison.significance import welch_p

    best = {}
    for c in children:
        best.setdefault(c.data.params["change"], []).append(c.data.metrics["best_val_loss"])
    raw = [welch_p(best[name], best["original"]) for name in ("optimizer.learning_rate=0.01",
                                                              "batch_size=16")]  # fmt: skip
    for line, p in zip(said, holm(raw), strict=True):
        assert p is not None and f"Holm p={p:.3g}" in line
    assert not (tmp_path / "mlruns").exists()


class _Builds:
    """A user's build_fn that counts its calls (one a fit) and fails at call `fail_at`."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls, self.fail_at = 0, fail_at

    def __call__(self):  # a new, uncompiled keras.Model
        import keras

        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("out of memory building the model")
        return keras.Sequential([keras.Input((6, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])


@pytest.mark.parametrize(
    ("changes", "counts", "named"),
    [
        (["optimizer.learning_rate=0.01", "optimizer.momentum=0.9"], {}, "has no 'momentum'"),
        (["optimizer.learning_rate=0.01", "dropout=0.2"], {}, "'dropout=0.2'"),
        (["optimizer.learning_rate=fast"], {}, "learning_rate takes a float"),
        (["optimizer.learning_rate"], {}, "'optimizer.learning_rate'"),
        (["epochs=0"], {}, "'epochs=0'"),
        (["batch_size=big"], {}, "'batch_size=big'"),
        ([], {}, "no change"),
        (["epochs=3"], {"seeds": 0}, "seeds 0"),
        (["epochs=3"], {"epochs": 0}, "epochs 0"),
        (["epochs=3"], {"batch_size": -1}, "batch_size -1"),
    ],
)
def test_a_bad_change_or_count_is_refused_before_any_fit(
    changes: list[str], counts: dict[str, int], named: str, store: str
) -> None:
    from lstm_doctor.base.errors import ConfigError
    from lstm_doctor.keras import prove

    x, y, xv, yv = _arrays()
    builds = _Builds()
    with pytest.raises(ConfigError) as refused:
        prove(_model(), x, y, (xv, yv), changes, build_fn=builds, **counts)
    assert named in str(refused.value) and "\n" not in str(refused.value)
    assert builds.calls == 0  # no copy was built, so none was fitted
    assert not Path(store.removeprefix("sqlite:///")).exists()  # no run opened


def test_a_failing_fit_ends_its_run_and_the_parent_failed(store: str) -> None:
    import mlflow

    from lstm_doctor.keras import prove

    x, y, xv, yv = _arrays()
    builds = _Builds(fail_at=3)  # the change's first seed, after the original's two fits
    with pytest.raises(RuntimeError, match="out of memory"):
        prove(_model(), x, y, (xv, yv), ["batch_size=16"], seeds=2, epochs=1, build_fn=builds)
    assert mlflow.active_run() is None
    runs = _runs(store)
    (parent,) = [r for r in runs if r.info.run_name == "prove"]
    assert parent.info.status == "FAILED"
    status = {r.info.run_name: r.info.status for r in runs if r is not parent}
    assert status == {"original seed 0": "FINISHED", "original seed 1": "FINISHED",
                      "batch_size=16 seed 0": "FAILED"}  # fmt: skip
    failed = next(r for r in runs if r.info.run_name == "batch_size=16 seed 0")
    assert "out of memory" in failed.data.tags["error"]


def test_without_a_store_nothing_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lstm_doctor.keras import prove

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    if "mlflow" in sys.modules:  # an earlier test in this process set one
        sys.modules["mlflow"].set_tracking_uri(None)
    monkeypatch.chdir(tmp_path)
    x, y, xv, yv = _arrays()
    results = prove(_model(), x, y, (xv, yv), ["epochs=2"], seeds=2, epochs=1)
    assert [len(r["best_val_loss"]) for r in results] == [2, 2]
    assert os.listdir(tmp_path) == []  # no mlflow.db, no mlruns
    assert "MLflow" not in capsys.readouterr().out


def test_a_subclassed_model_needs_a_build_fn_and_prove_needs_validation_data() -> None:
    import keras

    from lstm_doctor.base.errors import DataError
    from lstm_doctor.keras import prove

    class Forecaster(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.lstm, self.head = keras.layers.LSTM(4), keras.layers.Dense(1)

        def call(self, inputs):  # a keras tensor
            return self.head(self.lstm(inputs))

    model = Forecaster()
    model.compile("adam", "mse")
    x, y, xv, yv = _arrays()
    with pytest.raises(DataError, match="subclassed model: pass build_fn="):
        prove(model, x, y, (xv, yv), ["epochs=2"], seeds=2)
    with pytest.raises(DataError, match=r"validation_data=\(x_val, y_val\) is needed"):
        prove(_model(), x, y, None, ["epochs=2"], seeds=2)  # type: ignore[arg-type]


def test_the_command_refuses_a_bad_change_or_count_in_one_line(
    tmp_path: Path, mlflow_uri: str
) -> None:
    x, y, xv, yv = _arrays()
    _model().save(tmp_path / "m.keras")
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_val=xv, y_val=yv)
    base = ("prove", "--model", "m.keras", "--data", "d.npz")
    for args, named in (
        (["--change", "optimizer.learning_rate=0.01", "--change", "optimizer.momentum=0.9"],
         "Adam has no 'momentum'"),
        (["--change", "optimizer.learning_rate=0.01", "--seeds", "0"], "--seeds 0"),
        (["--change", "layers=3"], "'layers=3'"),
    ):  # fmt: skip
        done = cli(*base, *args, cwd=tmp_path, store=mlflow_uri)
        assert done.returncode == 2, (args, done.stderr[-2000:])
        assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
        assert named in done.stderr and "Traceback" not in done.stderr
        assert done.stdout == ""
    assert not Path(mlflow_uri.removeprefix("sqlite:///")).exists()


def test_prove_under_the_users_autolog_diagnoses_none_of_its_own_fits(tmp_path: Path) -> None:
    import subprocess

    script = f"""
import pathlib
import numpy as np, keras, lstm_doctor
from lstm_doctor.keras import prove
lstm_doctor.autolog(out_dir={str(tmp_path / "doctor")!r})
rng = np.random.default_rng(0)
x, xv = (rng.normal(size=(n, 6, 1)).astype("float32") for n in (48, 24))
model = keras.Sequential([keras.Input((6, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
model.compile(keras.optimizers.Adam(1e-3), "mse")
prove(model, x, x[:, -1] * 0.5, (xv, xv[:, -1] * 0.5), ["epochs=2"], seeds=2, epochs=1)
found = pathlib.Path({str(tmp_path / "doctor")!r}).glob("**/diagnosis.json")
print("after prove:", len(list(found)))
model.fit(x, x[:, -1] * 0.5, validation_data=(xv, xv[:, -1] * 0.5), epochs=2, verbose=0)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID")}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "after prove: 0" in result.stdout  # four refits, none diagnosed one by one
    assert len(list((tmp_path / "doctor").glob("**/diagnosis.json"))) == 1  # the user's own fit
