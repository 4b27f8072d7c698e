"""A model that overfits a small set: 80 noisy windows, a large LSTM, many epochs."""

from __future__ import annotations

import keras
import numpy as np
from series import seasonal_series, windows

from lstm_doctor.keras import DoctorCallback

# The primary causes the doctor should name (any one of them).
EXPECTED = {"train.overfitting", "data.too_few_windows"}


def data(n: int = 1600) -> tuple:
    table = seasonal_series(200, seed=1)
    table[:, 0] += np.random.default_rng(1).normal(0, 0.5, 200)
    table = (table - table[:100].mean(0)) / table[:100].std(0)
    x, y = windows(table, table[:, 0], 24)
    return x[:100], y[:100], x[120:], y[120:]


def model(shape: tuple) -> keras.Model:
    m = keras.Sequential([keras.Input(shape), keras.layers.LSTM(128), keras.layers.Dense(1)])
    m.compile(keras.optimizers.Adam(learning_rate=3e-3), "mse")
    return m


FIT = {"epochs": 60, "batch_size": 16}
CALLBACKS: list = []


def main(**fit: object) -> dict:
    x, y, xv, yv = data()
    doctor = DoctorCallback(x, y, validation_data=(xv, yv))
    net = model(x.shape[1:])
    net.fit(x, y, validation_data=(xv, yv), callbacks=[*CALLBACKS, doctor], **{**FIT, **fit})
    return doctor.diagnosis


if __name__ == "__main__":
    main()
