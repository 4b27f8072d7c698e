"""Compose conf/ with Hydra and write params.yaml, the file DVC stages read.

`python -m lstm_doctor.config.params` rewrites params.yaml from conf/ (never edit it by hand);
`python -m lstm_doctor.config.params --check` exits 1 if it has drifted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from lstm_doctor.base.workspace import conf_dir, packaged_conf_dir
from lstm_doctor.config import validate

__all__ = ["conf_dir", "packaged_conf_dir"]

HEADER = (
    "# Generated from conf/ by `python -m lstm_doctor.config.params`: edit conf/, not this file.\n"
)


def compose_config(overrides: list[str] | None = None, conf_dir: Path | str = "conf") -> DictConfig:
    """The composition of conf/ with Hydra overrides applied (as `lstm-doctor` would see it)."""
    with initialize_config_dir(config_dir=str(Path(conf_dir).resolve()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides or []))


def render_params(cfg: DictConfig) -> str:
    """params.yaml text for a composed config, after checking it against the schema."""
    validate(cfg)
    container = OmegaConf.to_container(cfg, resolve=True)
    return HEADER + OmegaConf.to_yaml(OmegaConf.create(container), sort_keys=False)


def main() -> None:
    """Write (or with --check, compare) params.yaml."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if params.yaml is out of date")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. scaling=minmax")
    args = parser.parse_args()
    text = render_params(compose_config(args.overrides))
    target = Path("params.yaml")
    if args.check:
        # Compare content, not text: `dvc exp run` rewrites the file in its own layout.
        current = OmegaConf.load(target) if target.exists() else None
        if current is None or OmegaConf.to_container(current) != OmegaConf.to_container(
            OmegaConf.create(text)
        ):
            print(
                "params.yaml differs from conf/: run `python -m lstm_doctor.config.params`",
                file=sys.stderr,
            )
            raise SystemExit(1)
        return
    target.write_text(text)


if __name__ == "__main__":
    main()
