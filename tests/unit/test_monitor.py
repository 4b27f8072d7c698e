"""The gradient monitor's probe: one compiled function serves every model alike, and it
measures each model on its own weights, as a direct gradient on that model would."""

from __future__ import annotations

import numpy as np

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
