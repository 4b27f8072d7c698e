"""Which runs are one configuration, one sample per seed, on one dataset.

A comparison's samples are runs; these rules say which runs are the same configuration
(every param but the seed and where they were logged), that a configuration's seed counts
once, that runs of different datasets are not compared, and which configuration is the
baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lstm_doctor.base.errors import DataError


@dataclass
class RunRecord:
    """What a comparison needs from one MLflow run, as plain data."""

    run_id: str
    name: str
    status: str
    overrides: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    curves: dict[str, list[float]] = field(default_factory=dict)


def configuration_of(overrides: str) -> str:
    """A run's configuration: its overrides without the seed."""
    kept = [o for o in overrides.split() if not o.startswith("seed=")]
    return " ".join(kept) or "defaults"


def configuration_key(run: RunRecord) -> tuple[tuple[str, str], ...]:
    """What makes runs one configuration: every param they ran with but the seed and where
    they were logged (a label can hide what a sweep held fixed, or be absent under DVC)."""
    kept = {
        k: v
        for k, v in run.params.items()
        if k != "seed" and not k.startswith("tracking.") and k != "overrides"
    }
    return tuple(sorted(kept.items())) or (("label", configuration_of(run.overrides)),)


def group_by_configuration(runs: list[RunRecord]) -> dict[str, list[RunRecord]]:
    """Runs grouped by configuration, each named by its overrides; where two configurations
    share a name, the params that tell them apart are added to it."""
    by_key: dict[tuple[tuple[str, str], ...], list[RunRecord]] = {}
    for run in runs:
        by_key.setdefault(configuration_key(run), []).append(run)
    labels = {key: configuration_of(members[0].overrides) for key, members in by_key.items()}
    groups: dict[str, list[RunRecord]] = {}
    for key, members in by_key.items():
        label = labels[key]
        twins = [k for k, name in labels.items() if name == label and k != key]
        if twins:
            own, other = dict(key), dict(twins[0])
            apart = [f"{k}={v}" for k, v in sorted(own.items()) if other.get(k) != v]
            label = f"{label} [{' '.join(apart)}]" if apart else label
        groups.setdefault(label, []).extend(members)
    return groups


# What a run was trained and scored on: runs that differ here are not compared on errors
# in their units. The scaling method is not among them: evaluate maps every forecast back
# to the target's own units.
DATASET_KEYS = ("dataset.name", "dataset.path", "dataset.target", "dataset.task")


def one_dataset(runs: list[RunRecord]) -> None:
    """Refuse runs of several datasets, targets or tasks in one comparison.

    Raises:
        DataError: naming the datasets found and how to compare one at a time.
    """
    found = {tuple(r.params.get(k, "") for k in DATASET_KEYS) for r in runs}
    if len(found) > 1:
        names = sorted({f"{d[0] or d[1]}:{d[2]}" for d in found})
        raise DataError(
            f"these runs were trained on {len(found)} different datasets or targets "
            f"({', '.join(names)}): their errors are in different units; compare a sweep "
            "or an experiment of one dataset at a time"
        )


def seed_of(run: RunRecord) -> str:
    """The seed a run ran with (its param, else its label's `seed=`), '' when unknown."""
    if "seed" in run.params:
        return run.params["seed"]
    return next((o[5:] for o in run.overrides.split() if o.startswith("seed=")), "")


def one_per_seed(members: list[RunRecord]) -> list[RunRecord]:
    """One run per seed of a configuration (a finished one first): the same configuration
    and seed twice (a run and its proof's rerun) is one sample, not two."""
    ranked = sorted(members, key=lambda r: r.status != "FINISHED")
    kept: dict[str, RunRecord] = {}
    for i, run in enumerate(ranked):
        kept.setdefault(seed_of(run) or f"#{i}", run)
    return list(kept.values())


def choose_baseline(names: list[str], baseline: str | None) -> str:
    """The configuration the others are compared with: the one named, else the diagnosed
    run's (`original`) or the defaults, else the one with the fewest overrides."""
    if baseline is not None:
        if baseline not in names:
            raise DataError(
                f"--baseline '{baseline}' is not among the configurations: {sorted(names)}"
            )
        return baseline
    for plain in ("original", "defaults"):
        if plain in names:
            return plain
    return min(names, key=lambda n: (len(n.split()), n))
