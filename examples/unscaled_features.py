"""Features on wildly different scales, fed in raw: a temperature, a price in thousands
and a count in the hundred-thousands."""

from __future__ import annotations

import keras
import numpy as np
from series import chronological, seasonal_series, windows

from lstm_doctor.keras import DoctorCallback

# The primary causes the doctor should name (any one of them).
EXPECTED = {"data.unscaled_features"}


def data(n: int = 1600) -> tuple:
    table = seasonal_series(n) * np.array([1.0, 1e3, 1e5]) + np.array([0.0, 5e3, 2e5])
    return chronological(*windows(table, table[:, 0], 24))


def model(shape: tuple) -> keras.Model:
    m = keras.Sequential([keras.Input(shape), keras.layers.LSTM(32), keras.layers.Dense(1)])
    m.compile(keras.optimizers.Adam(learning_rate=1e-3), "mse")
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
