"""A healthy classifier: balanced classes told apart by the frequency of a noisy wave
(slow or fast), scaled inputs, a sensible step. The doctor should find nothing serious."""

from __future__ import annotations

import keras
import numpy as np

from lstm_doctor.keras import DoctorCallback

EXPECTED: set[str] = set()  # healthy


def sequences(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = np.arange(40)
    freq = np.where(y == 1, 0.25, 0.08)[:, None]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    x = np.sin(freq * t + phase) + 0.3 * rng.normal(size=(n, 40))
    return x[..., None].astype("float32"), y


def data(n: int = 1200) -> tuple:
    x, y = sequences(n, 0)
    xv, yv = sequences(n // 4, 1)
    return x, y, xv, yv


def model(shape: tuple) -> keras.Model:
    m = keras.Sequential(
        [keras.Input(shape), keras.layers.LSTM(16), keras.layers.Dense(2, activation="softmax")]
    )
    m.compile(keras.optimizers.Adam(learning_rate=1e-2), "sparse_categorical_crossentropy")
    return m


FIT = {"epochs": 40, "batch_size": 32}
CALLBACKS = [keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)]


def main(**fit: object) -> dict:
    x, y, xv, yv = data()
    doctor = DoctorCallback(x, y, validation_data=(xv, yv))
    net = model(x.shape[1:])
    net.fit(x, y, validation_data=(xv, yv), callbacks=[*CALLBACKS, doctor], **{**FIT, **fit})
    return doctor.diagnosis


if __name__ == "__main__":
    main()
