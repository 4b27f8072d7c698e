"""dvc.yaml declares everything each stage reads, as the code itself says, so no change is silent.

DVC reruns a stage only when a declared dep or param changes: whatever a stage reads without
declaring it leaves stale results in the cache. These tests derive from the source which
modules each stage loads, which config sections and which other stages' outputs it reads,
and hold dvc.yaml to that; the slow ones check that real DVC then sees each change.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import subprocess
import sys
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.config import Config

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PACKAGE = "lstm_doctor"

# The config's sections and the dataclass each is typed with (seed is a plain int).
SECTIONS = [f.name for f in dataclasses.fields(Config)]
SECTION_TYPES = {
    hint.__name__: name
    for name, hint in typing.get_type_hints(Config).items()
    if dataclasses.is_dataclass(hint)
}
# Calls that walk every field of what they are handed: a Config handed to one reads it all.
WHOLE_CONFIG_READERS = {
    "OmegaConf.structured",
    "OmegaConf.create",
    "OmegaConf.merge",
    "OmegaConf.to_container",
    "OmegaConf.to_yaml",
    "asdict",
    "dataclasses.asdict",
    "astuple",
    "dataclasses.astuple",
    "vars",
}
# Validation reads every key only to reject bad values: a change it rejects fails the first
# stage that uses the key, so it makes no stage depend on keys that stage does not use.
NOT_FOLLOWED = {(f"{PACKAGE}.config", "validate"), (f"{PACKAGE}.config.schema", "validate")}
# The attributes of a DatasetConfig that name raw files.
RAW_FILE_ATTRS = {"path", "test_path", "files"}
# Code finds conf/ through a `conf_dir()` of ours, or hands Hydra a folder to compose.
CONF_FINDERS = {"conf_dir"}
HYDRA_COMPOSERS = {"initialize_config_dir", "hydra.initialize_config_dir"}


# ---- dvc.yaml --------------------------------------------------------------------------


def dvc_stages() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


STAGES = sorted(dvc_stages())


def entry_module(stage: dict[str, Any]) -> str:
    """The module a stage's `python -m lstm_doctor.<module>` runs."""
    match = re.fullmatch(rf"python -m ({PACKAGE}(?:\.\w+)+)", stage["cmd"].strip())
    assert match, f"cmd {stage['cmd']!r} is not `python -m {PACKAGE}.<module>`"
    return match.group(1)


def _names(entries: list[Any] | None) -> list[str]:
    """Paths of a deps/outs list, whose entries are strings or {path: options}."""
    return [e if isinstance(e, str) else next(iter(e)) for e in entries or []]


def deps(stage: dict[str, Any]) -> list[str]:
    return [d.rstrip("/") for d in _names(stage.get("deps"))]


def outs(stage: dict[str, Any]) -> list[str]:
    return [o.rstrip("/") for key in ("outs", "metrics", "plots") for o in _names(stage.get(key))]


def declared_params(stage: dict[str, Any]) -> set[str]:
    """Top-level params.yaml sections a stage declares (`- seed`, `- params.yaml: [a.b]`;
    a file listed with no keys is all of it)."""
    found: set[str] = set()
    for entry in stage.get("params", []):
        if isinstance(entry, str):
            found.add(entry.split(".")[0])
        for keys in entry.values() if isinstance(entry, dict) else []:
            found |= {key.split(".")[0] for key in keys} if keys else set(SECTIONS)
    return found


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def covered(path: str, dep_paths: list[str]) -> bool:
    """DVC sees a change to `path` if it is a dep or lies inside a folder dep."""
    return any(inside(path, d) for d in dep_paths)


def covered_by(dep: str, paths: list[str]) -> bool:
    """`dep` is one of `paths` or a folder holding one."""
    return any(inside(p, dep) for p in paths)


# ---- which modules a stage loads (import statements anywhere, followed transitively) ------


def module_file(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def with_parents(name: str) -> set[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py first."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


@dataclasses.dataclass
class Module:
    """One source file and what its names are bound to."""

    name: str
    tree: ast.Module
    loads: set[str]  # our modules its import statements load (inside functions too)
    modules: dict[str, str]  # local name -> our module it is bound to
    imported: dict[str, tuple[str, str]]  # local name -> (our module, name in it)
    foreign: set[str]  # local names imported from anywhere else
    defs: dict[str, ast.AST]  # top-level functions and classes


@cache
def module(name: str) -> Module:
    path = module_file(name)
    assert path is not None, name
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = Module(name, tree, set(), {}, {}, set(), {})
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                if not ours(alias.name):
                    found.foreign.add(local)
                    continue
                found.loads |= with_parents(alias.name)
                found.modules[local] = alias.name if alias.asname else PACKAGE
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            if not ours(base):
                found.foreign |= {a.asname or a.name for a in node.names}
                continue
            found.loads |= with_parents(base)
            for alias in node.names:
                local, full = alias.asname or alias.name, f"{base}.{alias.name}"
                if module_file(full):
                    found.loads.add(full)
                    found.modules[local] = full
                else:
                    found.imported[local] = (base, alias.name)
    found.loads = {m for m in found.loads if module_file(m)}
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    found.defs = {n.name: n for n in tree.body if isinstance(n, kinds)}
    return found


@cache
def loaded(entry: str) -> frozenset[str]:
    """Our modules that running `entry` can load: every import statement, followed."""
    seen: set[str] = set()
    todo = [m for m in with_parents(entry) if module_file(m)]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += module(name).loads - seen
    return frozenset(seen)


def source(name: str) -> str:
    path = module_file(name)
    assert path is not None
    return path.relative_to(ROOT).as_posix()


# ---- what a stage's code reads (the functions and classes it can reach) -----------------


def walk(node: ast.AST, into_functions: bool) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    """Every node under `node` with its parent; a module's top level skips function bodies."""
    todo: list[tuple[ast.AST, ast.AST | None]] = [(node, None)]
    while todo:
        current, parent = todo.pop()
        yield current, parent
        for child in ast.iter_child_nodes(current):
            if into_functions or not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                todo.append((child, current))


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of names, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def lookup(name: str, attr: str, depth: int = 0) -> tuple[str, str] | None:
    """The function or class `attr` of our module `name`, following re-exports."""
    found = module(name)
    if attr in found.defs:
        return name, attr
    if attr in found.imported and depth < 10:
        return lookup(*found.imported[attr], depth + 1)
    return None


def refers_to(mod: Module, node: ast.AST) -> tuple[str, str] | None:
    """Our function or class that a name or attribute refers to, if any."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        if node.id in mod.defs:
            return mod.name, node.id
        if node.id in mod.imported:
            return lookup(*mod.imported[node.id])
    if isinstance(node, ast.Attribute) and (chain := dotted(node.value)):
        first, _, rest = chain.partition(".")
        if first in mod.modules:
            target = ".".join(filter(None, [mod.modules[first], rest]))
            if module_file(target):
                return lookup(target, node.attr)
    return None


@cache
def reached(entry: str) -> tuple[tuple[str, ast.AST, bool], ...]:
    """The code `python -m entry` can run: the top level of every module it loads, and every
    function or class of ours that reached code names (called or passed on; a class brings
    all its methods), except validation (see NOT_FOLLOWED)."""
    units: list[tuple[str, ast.AST, bool]] = []
    for name in sorted(loaded(entry)):
        body = module(name).tree.body
        if name != entry:  # only the module run as __main__ runs its `if __name__ == ...` block
            body = [
                s for s in body if not (isinstance(s, ast.If) and "__main__" in ast.unparse(s.test))
            ]
        units.append((name, ast.Module(body=body, type_ignores=[]), False))
    seen: set[tuple[str, str]] = set()
    for name, unit, into in units:  # grows while it is read
        for node, _ in walk(unit, into):
            target = refers_to(module(name), node)
            if target and target not in seen and target not in NOT_FOLLOWED:
                seen.add(target)
                units.append((target[0], module(target[0]).defs[target[1]], True))
    return tuple(units)


@dataclasses.dataclass
class Reads:
    sections: set[str] = dataclasses.field(default_factory=set)  # config sections
    outputs: set[str] = dataclasses.field(default_factory=set)  # StagePaths fields
    raw_files: bool = False  # the dataset's raw files
    conf: bool = False  # the files in conf/


STAGE_FIELDS = {f.name for f in dataclasses.fields(StagePaths)}


@cache
def reads(entry: str) -> Reads:
    """What the code reached from `entry` reads. Syntactic and conservative (a superset):

    - a section: `<x>.<section>` (`cfg.split`, `load_params().tracking`) read, not called
      (`line.split()` is a string's), on anything but `self` or an imported name (`np.split`);
      or a parameter annotated with a section's type (`cfg: SplitConfig`);
    - every section: a name annotated `Config` handed whole to a call that walks all its
      fields (WHOLE_CONFIG_READERS: `OmegaConf.structured(cfg)` in `flatten`, which tracking
      logs to MLflow);
    - an output: `<x>.<field>` of a StagePaths field (`paths.prepared`), same exclusions;
    - raw files: `.path`, `.test_path` or `.files` of a `DatasetConfig` (a parameter so
      annotated, `<x>.dataset`, or a name assigned from `<x>.dataset`);
    - conf/: a function of ours named `conf_dir` is reached, or Hydra's
      `initialize_config_dir` is called (the diagnosis rebuilds its overrides from conf/).

    It relies on how this code is written: a whole Config travels under a `Config`
    annotation, paths are reached through StagePaths, and no name is bound dynamically.
    """
    found = Reads()
    for name, unit, into in reached(entry):
        mod = module(name)
        if getattr(unit, "name", None) in CONF_FINDERS:
            found.conf = True
        skip = {"self", "cls"} | mod.foreign | set(mod.modules) | set(mod.imported)
        configs: set[str] = set()
        datasets: set[str] = set()
        nodes = list(walk(unit, into))
        for node, parent in nodes:
            annotation = None
            if isinstance(node, ast.arg) and node.annotation is not None:
                annotation, target = ast.unparse(node.annotation), node.arg
            elif isinstance(node, ast.AnnAssign) and not isinstance(parent, ast.ClassDef):
                annotation, target = ast.unparse(node.annotation), dotted(node.target) or ""
            if annotation is not None:
                if re.search(r"\bConfig\b", annotation):
                    configs.add(target)
                if re.search(r"\bDatasetConfig\b", annotation):
                    datasets.add(target)
                for type_name, section in SECTION_TYPES.items():
                    if re.search(rf"\b{type_name}\b", annotation):
                        found.sections.add(section)
            value = getattr(node, "value", None)
            if isinstance(node, ast.Assign) and getattr(value, "attr", None) == "dataset":
                datasets |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node, parent in nodes:
            if isinstance(node, ast.Call) and dotted(node.func) in HYDRA_COMPOSERS:
                found.conf = True
            if isinstance(node, ast.Call) and dotted(node.func) in WHOLE_CONFIG_READERS:
                handed = [*node.args, *(k.value for k in node.keywords)]
                if any(isinstance(a, ast.Name) and a.id in configs for a in handed):
                    found.sections |= set(SECTIONS)
            if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
                continue
            if isinstance(parent, ast.Call) and parent.func is node:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in skip:
                continue
            if node.attr in SECTIONS:
                found.sections.add(node.attr)
            if node.attr in STAGE_FIELDS:
                found.outputs.add(node.attr)
            if node.attr in RAW_FILE_ATTRS and (
                (isinstance(node.value, ast.Name) and node.value.id in datasets)
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "dataset")
            ):
                found.raw_files = True
    return found


def descendants(name: str, stages: dict[str, dict[str, Any]]) -> set[str]:
    """Stages downstream of `name` (they depend on its outputs, directly or not)."""
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        for other, spec in stages.items():
            feeds = any(
                inside(d, o) or inside(o, d) for o in outs(stages[current]) for d in deps(spec)
            )
            if feeds and other not in found:
                found.add(other)
                todo.append(other)
    return found


# ---- the checks -------------------------------------------------------------------------


def test_every_stage_runs_one_of_our_modules() -> None:
    for name in STAGES:
        assert module_file(entry_module(dvc_stages()[name])), f"stage {name}: no such module"


@pytest.mark.parametrize("name", STAGES)
def test_stage_deps_list_exactly_the_modules_it_loads(name: str) -> None:
    """Every module the stage can load is a dep (a change to any can change its results),
    and no src/ dep is one it never loads (a change there would rerun it for nothing).
    Imports inside functions count, as do imports only type checkers run: a superset."""
    stage = dvc_stages()[name]
    needed = sorted(source(m) for m in loaded(entry_module(stage)))
    missing = [f for f in needed if not covered(f, deps(stage))]
    assert not missing, f"stage {name} loads {missing}: add them to its deps in dvc.yaml"
    # A src/ dep must be, or be a folder holding, a module the stage loads.
    unused = [d for d in deps(stage) if d.startswith("src/") and not covered_by(d, needed)]
    assert not unused, f"stage {name} never loads {unused}: drop them from its deps"


@pytest.mark.parametrize("name", STAGES)
def test_stage_params_cover_the_config_sections_its_code_reads(name: str) -> None:
    stage = dvc_stages()[name]
    missing = sorted(reads(entry_module(stage)).sections - declared_params(stage))
    assert not missing, f"stage {name} reads config {missing}: add them to its params"


@pytest.mark.parametrize("name", STAGES)
def test_stage_deps_cover_the_outputs_of_other_stages_it_reads(name: str) -> None:
    """Outputs of another stage that this stage's code opens are its deps. The stage's own
    outputs are not, nor are those of stages downstream of it: DVC forbids the cycle, and a
    stage touching them writes there (train writes the diagnosis when training diverges)."""
    stages = dvc_stages()
    stage = stages[name]
    layout = StagePaths.project(".")
    skipped = {name} | descendants(name, stages)
    missing = []
    for field in sorted(reads(entry_module(stage)).outputs):
        folder = Path(getattr(layout, field)).as_posix()
        for other, spec in stages.items():
            if other in skipped:
                continue
            for out in outs(spec):
                touched = inside(out, folder) or inside(folder, out)
                if touched and not any(inside(out, d) or inside(d, out) for d in deps(stage)):
                    missing.append(f"{out} (from {other})")
    assert not missing, f"stage {name} reads {missing}: add them to its deps in dvc.yaml"


@pytest.mark.parametrize("name", STAGES)
def test_stage_deps_cover_every_datasets_raw_files(name: str) -> None:
    """A stage whose code opens the dataset's raw files sees a change to any of them,
    whichever dataset conf/ selects."""
    stage = dvc_stages()[name]
    if not reads(entry_module(stage)).raw_files:
        return
    files = []
    for option in sorted((ROOT / "conf" / "dataset").glob("*.yaml")):
        spec = yaml.safe_load(option.read_text())
        files += [spec[k] for k in ("path", "test_path") if spec.get(k) not in (None, "???")]
    missing = [f for f in files if not covered(Path(f).as_posix(), deps(stage))]
    assert files and not missing, f"stage {name} reads raw {missing}: add them to its deps"


@pytest.mark.parametrize("name", STAGES)
def test_stage_deps_cover_conf_if_its_code_reads_it(name: str) -> None:
    stage = dvc_stages()[name]
    if reads(entry_module(stage)).conf:
        assert covered("conf", deps(stage)), f"stage {name} reads conf/: add conf to its deps"


def test_the_analysis_sees_what_a_stage_is_known_to_read() -> None:
    """Guard the analysis itself: a rule that stopped firing would pass everything."""
    evaluate = reads(f"{PACKAGE}.pipeline.dvc_evaluate")
    assert {"prepared", "scaled", "windows", "models"} <= evaluate.outputs
    assert set(SECTIONS) == reads(f"{PACKAGE}.pipeline.dvc_train").sections  # flatten()
    assert {"window"} <= reads(f"{PACKAGE}.pipeline.dvc_window").sections
    assert "model" not in reads(f"{PACKAGE}.pipeline.dvc_prepare").sections
    assert reads(f"{PACKAGE}.pipeline.dvc_prepare").raw_files
    assert f"{PACKAGE}.doctor.diagnosis" in loaded(f"{PACKAGE}.pipeline.dvc_evaluate")


LOADED = (
    "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted(m.__file__ for n, m in list(sys.modules.items()) "
    f"if (n == {PACKAGE!r} or n.startswith({PACKAGE!r} + '.')) and getattr(m, '__file__', None))))"
)


@pytest.fixture(scope="module")
def imported_files() -> dict[str, set[str]]:
    """Per stage, the files of ours that importing its module loads, all stages at once
    (two of them import TensorFlow, which takes long on a busy machine)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    running = {
        name: subprocess.Popen(
            [sys.executable, "-c", LOADED, entry_module(dvc_stages()[name])],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in STAGES
    }
    found = {}
    for name, process in running.items():
        out, _ = process.communicate(timeout=600)
        assert process.returncode == 0, f"importing stage {name}'s module failed"
        found[name] = {Path(f).resolve().relative_to(ROOT).as_posix() for f in json.loads(out)}
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", STAGES)
def test_modules_a_stage_loads_at_import_are_seen_by_the_analysis(
    name: str, imported_files: dict[str, set[str]]
) -> None:
    """What importing the stage really loads is inside the static set, so no import hides
    from the analysis (importlib by string, say) and every such module is a dep."""
    stage = dvc_stages()[name]
    files = imported_files[name]
    static = {source(m) for m in loaded(entry_module(stage))}
    assert files <= static, f"stage {name} loads {sorted(files - static)} unseen by the analysis"
    missing = sorted(f for f in files if not covered(f, deps(stage)))
    assert not missing, f"stage {name} loads {missing}: add them to its deps in dvc.yaml"


# ---- real DVC sees each change ----------------------------------------------------------


def changed(value: Any) -> Any:
    """A different value of the same kind (a leaf of params.yaml)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "_changed"
    if isinstance(value, list):
        return [*value, "changed"]
    return "changed"


def change_one_key(params: dict[str, Any], section: str) -> None:
    """Change the first leaf under `section` in place."""
    parent, key = params, section
    while isinstance(parent[key], dict) and parent[key]:
        parent, key = parent[key], next(iter(parent[key]))
    parent[key] = changed(parent[key])


def dvc_cli(project: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_dvc_status_reruns_exactly_the_stages_that_read_a_change(project_copy: Path) -> None:
    """No training: stand-in outputs and `dvc commit --force` give a dvc.lock that matches
    the copy. Then, one change at a time, DVC's own status (the call `dvc status` makes, in
    process: ten times faster than the CLI) must list exactly the stages that load a touched
    module, and at least the stages that read a changed section."""
    from dvc.repo import Repo

    stages = dvc_stages()
    for spec in stages.values():
        for out in outs(spec):
            path = project_copy / out
            if path.suffix:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("{}\n")
            else:
                path.mkdir(parents=True, exist_ok=True)
                (path / "stand-in").write_text("x\n")
    dvc_cli(project_copy, "commit", "--force")
    assert json.loads(dvc_cli(project_copy, "status", "--json")) == {}

    def stale() -> set[str]:
        with Repo(str(project_copy)) as repo:
            # Keys read `<path to>/dvc.yaml:<stage>` when the repo is not the cwd.
            return {key.rpartition(":")[2] for key in repo.status()}

    wrong: dict[str, tuple[list[str], list[str]]] = {}
    for path in sorted((project_copy / "src").rglob("*.py")):
        name = ".".join(path.relative_to(project_copy / "src").with_suffix("").parts)
        name = name.removesuffix(".__init__")
        expected = {s for s, spec in stages.items() if name in loaded(entry_module(spec))}
        text = path.read_bytes()
        path.write_bytes(text + b"\n# touched\n")
        got = stale()
        path.write_bytes(text)
        if got != expected:
            wrong[name] = (sorted(got), sorted(expected))
    assert not wrong, f"module: (dvc status, stages loading it): {wrong}"

    params_file = project_copy / "params.yaml"
    original = params_file.read_text()
    for section in SECTIONS:
        params = yaml.safe_load(original)
        change_one_key(params, section)
        params_file.write_text(yaml.safe_dump(params, sort_keys=False))
        got = stale()
        params_file.write_text(original)
        readers = {s for s, spec in stages.items() if section in reads(entry_module(spec)).sections}
        if not readers <= got:
            wrong[section] = (sorted(got), sorted(readers))
    assert not wrong, f"section: (dvc status, stages reading it): {wrong}"
    assert stale() == set()
