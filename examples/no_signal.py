"""A target with no signal in its inputs: tomorrow's value is independent noise."""

from __future__ import annotations

import keras
import numpy as np
from series import chronological, smooth_noise, windows

from lstm_doctor.keras import DoctorCallback

# The primary causes the doctor should name (any one of them).
EXPECTED = {"data.no_signal"}


def data(n: int = 1600) -> tuple:
    rng = np.random.default_rng(0)
    inputs = np.column_stack([smooth_noise(n, rng) for _ in range(3)])
    return chronological(*windows(inputs, rng.normal(size=n), 24))


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
