"""Config fuzz: every key of the schema, given a wrong type or a value out of its range, is
one line naming the key (in process here; through the entry points in test_entry_errors)."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from lstm_doctor.base.errors import ConfigError
from lstm_doctor.config import Config, flatten, validate
from lstm_doctor.config.values import CHECKED, CHOICES, FREE, RANGES

DEFAULT = OmegaConf.to_container(OmegaConf.structured(Config))
LEAVES = flatten(Config())


def with_value(key: str, value: object) -> dict:
    node = OmegaConf.create(DEFAULT)
    OmegaConf.update(node, key, value, merge=False)
    return OmegaConf.to_container(node)  # type: ignore[return-value]


def assert_names(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as info:
        validate(with_value(key, value))
    message = str(info.value)
    assert f"'{key}'" in message and "\n" not in message, message


def test_every_key_has_exactly_one_rule() -> None:
    """A new key without a range, choices, a check or a place among the free keys fails."""
    tables = [set(RANGES), set(CHOICES), set(CHECKED), set(FREE)]
    # dataset.select is a mapping (empty by default): one key however many entries it has.
    keys = {k for k in LEAVES if not k.startswith("dataset.select")} | {"dataset.select"}
    assert keys == set().union(*tables)
    assert sum(len(t) for t in tables) == len(set().union(*tables)), "a key in two tables"


def test_the_default_config_is_valid() -> None:
    validate(DEFAULT)


def out_of_range(key: str) -> list[object]:
    spec = RANGES[key]
    values: list[object] = [float("nan")]
    if spec.lo is not None:
        values.append(spec.lo - 1 if spec.lo_closed else spec.lo)
    if spec.hi is not None:
        values.append(spec.hi if not spec.hi_closed else spec.hi + 1)
    if not spec.optional:
        values.append(None)
    return values


@pytest.mark.parametrize("key", sorted(RANGES))
def test_every_numeric_key_refuses_values_out_of_its_range(key: str) -> None:
    for value in out_of_range(key):
        if isinstance(LEAVES[key], int) and isinstance(value, float) and value == value:
            value = int(value)
        assert_names(key, value)


@pytest.mark.parametrize("key", sorted(RANGES))
def test_every_numeric_key_refuses_a_wrong_type(key: str) -> None:
    assert_names(key, "lots")


@pytest.mark.parametrize("key", sorted(CHOICES))
def test_every_choice_key_refuses_an_unknown_option(key: str) -> None:
    assert_names(key, "no_such_option")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dataset.freq", "hourly"),
        ("dataset.timezone", "Mars/Olympus"),
        ("dataset.encoding", "klingon-8"),
        ("dataset.sep", ";;"),
    ],
)
def test_checked_keys_refuse_what_their_library_rejects(key: str, value: str) -> None:
    assert_names(key, value)


@pytest.mark.parametrize("key", ["dataset.features", "dataset.select", "prepare.sort"])
def test_free_keys_still_refuse_a_wrong_type(key: str) -> None:
    assert_names(key, 3.5 if key != "prepare.sort" else "maybe")


def test_a_negative_gap_cannot_put_val_windows_inside_training() -> None:
    assert_names("window.gap", -5)


def test_dropping_rows_of_a_forecast_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"prepare\.missing.*breaks a forecast"):
        validate(with_value("prepare.missing", "drop"))


def test_a_monitor_the_task_does_not_log_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"training\.early_stopping\.monitor"):
        validate(with_value("training.early_stopping.monitor", "val_accuracy"))


@pytest.mark.slow  # imports Keras (seconds)
def test_the_listed_activations_and_initializers_are_keras_own() -> None:
    import keras

    from lstm_doctor.config.values import ACTIVATIONS, INITIALIZERS
    from lstm_doctor.stages import keras_env as backend  # noqa: F401

    for name in ACTIVATIONS:
        assert keras.activations.get(name) is not None, name
    for name in INITIALIZERS:
        assert keras.initializers.get(name) is not None, name


def test_every_optimizer_is_one_yaml_file_and_one_entry() -> None:
    """conf/optimizer/ and config/optimizers.OPTIMIZERS name the same optimizers; each entry
    builds the Keras optimizer it says, with its momentum where it takes one."""
    import keras
    import yaml

    from lstm_doctor.config import OptimizerConfig
    from lstm_doctor.config.optimizers import OPTIMIZERS
    from lstm_doctor.stages.train import make_optimizer

    from ..conftest import ROOT

    files = {
        p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / "conf" / "optimizer").glob("*.yaml")
    }
    assert {stem: body["name"] for stem, body in files.items()} == {n: n for n in OPTIMIZERS}
    assert CHOICES["optimizer.name"] == tuple(OPTIMIZERS)
    for name, spec in OPTIMIZERS.items():
        built = make_optimizer(OptimizerConfig(name=name, lr=0.02, momentum=0.5, clipnorm=1.0))
        assert isinstance(built, getattr(keras.optimizers, spec.keras_class))
        assert float(built.learning_rate) == pytest.approx(0.02) and built.clipnorm == 1.0
        assert (getattr(built, "momentum", None) == 0.5) is spec.momentum
