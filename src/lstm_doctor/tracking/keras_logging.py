"""Keras, as MLflow sees it: per-epoch curves from a callback, and the model logged with
the Keras flavour (with a signature and an input example)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import mlflow


def epoch_logger(send: Callable[[dict[str, float], int], None]) -> Any:
    """A Keras callback that hands each epoch's logs (loss, val_loss, lr, ...) to `send`
    (the run's background sender)."""
    import keras

    class EpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            values = dict(logs or {})
            lr = getattr(self.model.optimizer, "learning_rate", None)
            if lr is not None and "learning_rate" not in values:
                values["learning_rate"] = float(keras.ops.convert_to_numpy(lr))
            send({k: float(v) for k, v in values.items()}, epoch)

    return EpochLogger()


class _KerasFlavor:
    """mlflow.keras, but creating the model folder before the input example is written.

    mlflow.keras.save_model (3.17, 3.18) writes input_example.json before it creates the
    folder, so log_model(..., input_example=...) fails; every other step is mlflow.keras.
    """

    @staticmethod
    def save_model(path: str, **kwargs: Any) -> None:
        import mlflow.keras

        os.makedirs(path, exist_ok=True)
        kwargs.pop("validate_serving_input", None)  # Model.log's own option, not the flavour's
        mlflow.keras.save_model(path=path, **kwargs)


def log_keras_model(model: Any, example: Any) -> None:
    """Log the model with the Keras flavour, a signature and an input example."""
    import keras
    from mlflow.models import Model, infer_signature

    signature = infer_signature(example, model.predict_on_batch(example))
    # Naming the requirements spares MLflow a subprocess that reloads the model to guess them.
    requirements = [f"keras=={keras.__version__}", f"mlflow=={mlflow.__version__}"]
    requirements += _tensorflow_requirement()
    Model.log(
        artifact_path=None,
        name="model",
        flavor=_KerasFlavor,
        model=model,
        signature=signature,
        input_example=example,
        pip_requirements=requirements,
        # MLflow would load the model back and predict the example on every run (a third of
        # logging it); the suite checks once that a logged model serves its windows.
        validate_serving_input=False,
    )


def _tensorflow_requirement() -> list[str]:
    """The TensorFlow build installed here, as a requirement: the pinned CPU build, or the
    CUDA one of the `gpu` extra (both import as `tensorflow`), or none without TensorFlow."""
    from importlib.metadata import PackageNotFoundError, version

    for distribution in ("tensorflow-cpu", "tensorflow"):
        try:
            return [f"{distribution}=={version(distribution)}"]
        except PackageNotFoundError:
            continue
    return []
