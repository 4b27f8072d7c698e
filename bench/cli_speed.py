"""How fast the command line answers: every command's --help and a bad override's one-line
error, against a bare `python -c pass` measured in the same run.

    python bench/cli_speed.py [--repeats 5]

Prints, per command, the median wall time over the repeats and its difference from the
bare interpreter's start (what the command itself costs).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = [sys.executable, "-m", "lstm_doctor.commands.app"]
COMMANDS = {
    "python -c pass (bare)": [sys.executable, "-c", "pass"],
    "lstm-doctor --help": [*APP, "--help"],
    "lstm-doctor model.nope=1 (error)": [*APP, "model.nope=1"],
    "lstm-doctor seed=-1 (error)": [*APP, "seed=-1"],
    "lstm-doctor show model.units=3 (error)": [*APP, "show", "model.units=3"],
    **{
        f"lstm-doctor {name} --help": [*APP, name, "--help"]
        for name in ("show", "compare", "fix", "sync", "ui-check", "server", "diagnose", "prove")
    },
}


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bare = None
    for label, command in COMMANDS.items():
        seconds = median_seconds(command, args.repeats)
        bare = seconds if bare is None else bare
        print(f"{label:<36} {seconds:6.2f} s   (+{seconds - bare:.2f} s over the bare start)")


if __name__ == "__main__":
    main()
