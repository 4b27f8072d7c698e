"""The gradient monitor's probe: one compiled function serves every model alike, and it
measures each model on its own weights, as a direct gradient on that model would."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_doctor.stages import keras_env  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras
import tensorflow as tf

from lstm_doctor.stages import gradients
from lstm_doctor.stages.train import build_model

from ..conftest import tiny_config


def compiled(units: int, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    cfg = tiny_config(f"model.units={units}", "model.dropout=0.2")
    model = build_model(cfg.model, (24, 3), 4, "forecast")
    model.compile(optimizer="adam", loss="mse")
    return model


def direct(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), [g.numpy() for g in grads]


def test_models_alike_share_one_probe_each_on_its_own_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 24, 3)).astype("float32")
    y = rng.normal(size=(16, 4)).astype("float32")
    first, second, other = compiled(8, 0), compiled(8, 1), compiled(6, 0)
    before = len(gradients._PROBES)
    probes = [gradients.probe_function(m) for m in (first, second, other)]
    # Two architectures: two compiled functions, whatever the number of models.
    assert len(gradients._PROBES) == min(before + 2, gradients.KEPT_PROBES)
    for model, probe in zip((first, second, other), probes, strict=True):
        loss, grads = probe(x, y)
        want_loss, want_grads = direct(model, x, y)
        np.testing.assert_allclose(float(loss), want_loss, rtol=1e-5)
        for got, want in zip(grads, want_grads, strict=True):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-7)
    # Weights that change between calls are read at each call, not when it was compiled.
    second.set_weights([w * 0.5 for w in second.get_weights()])
    loss, _ = probes[1](x, y)
    np.testing.assert_allclose(float(loss), direct(second, x, y)[0], rtol=1e-5)


def test_a_loss_object_gets_a_probe_of_its_own_model() -> None:
    model = compiled(8, 0)
    model.compile(optimizer="adam", loss=keras.losses.Huber())
    x = np.ones((4, 24, 3), "float32")
    y = np.zeros((4, 4), "float32")
    loss, _ = gradients.probe_function(model)(x, y)
    np.testing.assert_allclose(float(loss), direct(model, x, y)[0], rtol=1e-5)


def test_the_monitor_probes_on_its_cadence_and_records_every_epoch() -> None:
    """A real fit: every epoch has its update ratios; the gradients are there on the first
    epochs and the last, absent (NaN) where the cadence skipped, and what is there is what
    the probe measured at that epoch, never a stand-in."""
    from lstm_doctor.doctor import gradient_checks
    from lstm_doctor.doctor.html_plots import monitor_svg
    from lstm_doctor.stages.monitor import GradientMonitor
    from lstm_doctor.stages.probe_cadence import FIRST

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 24, 3)).astype("float32")
    y = x[:, -1, :1].repeat(4, axis=1)
    model = compiled(4, 0)
    monitor = GradientMonitor((x[:16], y[:16]))
    epochs = 12
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=[monitor])
    frame = pd.DataFrame(monitor.records)
    assert len(frame) == epochs
    assert frame["update_ratio/output"].notna().all()
    probed = frame.index[frame["grad_norm"].notna()].tolist()
    assert probed[:FIRST] == list(range(FIRST)) and probed[-1] == epochs - 1
    assert np.isfinite(frame.loc[probed, "grad_norm"]).all()
    assert frame["probe_loss"].notna().tolist() == frame["grad_norm"].notna().tolist()
    assert gradient_checks.check_gradients(frame, tiny_config()) == []
    assert monitor_svg(frame, {}).startswith("<svg")


def test_a_gradient_that_is_not_a_number_is_recorded_as_infinite() -> None:
    """NaN in a monitor frame means "not probed": a probe that met NaN weights records an
    infinite norm, which the doctor reads as an explosion."""
    model = compiled(4, 0)
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    x = np.ones((4, 24, 3), "float32")
    record = gradients.gradient_record(model, *gradients.probe_function(model)(x, np.ones((4, 4))))
    assert record["grad_norm"] == np.inf
