"""A shuffled split of overlapping windows: the windows are permuted before
`validation_split`, so validation windows are training windows shifted by a step."""

from __future__ import annotations

import keras
import numpy as np
from series import seasonal_series, windows

from lstm_doctor.keras import DoctorCallback

EXPECTED = {"data.leaky_split"}


def data(n: int = 1600) -> tuple:
    table = seasonal_series(n)
    table = (table - table.mean(0)) / table.std(0)
    x, y = windows(table, table[:, 0], 24)
    order = np.random.default_rng(0).permutation(len(x))  # the mistake: shuffling windows
    x, y = x[order], y[order]
    at = int(0.8 * len(x))
    return x[:at], y[:at], x[at:], y[at:]


def model(shape: tuple) -> keras.Model:
    m = keras.Sequential([keras.Input(shape), keras.layers.LSTM(32), keras.layers.Dense(1)])
    m.compile(keras.optimizers.Adam(learning_rate=3e-3), "mse")
    return m


FIT = {"epochs": 10, "batch_size": 32}
CALLBACKS: list = []


def main(**fit: object) -> dict:
    x, y, xv, yv = data()
    doctor = DoctorCallback(x, y, validation_data=(xv, yv))
    model(x.shape[1:]).fit(x, y, validation_data=(xv, yv), callbacks=[doctor], **{**FIT, **fit})
    return doctor.diagnosis


if __name__ == "__main__":
    main()
