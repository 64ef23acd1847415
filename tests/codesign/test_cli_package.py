"""The command-line package's own rules: the command table, no command importing another, ``--json`` on
every command, ``python -m codesign``, the demo config as package data."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from codesign import cli

CLI = Path(cli.__file__).parent


def test_every_command_module_is_in_the_table_and_registers_its_own_name() -> None:
    modules = {p.stem for p in CLI.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(cli.COMMANDS)
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert list(commands) == list(cli.COMMANDS)


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_no_command_module_imports_another(name: str) -> None:
    tree = ast.parse((CLI / f"{name}.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    others = {f"codesign.cli.{c}" for c in cli.COMMANDS} | {"codesign.cli"}
    assert not imported & others, f"codesign/cli/{name}.py imports {sorted(imported & others)}"


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_every_command_has_json_output(name: str) -> None:
    parser = cli.build_parser()._subparsers._group_actions[0].choices[name]
    assert "--json" in parser._option_string_actions


def test_python_dash_m_codesign_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "codesign", "list", "parts", "xc7z0*", "--json"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    parts = json.loads(out.stdout)
    assert parts and all(p["name"].startswith("xc7z0") and p["lut"] > 0 for p in parts)


def test_list_templates_json_matches_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "templates", "--json"]) == 0
    names = [t["name"] for t in json.loads(capsys.readouterr().out)]
    assert cli.main(["list", "templates"]) == 0
    text = capsys.readouterr().out
    assert names and all(f"{n} " in text for n in names)


def test_the_demo_config_ships_with_the_package() -> None:
    from codesign.cli.demo import demo_config

    config = demo_config()
    assert config["name"] == "demo" and config["search"]["trials"] > 0
