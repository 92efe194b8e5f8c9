"""The CLI: every command has help, the README's commands exist, errors are one clear line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from typer.main import get_command
from typer.testing import CliRunner

from krc.cli import app
from tests.conftest import World

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out: list[tuple[tuple[str, ...], Any]] = []
    for name, cmd in (getattr(group, "commands", None) or {}).items():
        out.append((prefix + (name,), cmd))
        out.extend(_commands(cmd, prefix + (name,)))
    return out


def test_every_command_has_help() -> None:
    root = get_command(app)
    commands = _commands(root)
    assert len(commands) >= 15
    for path, cmd in commands:
        assert (cmd.help or "").strip(), f"krc {' '.join(path)} has no help text"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        for param in cmd.params:
            if type(param).__name__.endswith("Option"):
                assert param.help, f"option {param.name} of krc {' '.join(path)} has no help"


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make demo" in readme and "make test" in readme
    known = {" ".join(p) for p, _ in _commands(get_command(app))}
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", readme, flags=re.S))
    used = set(re.findall(r"^krc ([a-z-]+(?: [a-z-]+)?)", blocks, flags=re.M))
    assert used, "the README shows no krc command"
    for cmd in used:
        first = cmd.split()[0]
        assert cmd in known or first in known, f"README uses unknown command: krc {cmd}"
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    for target in re.findall(r"make ([a-z-]+)", readme):
        assert target in targets, f"README uses unknown make target {target}"


def test_contract_commands_exist() -> None:
    known = {" ".join(p) for p, _ in _commands(get_command(app))}
    assert {"demo", "serve", "db upgrade", "users create", "tokens create"} <= known


def test_users_and_tokens_commands(world: World) -> None:
    db = ["--db", world.db.url]
    r = runner.invoke(app, ["users", "create", "asc.kati", "--role", "vaccinator",
                            "--org-unit", "ML0207-C02", "--password", "long-enough-1", *db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["tokens", "create", "--user", "asc.kati", *db])
    assert r.exit_code == 0 and r.output.strip().startswith("krc_")
    r = runner.invoke(app, ["users", "list", *db])
    assert "asc.kati" in r.output


def test_cli_errors_are_one_clear_line(world: World) -> None:
    db = ["--db", world.db.url]
    r = runner.invoke(app, ["users", "create", "x", "--role", "chief", "--org-unit", "ML",
                            "--password", "long-enough-1", *db])
    assert r.exit_code == 1
    assert "Rôle inconnu : chief" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["tokens", "create", "--user", "nobody", *db])
    assert r.exit_code == 1 and "Utilisateur inconnu" in r.output
    r = runner.invoke(app, ["immunization", "coverage", "--period", "2026W1", *db])
    assert r.exit_code == 1 and "Période invalide" in r.output


def test_no_schema_is_a_clear_error(tmp_path: Path) -> None:
    r = runner.invoke(app, ["users", "list", "--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert r.exit_code == 1 and "krc db upgrade" in r.output


def test_db_upgrade_and_rebuild(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["geo", "load-seed", "--db", url]).exit_code == 0
    r = runner.invoke(app, ["db", "rebuild-facts", "--db", url])
    assert r.exit_code == 0 and "0 agrégats" in r.output


def test_settings_command(world: World) -> None:
    r = runner.invoke(app, ["immunization", "settings", "--set", "malaria_districts=ML0207",
                            "--db", world.db.url])
    assert r.exit_code == 0 and "ML0207" in r.output
    r = runner.invoke(app, ["immunization", "settings", "--set", "rota_doses=4",
                            "--db", world.db.url])
    assert r.exit_code == 1


def test_typer_app_is_typer() -> None:
    assert isinstance(app, typer.Typer)


def test_serve_refuses_an_old_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    from krc.migrations import upgrade
    upgrade(url, "0003")
    r = runner.invoke(app, ["serve", "--db", url])
    assert r.exit_code == 1 and "krc db upgrade" in r.output
