"""`lstm-doctor --help`, answered without starting Hydra: the app's own help text, the
config groups as conf/ holds them, and where to see the composed configuration.

Hydra's own help composes the whole configuration first (about a second); this says the
same from the files, at once. `lstm-doctor <overrides> --help` still gets Hydra's.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lstm_doctor.base.workspace import conf_dir


def app_help(conf: Path | None = None) -> str:
    """The help page: conf/config.yaml's hydra.help header, every group's options, the
    footer."""
    conf = conf or conf_dir()
    config = yaml.safe_load((conf / "config.yaml").read_text())
    said = config.get("hydra", {}).get("help", {})
    groups = sorted(p for p in conf.iterdir() if p.is_dir() and not p.name.startswith("."))
    lines = [said.get("header", "lstm-doctor").rstrip(), "", "== Configuration groups ==",
             "Compose your configuration from those groups (group=option)", ""]  # fmt: skip
    for group in groups:
        options = sorted(f.stem for f in group.glob("*.yaml"))
        lines.append(f"{group.name}: {', '.join(options)}")
    lines += ["", "== Config ==",
              "Override anything in the config (foo.bar=value); `lstm-doctor --cfg job` prints "
              "it composed, and params.yaml holds the default composition.", "",
              said.get("footer", "").rstrip()]  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"
