"""A non-editable install works on its own: the wheel carries every module and all of conf/.

The wheel is built from a copy of the project (the build leaves build/ and *.egg-info behind)
and installed into a plain folder; Python then runs from a folder with no conf/ of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lstm_doctor.config.params import conf_dir

ROOT = Path(__file__).resolve().parents[2]

# Composes the default config through whatever conf_dir() finds, and says where that was.
COMPOSE = """
from lstm_doctor.config.params import compose_config, conf_dir
found = conf_dir()
cfg = compose_config([], found)
assert cfg.dataset.name == "electricity", cfg.dataset.name
print(found / "config.yaml")
"""


def test_conf_dir_is_the_environments_then_the_working_folders_then_the_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LSTM_DOCTOR_CONF", str(tmp_path / "mine"))
    assert conf_dir() == (tmp_path / "mine").resolve()
    monkeypatch.delenv("LSTM_DOCTOR_CONF")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").mkdir()
    # A conf/ without config.yaml is some other folder, not a project's conf/.
    assert conf_dir().resolve() == ROOT / "conf"  # the checkout this package runs from
    (tmp_path / "conf" / "config.yaml").write_text("seed: 0\n")
    assert conf_dir().resolve() == (tmp_path / "conf").resolve()


def pip(*args: str) -> None:
    """This environment's pip, offline (no build isolation, no dependencies)."""
    command = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built without network from the installed setuptools."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("src", "conf"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pip("wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(folder / "dist"))
    (built,) = (folder / "dist").glob("lstm_doctor-*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_every_module_and_every_conf_file(wheel: Path) -> None:
    """A module in a new subpackage, or a new conf/ group, that the wheel leaves out fails here."""
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.py")}
    conf = {
        "lstm_doctor/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "conf").rglob("*.yaml")
    }
    assert "lstm_doctor/conf/config.yaml" in conf
    assert not modules - names, f"modules missing from the wheel: {sorted(modules - names)}"
    assert not conf - names, f"conf/ files missing from the wheel: {sorted(conf - names)}"


@pytest.mark.slow
def test_installed_wheel_composes_its_own_conf_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    pip("install", "--no-deps", "--target", str(target), str(wheel))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "LSTM_DOCTOR_CONF"}
    # The installed copy first: the editable install's path to src/ comes after it.
    env["PYTHONPATH"] = str(target)

    def python(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args], cwd=elsewhere, capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    used = Path(python("-c", COMPOSE).strip().splitlines()[-1]).resolve()
    assert used == target.resolve() / "lstm_doctor" / "conf" / "config.yaml"
    # The command people run, from the same folder: Hydra finds the packaged conf/ too.
    assert "name: electricity" in python("-m", "lstm_doctor.commands.app", "--cfg", "job")


def test_gpu_extra_is_tensorflow_for_cuda_at_the_locked_version_and_not_in_the_lock() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    (pinned,) = [line.split("==")[1] for line in lock if line.startswith("tensorflow-cpu==")]
    assert extras["gpu"] == [f"tensorflow[and-cuda]=={pinned}"]
    # `make setup` installs the lock: the CUDA build and NVIDIA's wheels stay out of it.
    assert not [line for line in lock if line.startswith(("tensorflow==", "nvidia-"))]
