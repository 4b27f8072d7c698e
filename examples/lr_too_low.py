"""A learning rate far too low: Adam at 1e-6 barely moves the weights."""

from __future__ import annotations

import keras
from series import chronological, seasonal_series, windows

from lstm_doctor.keras import DoctorCallback

# The primary causes the doctor should name (any one of them).
EXPECTED = {"train.step_too_small"}


def data(n: int = 1600) -> tuple:
    table = seasonal_series(n)
    table = (table - table[: int(0.8 * n)].mean(0)) / table[: int(0.8 * n)].std(0)
    return chronological(*windows(table, table[:, 0], 24))


def model(shape: tuple) -> keras.Model:
    m = keras.Sequential([keras.Input(shape), keras.layers.LSTM(32), keras.layers.Dense(1)])
    m.compile(keras.optimizers.Adam(learning_rate=1e-6), "mse")
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
