"""Shared fixtures. The calibration data lives outside the project (see its README); tests that need it
skip cleanly when it is absent."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def calibration_dir() -> Path | None:
    """The shared synthesis-results folder, or None when this checkout has none beside it."""
    env = os.environ.get("CODESIGN_CALIBRATION_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "synth" / "calibration"
    return path if path.is_dir() and any(path.glob("*.csv")) else None


@pytest.fixture
def calibration_path() -> Path:
    path = calibration_dir()
    if path is None:
        pytest.skip("calibration data folder not present (../shared/data/synth/calibration)")
    return path


def _load_script(name: str) -> ModuleType:
    """The module ``scripts/<name>.py`` (``scripts/`` is not a package), loaded once per session."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="session")
def load_script() -> Callable[[str], ModuleType]:
    """``load_script("bench_cost_model")``: a script's module, for tests of its functions."""
    return _load_script


@pytest.fixture(autouse=True, scope="session")
def _own_compile_cache(tmp_path_factory: pytest.TempPathFactory):
    """The C-model compile cache (default under ``$XDG_CACHE_HOME``) in a session folder, never the user's."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
