"""conf/ is the source of truth: params.yaml matches it and the schema guards it."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from lstm_doctor.base.errors import ConfigError
from lstm_doctor.config import flatten, validate
from lstm_doctor.config.params import compose_config, render_params

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"


def test_params_yaml_is_the_default_composition_of_conf() -> None:
    expected = OmegaConf.create(render_params(compose_config(conf_dir=CONF)))
    actual = OmegaConf.load(ROOT / "params.yaml")
    assert OmegaConf.to_container(actual) == OmegaConf.to_container(expected), (
        "params.yaml drifted from conf/: run `python -m lstm_doctor.config.params`"
    )


@pytest.mark.parametrize(
    "group",
    sorted(p.name for p in CONF.iterdir() if p.is_dir() and p.name != "experiment"),
)
def test_every_option_of_every_group_validates(group: str) -> None:
    for option in sorted((CONF / group).glob("*.yaml")):
        overrides = [f"{group}={option.stem}"]
        if group == "dataset" and option.stem == "csv":
            overrides += ["dataset.path=x.csv", "dataset.target=y"]
        validate(compose_config(overrides, conf_dir=CONF))


def test_every_experiment_preset_validates() -> None:
    for preset in sorted((CONF / "experiment").glob("*.yaml")):
        validate(compose_config([f"experiment={preset.stem}"], conf_dir=CONF))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("+model.hidden=3", r"config key 'model.hidden'"),
        ("model.units=many", r"config key 'model.units'"),
        ("scaling.method=zscore", r"'scaling.method' is 'zscore'; use one of none, standard"),
        ("window.length=0", r"'window.length' is 0; it must be >= 1"),
        ("split.val_fraction=0.7", r"'split.val_fraction' is 0.7"),
        ("model.dropout=1.5", r"'model.dropout' is 1.5"),
    ],
)
def test_bad_keys_and_values_are_named(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        validate(compose_config([override], conf_dir=CONF))
    assert "\n" not in str(info.value)


def test_flatten_gives_dotted_keys_for_every_leaf() -> None:
    flat = flatten(validate(compose_config(conf_dir=CONF)))
    assert flat["training.early_stopping.patience"] == 5
    assert flat["optimizer.name"] == "adam"
    assert flat["dataset.time_column"] == ["ts"]


def test_time_column_accepts_a_single_name() -> None:
    cfg = validate(compose_config(["dataset.time_column=when"], conf_dir=CONF))
    assert cfg.dataset.time_columns == ["when"]


def test_the_schema_says_no_default_of_its_own() -> None:
    """conf/ holds the defaults: every default the schema's dataclasses carry is the value
    the default composition (params.yaml) gives that key, so no key has two defaults (but
    a dataset's frequency and season, which a file that names none has inferred)."""
    import dataclasses

    import yaml

    from lstm_doctor.config.schema import Config

    composed = yaml.safe_load((ROOT / "params.yaml").read_text())
    differ = []

    def walk(cls: type, node: dict, prefix: str) -> None:
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                continue
            value = node.get(f.name, "<absent>")
            if dataclasses.is_dataclass(default):
                walk(type(default), value if isinstance(value, dict) else {}, f"{prefix}{f.name}.")
            elif value != "<absent>" and default != value:
                differ.append(f"{prefix}{f.name}: schema {default!r}, conf/ {value!r}")

    walk(Config, composed, "")
    # A dataset's frequency and season are inferred from its file when it says none (the
    # schema's None); each dataset option in conf/dataset/ sets its own.
    differ = [d for d in differ if not d.startswith(("dataset.freq:", "dataset.period:"))]
    assert not differ, differ
