"""An imbalanced classifier: 1 sequence in 20 is the rare class, told apart only by a
faint bump; trained on the raw class shares it settles on always answering the common one."""

from __future__ import annotations

import keras
import numpy as np

from lstm_doctor.keras import DoctorCallback

EXPECTED = {"data.class_imbalance", "train.majority_class"}


def sequences(n: int, rare: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rare).astype("int64")
    x = rng.normal(size=(n, 30, 2)).astype("float32")
    x[y == 1, 10:20, 0] += 0.6  # the rare class' faint bump
    return x, y


def data(n: int = 1600) -> tuple:
    x, y = sequences(n, 0.05, 0)
    xv, yv = sequences(n // 4, 0.05, 1)
    return x, y, xv, yv


def model(shape: tuple) -> keras.Model:
    m = keras.Sequential(
        [keras.Input(shape), keras.layers.LSTM(16), keras.layers.Dense(2, activation="softmax")]
    )
    m.compile(keras.optimizers.Adam(learning_rate=1e-3), "sparse_categorical_crossentropy")
    return m


FIT = {"epochs": 8, "batch_size": 64}
CALLBACKS: list = []


def main(**fit: object) -> dict:
    x, y, xv, yv = data()
    doctor = DoctorCallback(x, y, validation_data=(xv, yv))
    model(x.shape[1:]).fit(x, y, validation_data=(xv, yv), callbacks=[doctor], **{**FIT, **fit})
    return doctor.diagnosis


if __name__ == "__main__":
    main()
