"""A model too small: one LSTM unit for a target built from three inputs at three lags."""

from __future__ import annotations

import keras
import numpy as np
from series import chronological, smooth_noise, windows

from lstm_doctor.keras import DoctorCallback

# The primary causes the doctor should name (any one of them).
EXPECTED = {"train.no_better_than_linear", "train.underfitting"}


def data(n: int = 1600) -> tuple:
    rng = np.random.default_rng(0)
    table = np.column_stack([smooth_noise(n, rng, 0.5) for _ in range(4)])
    y = np.zeros(n)
    y[5:] = 3 * table[4:-1, 1] - 2 * table[2:-3, 2] + table[:-5, 3] + 0.05 * rng.normal(size=n - 5)
    y /= y.std()
    table[:, 0] = y
    return chronological(*windows(table, y, 12))


def model(shape: tuple) -> keras.Model:
    m = keras.Sequential([keras.Input(shape), keras.layers.LSTM(1), keras.layers.Dense(1)])
    m.compile(keras.optimizers.Adam(learning_rate=1e-2), "mse")
    return m


FIT = {"epochs": 15, "batch_size": 32}
CALLBACKS: list = []


def main(**fit: object) -> dict:
    x, y, xv, yv = data()
    doctor = DoctorCallback(x, y, validation_data=(xv, yv))
    net = model(x.shape[1:])
    net.fit(x, y, validation_data=(xv, yv), callbacks=[*CALLBACKS, doctor], **{**FIT, **fit})
    return doctor.diagnosis


if __name__ == "__main__":
    main()
