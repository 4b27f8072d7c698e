"""Overrides: rebuilt from any configuration, merged with a fix, checked before Hydra runs."""

from __future__ import annotations

import pytest

from lstm_doctor.base.errors import ConfigError
from lstm_doctor.config import overrides, validate
from lstm_doctor.config.params import compose_config

from ..conftest import ROOT

CONF = ROOT / "conf"
OPTIONS = [
    f"{group.name}={option.stem}"
    for group in sorted(CONF.iterdir())
    if group.is_dir() and group.name not in ("hparams_search",)
    for option in sorted(group.glob("*.yaml"))
    if option.stem != "csv"
]
ODD = [
    [
        "dataset=csv", "dataset.path='data/my file (1).csv'", "dataset.target='PM2.5 (ug/m3)'",
        "dataset.features=[price,'promo, weekly']", "dataset.time_column=[year,month,day]",
        "+dataset.select.store='it\\'s'", "dataset.freq=15min",
    ],
    ["dataset=stocks", "dataset.select={Ticker:AAPL}", "optimizer.lr=3e-05", "seed=7"],
    ["dataset=stocks", "~dataset.select"],
    ["model.activation=relu", "training.early_stopping.enabled=false", "tracking.uri=null",
     "optimizer.clipnorm=1.0", "dataset.max_rows=1200", "split.test_fraction=0.2"],
]  # fmt: skip


@pytest.mark.parametrize("given", [[o] for o in OPTIONS] + ODD, ids=str)
def test_every_configuration_is_rebuilt_exactly_from_its_values(given: list[str]) -> None:
    """What `fix` does for a run made from params.yaml: the config's values alone give back
    overrides that compose to the very same config."""
    cfg = validate(compose_config(given, conf_dir=CONF))
    rebuilt = overrides.reproduce(cfg, CONF)
    assert overrides.composes_to(rebuilt, cfg, CONF), rebuilt
    assert validate(compose_config(rebuilt, conf_dir=CONF)) == cfg


def test_a_dvc_style_config_is_said_with_group_options() -> None:
    cfg = validate(compose_config(["dataset=stocks", "scaling=none"], conf_dir=CONF))
    assert overrides.reproduce(cfg, CONF) == ["dataset=stocks", "scaling=none"]
    assert overrides.reproduce(validate(compose_config([], conf_dir=CONF)), CONF) == []


@pytest.mark.parametrize(
    ("base", "fix", "expected"),
    [
        (["dataset=stocks", "scaling=none"], "scaling=standard", "standard"),
        (["experiment=stocks_unscaled"], "scaling=standard", "standard"),
        (["dataset=stocks", "scaling.method=none"], "scaling.method=robust", "robust"),
        # A group option replaces the keys of that group the base set directly.
        (["dataset=stocks", "scaling.method=none"], "scaling=standard", "standard"),
    ],
)
def test_a_fix_merged_into_a_base_takes_effect(base: list[str], fix: str, expected: str) -> None:
    merged = overrides.merge(base, fix)
    cfg = validate(compose_config(merged, conf_dir=CONF))
    assert cfg.scaling.method == expected
    assert cfg.dataset.name == "stocks"


def test_merge_replaces_a_key_whatever_its_prefix() -> None:
    assert overrides.merge(["+model.units=3", "seed=1"], "model.units=8") == [
        "seed=1", "model.units=8",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["model.unitz=5"], "config key 'model.unitz' does not exist; did you mean model.units?"),
        (["optimizer=adamw"], "'optimizer=adamw' is not an option of optimizer; available: adam,"),
        (["-m", "scaling=none,zscore"], "'scaling=zscore' is not an option of scaling"),
        (["dataset.target=pm2.5 (ug)"], "quote a value with spaces"),
        (["+model.hidden=3"], "config key 'model.hidden' does not exist"),
    ],
)
def test_unknown_keys_options_and_unreadable_overrides_are_one_line(
    args: list[str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        overrides.check([a for a in args if not a.startswith("-")], CONF)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_known_keys_groups_sweeps_and_hydras_own_pass() -> None:
    overrides.check(
        ["model.units=8", "scaling=none,minmax", "+dataset.select.Ticker=IBM", "~experiment",
         "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "optimizer.lr=1e-2,1e-3",
         "training.early_stopping={patience:3}"],
        CONF,
    )  # fmt: skip


def test_a_sweep_jobs_fixed_overrides_are_told_apart_in_any_spelling() -> None:
    """Hydra writes a multirun job's overrides its own way (`false` -> `False`, `1e-3` ->
    `0.001`): the ones the command line fixed must still not count as what the job varied
    (its run name and `varied` tag)."""
    from lstm_doctor.config.overrides import canonical, unfixed

    job = ["training.early_stopping.enabled=False", "optimizer.lr=0.001", "model.units=8"]
    fixed = ["training.early_stopping.enabled=false", "optimizer.lr=1e-3", "model.units=4,8"]
    assert unfixed(job, fixed) == ["model.units=8"]
    assert canonical("training.early_stopping.enabled=false") == canonical(job[0])
    assert canonical("model.units=4,8") == "model.units=4,8"  # a sweep stays as written
    assert canonical("~model.units") == "~model.units"
