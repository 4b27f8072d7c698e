"""Reading a typed config: as plain nested data, and by dotted key, without OmegaConf.

OmegaConf's own ways (a structured node of the dataclass, then a select or a container)
cost milliseconds each; the doctor reads configs this way for every fix it weighs.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any


def tree(cfg: Any) -> dict[str, Any]:
    """A typed config as nested plain data (a copy): what OmegaConf's container of it is,
    at a fraction of its cost."""
    return asdict(cfg)


def value_at(cfg: Any, key: str, default: Any = None) -> Any:
    """The value at a dotted key of a typed config (or nested plain data), or `default`
    where the key does not exist."""
    node = cfg
    for part in key.split("."):
        if isinstance(node, dict):
            if part not in node:
                return default
            node = node[part]
        elif is_dataclass(node) and hasattr(node, part):
            node = getattr(node, part)
        else:
            return default
    return node


def flatten(cfg: Any) -> dict[str, Any]:
    """Every leaf of the config as a dotted key (for MLflow params)."""
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            out[prefix.rstrip(".")] = node

    walk(tree(cfg), "")
    return out
