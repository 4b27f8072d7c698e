"""Prescriptions that would leave a run exactly as it ran, which the doctor never makes.

A config value is not always what runs: the file may hold fewer rows than `dataset.max_rows`
keeps, the batch and patience follow the data's size (config/sizing), a classifier's
examples are its sequences whatever `window.*` says, and a run that early stopping ended
ends at the same epoch with a larger budget. A fix is judged on the run it would resolve to
on this data, beside the run that was: the same run is no fix. Pure functions of the
configured config and what the run left (`RanWith`); reads no files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lstm_doctor.config import Config
from lstm_doctor.config.sizing import fit_sizes


@dataclass(frozen=True)
class RanWith:
    """What the data and the run decided beside the config.

    `rows_available`: the rows the file held before `dataset.max_rows` cut them (a
    forecaster's; None where unknown). `epochs_run`: the epochs the run trained.
    `lr_cut`: whether the plateau schedule ever lowered the learning rate.
    """

    task: str
    rows_available: int | None = None
    train_windows: int | None = None
    epochs_run: int | None = None
    lr_cut: bool | None = None


def changes_run(fix: str, cfg: Config, ran: RanWith) -> bool:
    """Whether applying `fix` (key=value overrides) to `cfg`, the config as configured
    (not the sizes it resolved to), would make a different run on the same data. A group
    option (scaling=standard) or a fix the schema refuses counts as a change: no resolved
    run can be compared, and other checks judge it."""
    after = with_fix(cfg, fix)
    if after is None:
        return True
    before_run, after_run = resolved(cfg, ran), resolved(after, ran)
    if ran.epochs_run is not None and ran.epochs_run < cfg.training.epochs:
        # The run ended before its budget (early stopping, or a loss that blew up): any
        # budget that reaches the epoch it ended at ends it there again, the same way.
        for run, config in ((before_run, cfg), (after_run, after)):
            if config.training.epochs >= ran.epochs_run:
                run["training.epochs"] = ran.epochs_run
    elif ran.epochs_run is not None:
        # The whole budget ran: early stopping never fired, and a longer patience would
        # not fire either; the best weights are restored at the end all the same.
        _same_if_longer(before_run, after_run, "training.early_stopping.patience")
    if ran.lr_cut is False:
        # The plateau never cut the step: a longer plateau patience would not cut it either.
        _same_if_longer(before_run, after_run, "training.reduce_lr.patience")
    return before_run != after_run


def _same_if_longer(before: dict[str, Any], after: dict[str, Any], key: str) -> None:
    if key in before and key in after and after[key] >= before[key]:
        after[key] = before[key]


def resolved(cfg: Config, ran: RanWith) -> dict[str, Any]:
    """The run `cfg` makes on this data, as flat key -> value: the config, with the values
    the data overrule replaced by what they resolve to and those it ignores left out."""
    from lstm_doctor.config.access import tree

    run = _flat(tree(cfg))
    if ran.task == "classify":
        # A classifier's examples are the file's sequences: no window or row cap reaches them.
        run = {k: v for k, v in run.items() if not k.startswith("window.")}
        run.pop("dataset.max_rows", None)
    elif ran.rows_available:
        cap = cfg.dataset.max_rows
        run["dataset.max_rows"] = min(cap, ran.rows_available) if cap else ran.rows_available
    if ran.train_windows:
        sizes = fit_sizes(ran.train_windows, cfg.training)
        run["training.batch_size"] = sizes.batch_size
        run["training.max_steps_per_epoch"] = sizes.updates_per_epoch
        run["training.early_stopping.patience"] = sizes.early_stopping_patience
        run["training.reduce_lr.patience"] = sizes.reduce_lr_patience
    for schedule in ("early_stopping", "reduce_lr"):
        if not getattr(cfg.training, schedule).enabled:  # its settings then reach nothing
            prefix = f"training.{schedule}."
            run = {
                k: v for k, v in run.items() if not k.startswith(prefix) or k.endswith("enabled")
            }
    return run


# Fixes already weighed, by the config's text and the fix: the doctor asks both whether a
# fix is valid and what run it makes, of the same config, for every fix of every finding.
_WEIGHED: dict[tuple[str, str], Config | None] = {}
KEPT_WEIGHED = 256


def with_fix(cfg: Config, fix: str) -> Config | None:
    """`cfg` with a fix's key=value overrides applied and validated; None for a group
    option or a result the schema refuses. Not to be changed: the result is shared."""
    key = (repr(cfg), fix)
    if key not in _WEIGHED:
        if len(_WEIGHED) >= KEPT_WEIGHED:
            _WEIGHED.clear()
        _WEIGHED[key] = _apply(cfg, fix)
    return _WEIGHED[key]


def _apply(cfg: Config, fix: str) -> Config | None:
    from lstm_doctor.base.errors import ConfigError
    from lstm_doctor.config import validate
    from lstm_doctor.config.access import tree
    from lstm_doctor.config.overrides import parse

    data = tree(cfg)
    for override in parse(fix.split()):
        *path, last = override.key_or_group.split(".")
        if not path:
            return None
        node = data
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return None
        node[last] = override.value()
    try:
        return validate(data)
    except ConfigError:
        return None


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out
