"""Find out instead of guessing: a budgeted screen of candidate changes before a proof.

When a model loses to a baseline and no specific cause explains it (the diagnosis' primary
cause is only `train.no_better_than_naive` or `train.no_better_than_linear`), a rule's
first guess is not worth a proof. `lstm-doctor fix` then screens the usual suspects by
successive halving: every candidate and the original train for a few epochs on one seed;
the better half by loss on the validation targets all of them share goes on with twice the
epochs; and so on until two remain (Jamieson & Talwalkar, 2016). The survivors are proved
as usual, over seeds, against the original.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from lstm_doctor.config import Config
from lstm_doctor.config.prescriptions import option, setting

# Causes that name no mechanism: the model loses to a yardstick, nothing says why.
UNEXPLAINED = frozenset({"train.no_better_than_naive", "train.no_better_than_linear"})
SURVIVORS = 2
FIRST_ROUND_EPOCHS = 4


@dataclass
class Screen:
    """What the screen tried, in how many runs and seconds, and what survived."""

    candidates: list[str]
    survivors: list[str]
    rounds: list[dict[str, float]]
    runs: int
    seconds: float

    def says(self) -> str:
        """One line for the console and the report."""
        return (
            f"screen: {len(self.candidates)} candidate changes, {len(self.rounds)} rounds of "
            f"successive halving, {self.runs} short runs in {self.seconds:.0f} s; survivors: "
            + (", ".join(f"`{s}`" for s in self.survivors) or "none")
        )


def unexplained(diagnosis: dict) -> bool:
    """Whether the diagnosis' primary causes only say the model loses to a yardstick."""
    primary = set(diagnosis.get("primary") or [])
    return bool(primary) and primary <= UNEXPLAINED


def candidates(cfg: Config, prescribed: list[str], ran: dict | None = None) -> list[str]:
    """The usual suspects, relative to the run's own settings, after what was prescribed:
    scaling, each window as a change from its last value, half and twice the units, a third
    and three times the step, half the batch, twice the window. Ones the run already has,
    that would not validate, or (given `ran`, the diagnosis' record of what the data decided)
    that the data would resolve to the same run (half a batch the data's size overrules)
    are left out."""
    from lstm_doctor.doctor.diagnosis import in_effect, valid_fix
    from lstm_doctor.doctor.moot_fixes import RanWith, changes_run

    units, lr, batch = cfg.model.units, cfg.optimizer.lr, cfg.training.batch_size
    usual = [
        option("scaling", "standard"),
        setting("window.normalize", "last"),
        setting("model.units", max(4, units // 2)),
        setting("model.units", units * 2),
        # Steps to three significant digits: a third of 0.003 is tried as 0.001.
        setting("optimizer.lr", float(f"{lr / 3:.3g}")),
        setting("optimizer.lr", float(f"{lr * 3:.3g}")),
        setting("training.batch_size", max(8, batch // 2)),
    ]
    if cfg.dataset.task == "forecast":
        usual.append(setting("window.length", cfg.window.length * 2))
    found = [c for c in dict.fromkeys([*prescribed, *usual]) if " " not in c or c in prescribed]
    found = [c for c in found if not in_effect(c, cfg) and valid_fix(c, cfg)]
    if not ran:
        return found
    # The screen trains at budgets of its own: what the diagnosed run's epochs showed (where
    # early stopping ended it, whether the plateau cut) says nothing about them.
    facts = RanWith(**{**ran, "epochs_run": None, "lr_cut": None})
    return [c for c in found if c in prescribed or changes_run(c, cfg, facts)]


def halving_rounds(count: int, epochs: int) -> list[int]:
    """Epochs per round: doubling from FIRST_ROUND_EPOCHS until `count` candidates are halved
    down to SURVIVORS, ending at the run's own epochs where that comes first (a round at the
    same budget on the same seed would only repeat the last)."""
    rounds = max(1, math.ceil(math.log2(max(count, 1) / SURVIVORS)) + 1)
    budgets: list[int] = []
    for k in range(rounds):
        budgets.append(min(epochs, FIRST_ROUND_EPOCHS * 2**k))
        if budgets[-1] == epochs:
            break
    return budgets


def screen(
    options: list[str],
    epochs: int,
    train: Callable[[list[str], int, int], dict[str, float]],
) -> Screen:
    """Successive halving over `options` (and the original, as '').

    Args:
        train: runs the given changes for the given epochs (round number third) and returns
            each one's validation loss on the targets they all share (lower is better).
    """
    started = time.monotonic()
    alive: list[str] = list(options)
    rounds: list[dict[str, float]] = []
    runs = 0
    budgets = halving_rounds(len(options), epochs)
    for number, round_epochs in enumerate(budgets):
        scores = train(["", *alive], round_epochs, number)
        runs += len(alive) + 1
        rounds.append({change or "original": scores.get(change, math.inf) for change in
                       ["", *alive]})  # fmt: skip
        # Only a change that beats the original at this budget goes on.
        original = scores.get("", math.inf)
        beat = sorted((c for c in alive if scores.get(c, math.inf) < original),
                      key=lambda c: scores[c])  # fmt: skip
        last = number == len(budgets) - 1
        alive = beat[: SURVIVORS if last else max(SURVIVORS, len(alive) // 2)]
        if len(alive) <= SURVIVORS:
            break
    return Screen(list(options), alive, rounds, runs, time.monotonic() - started)
