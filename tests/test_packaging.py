"""What `pip install .` puts on a user's machine: the SDK alone, under the one name `cornu`.

A fresh virtual environment gets the project without extras, as a user who only trains
through a service installs it, and the SDK is imported from a folder that has packages
of its own called `core` and `api` (a user's project often does).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT_S = 600


def _tracked_copy(destination: Path) -> Path:
    """The committed tree (symbolic links kept), so that building it leaves no
    build/ or egg-info behind in the repository."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        target = destination / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        elif source.is_file():
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install .` (no extras) of the repository's tree."""
    base = tmp_path_factory.mktemp("sdk-install")
    source = _tracked_copy(base / "source")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def test_the_install_adds_only_cornu_to_the_import_path(sdk_python: Path) -> None:
    top_level = {
        line.strip()
        for dist_info in _site_packages(sdk_python).glob("cornu-*.dist-info")
        for line in (dist_info / "RECORD").read_text().splitlines()
        if not line.startswith(("cornu-", "../"))
    }
    assert {entry.split("/")[0] for entry in top_level} == {"cornu"}
    assert not (_site_packages(sdk_python) / "core").exists()


def test_the_sdk_imports_beside_a_users_own_core_and_api(sdk_python: Path, tmp_path: Path) -> None:
    for package in ("core", "api", "worker"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(f"MINE = {package!r}\n")
    program = (
        "import sys, cornu, core, api;"
        "from cornu import layers, models;"
        "assert core.MINE == 'core' and api.MINE == 'api';"
        "models.Sequential([layers.Dense(2, input_shape=(3,))]).model_spec();"
        "heavy = [m for m in ('torch', 'redis', 'celery', 'fastapi') if m in sys.modules];"
        "assert not heavy, heavy;"
        "import importlib.util;"  # the install itself brought none of them
        "installed = [m for m in ('torch', 'redis', 'celery') if importlib.util.find_spec(m)];"
        "assert not installed, installed;"
        "print('ok')"
    )
    result = subprocess.run(
        [str(sdk_python), "-c", program], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("command", [["up"], ["worker"], ["api"], ["keys", "create", "team"]])
def test_server_commands_in_an_sdk_install_say_what_to_install(
    sdk_python: Path, command: list[str]
) -> None:
    cornu = sdk_python.parent / "cornu"
    result = subprocess.run([str(cornu), *command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pip install 'cornu[server]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_repository_packages_cannot_be_imported_under_a_second_name() -> None:
    """`core/` is `cornu.core`; importing it as `core` would duplicate every class."""
    result = subprocess.run(
        [sys.executable, "-c", "import core"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "import this package as cornu.core" in result.stderr
