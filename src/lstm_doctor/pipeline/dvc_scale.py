"""DVC's scale stage (`python -m lstm_doctor.pipeline.dvc_scale`): params.yaml's config, the
project's folders, and stages/scale's run; a refusal is one line and exit status 2."""

from __future__ import annotations

from lstm_doctor.base.errors import report_errors
from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.config import load_params
from lstm_doctor.stages import scale


def main() -> None:
    """DVC entry point."""
    report_errors(lambda: scale.run(load_params(), StagePaths.project()))


if __name__ == "__main__":
    main()
