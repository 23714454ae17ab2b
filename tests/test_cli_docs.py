"""Every command has help with an example, and the README names it."""

from __future__ import annotations

import pytest
import readme
import typer

from cfgmon.cli import app

README = readme.text()


def _commands(group, prefix: str = "cfgmon") -> list[tuple[str, object]]:
    """Leaf commands by their full path; typer groups are the ones with `commands`."""
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):
            found.extend(_commands(command, path))
        else:
            found.append((path, command))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_the_contract_commands_exist():
    names = {path for path, _ in COMMANDS}
    assert {
        "cfgmon collect", "cfgmon check", "cfgmon sql", "cfgmon controls list",
        "cfgmon controls show", "cfgmon controls transpile", "cfgmon pattern test",
        "cfgmon export", "cfgmon demo",
    } <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_has_help_with_an_example_and_is_in_the_readme(cli, path, command):
    result = cli(*path.split()[1:], "--help")
    assert result.exit_code == 0
    assert (command.help or "").strip(), f"{path} has no help text"
    assert "Example:" in result.stdout, f"{path} --help shows no example"
    assert path in README, f"README does not mention `{path}`"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_dash_h_is_help_too(cli, path, command):
    assert cli(*path.split()[1:], "-h").stdout == cli(*path.split()[1:], "--help").stdout


def test_version_is_the_installed_package_version(cli):
    from importlib.metadata import version

    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"cfgmon {version('cfgmon')}"
    assert cli("-h").exit_code == 0 and "--version" in cli("-h").stdout


def test_every_control_is_in_the_readme_family_table():
    from cfgmon.controls import load_catalogue

    for control_id in load_catalogue():
        assert f"| `{control_id}` |" in README, f"README's family table lacks {control_id}"
