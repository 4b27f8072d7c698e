"""Hydra overrides, the project's fix vocabulary: checked before Hydra runs, merged with a
fix, and rebuilt from any configuration so a run made by DVC can be rerun exactly.

Reads conf/ (the groups and their options) and the schema in config.py; writes nothing.
"""

from __future__ import annotations

import difflib
import shlex
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from lstm_doctor.base.errors import ConfigError
from lstm_doctor.config import Config
from lstm_doctor.config.schema import mapping_entry, mapping_keys

# conf/ groups that fill one section of the config each (experiment and hparams_search
# are presets that reach across sections: never needed to rebuild a configuration).
SECTION_GROUPS = (
    "dataset", "prepare", "scaling", "window", "model", "optimizer", "training", "tracking",
)  # fmt: skip


def parse(overrides: list[str]) -> list[Any]:
    """Hydra's own parse of each override (its grammar, its objects).

    Raises:
        ConfigError: for one Hydra cannot read, saying how to quote it.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except OverrideParseException:
            key = text.split("=", 1)[0]
            raise ConfigError(
                f"cannot read the override {text!r}: quote a value with spaces, brackets or "
                f"commas inside the override, e.g. '{key}=\"PM2.5 (ug/m3)\"' (single quotes "
                "for the shell, double quotes for Hydra)"
            ) from None
    return parsed


def schema_keys() -> set[str]:
    """Every dotted key of the schema, sections included (model, training.early_stopping)."""
    keys: set[str] = set()

    def walk(cls: Any, prefix: str) -> None:
        for item in fields(cls):
            key = f"{prefix}{item.name}"
            keys.add(key)
            kind = typing.get_type_hints(cls)[item.name]
            if is_dataclass(kind):
                walk(kind, f"{key}.")

    walk(Config, "")
    return keys


def check(overrides: list[str], conf_dir: Path) -> None:
    """Refuse, in one line, an override naming a key or a group option that does not exist.

    Values are checked after composition (config.validate); Hydra's own keys are Hydra's.

    Raises:
        ConfigError: naming the key or option and what exists instead.
    """
    keys = schema_keys()
    groups = sorted(p.name for p in conf_dir.iterdir() if p.is_dir())
    for override in parse(overrides):
        name = override.key_or_group
        if name.startswith("hydra"):
            continue
        if name in groups:
            if override.is_delete():
                continue
            values = (
                list(override.sweep_string_iterator())
                if override.is_sweep_override()
                else [override.value()]
            )
            options = sorted(p.stem for p in (conf_dir / name).glob("*.yaml"))
            for value in values:
                if str(value) not in options:
                    raise ConfigError(
                        f"'{name}={value}' is not an option of {name}; available: "
                        f"{', '.join(options)}"
                    )
            continue
        if name in keys or mapping_entry(override, conf_dir):
            continue
        close = difflib.get_close_matches(name, sorted(keys) + groups, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ConfigError(
            f"config key '{name}' does not exist; {hint}(`lstm-doctor --cfg job` lists every "
            "key, `lstm-doctor --help` the groups)"
        )


def canonical(override: str) -> str:
    """An override as Hydra writes a job's: `x=false` and `x=False`, `lr=1e-3` and
    `lr=0.001` are one override (a multirun job's overrides come back in this form)."""
    try:
        (parsed,) = parse([override])
    except ConfigError:
        return override
    if parsed.is_sweep_override() or parsed.value_type is None:  # a sweep, a deletion
        return override
    return f"{parsed.get_key_element()}={parsed.get_value_element_as_str()}"


def unfixed(job: list[str], fixed: list[str]) -> list[str]:
    """A sweep job's overrides that its command line did not fix: what sets the job apart."""
    same = {canonical(o) for o in fixed}
    return [o for o in job if canonical(o) not in same]


def key_of(override: str) -> str:
    """The key or group an override sets: `+model.units=3` -> model.units."""
    return override.split("=", 1)[0].lstrip("+~").split("@", 1)[0]


def merge(base: list[str], fix: str | list[str], conf_dir: Path | None = None) -> list[str]:
    """The base overrides with a fix's on top: a fix's key replaces the base's, and a fix
    choosing a group option (scaling=standard) replaces the base's keys that option sets
    (scaling.method=none would otherwise win, as Hydra applies keys after groups)."""
    parts = shlex.split(fix) if isinstance(fix, str) else list(fix)
    replaced = {key_of(p) for p in parts}
    for part in parts:
        replaced |= option_keys(part, conf_dir)
    return [o for o in base if key_of(o) not in replaced] + parts


def option_keys(override: str, conf_dir: Path | None = None) -> set[str]:
    """The dotted keys a group option's file sets (`scaling=standard` -> scaling.method,
    scaling.fit_on); none for an override that is not a section group's option."""
    group, _, option = override.partition("=")
    group = group.lstrip("+~")
    if group not in SECTION_GROUPS or not option:
        return set()
    if conf_dir is None:
        from lstm_doctor.config.params import conf_dir as project_conf

        conf_dir = project_conf()
    file = Path(conf_dir) / group / f"{option}.yaml"
    if not file.exists():
        return set()
    content = OmegaConf.to_container(OmegaConf.load(file))
    return {f"{group}.{key}" for key in leaves(content)}  # type: ignore[arg-type]


def command(overrides: list[str]) -> str:
    """The shell command that runs these overrides."""
    return " ".join(["lstm-doctor", *(shlex.quote(o) for o in overrides)])


def format_value(value: Any) -> str:
    """A value as Hydra's override grammar reads it back unchanged."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{_string(str(k))}:{format_value(v)}" for k, v in value.items()) + "}"
        )
    return _string(str(value))


def _string(text: str) -> str:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        (parsed,) = OverridesParser.create().parse_overrides([f"k={text}"])
        if parsed.value() == text and isinstance(parsed.value(), str):
            return text
    except OverrideParseException:
        pass
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def plain(cfg: Config | dict[str, Any]) -> dict[str, Any]:
    """A config (typed or composed) as nested plain data, with ??? left as it is."""
    node = OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.create(_container(cfg)))
    return OmegaConf.to_container(node, throw_on_missing=False)  # type: ignore[return-value]


def _container(cfg: Any) -> Any:
    if isinstance(cfg, Config):
        return OmegaConf.structured(cfg)
    node = OmegaConf.create(cfg)
    return OmegaConf.masked_copy(node, [k for k in node if k != "hydra"])


def leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted leaves of nested data; a mapping key (dataset.select) is one leaf."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in mapping_keys():
            out |= leaves(value, f"{path}.")
        else:
            out[path] = value
    return out


def differences(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Leaves of `b` whose value differs from `a`'s (numbers compared as numbers)."""
    left, right = leaves(a), leaves(b)
    return {k: v for k, v in right.items() if not _same(left.get(k, object()), v)}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


def reproduce(cfg: Config, conf_dir: Path) -> list[str]:
    """The overrides whose composition of conf/ is `cfg`: a group option per section where
    one matches best, then the keys that still differ. Rebuilds a run made from params.yaml
    (`dvc repro`, `dvc exp run -S`) as `lstm-doctor` overrides."""
    from lstm_doctor.config.params import compose_config

    target = plain(cfg)
    chosen: list[str] = []
    defaults = default_choices(conf_dir)
    for group in SECTION_GROUPS:
        current = defaults.get(group)
        best, fewest = None, None
        for file in sorted((Path(conf_dir) / group).glob("*.yaml")):
            # A section group's option is that section's keys (no defaults list of its own).
            option = OmegaConf.to_container(OmegaConf.load(file))
            n = len(differences({group: option}, {group: target[group]}))
            # Ties go to the default option: an override less to read.
            if fewest is None or n < fewest or (n == fewest and file.stem == current):
                best, fewest = file.stem, n
        if best is not None and best != current:
            chosen.append(f"{group}={best}")
    composed = plain(compose_config(chosen, conf_dir=conf_dir))
    rest = differences(composed, target)
    out = list(chosen)
    for key, value in rest.items():
        if key in mapping_keys():
            # Hydra merges a mapping given as a value into the one there: delete, then add.
            out += [f"~{key}", f"+{key}={format_value(value)}"]
        else:
            out.append(f"{key}={format_value(value)}")
    return out


def default_choices(conf_dir: Path) -> dict[str, str]:
    """Each group's option in conf/config.yaml's defaults list."""
    entries = OmegaConf.to_container(OmegaConf.load(Path(conf_dir) / "config.yaml").defaults)
    return {
        str(k): str(v)
        for e in entries
        if isinstance(e, dict)
        for k, v in e.items()  # type: ignore[union-attr]
    }


def composes_to(overrides: list[str], cfg: Config, conf_dir: Path) -> bool:
    """Whether these overrides, composed from conf/, give exactly `cfg`."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from lstm_doctor.config.params import compose_config

    try:
        composed = compose_config(overrides, conf_dir=conf_dir)
    except (HydraException, OmegaConfBaseException):
        return False
    return not differences(plain(composed), plain(cfg))
