"""Hostile command lines (issue 13): a bug exits 3 in one line; input errors exit 1 or 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quidpro.cli import check as check_cli
from quidpro.cli import main as cli_main
from quidpro.cli.main import app


def _boom(model: str) -> None:
    raise RuntimeError("kaboom\n\x1b]0;title\x07 second line")


def test_an_exception_escaping_a_command_is_one_line_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(cli_main.DEBUG_ENV, raising=False)
    monkeypatch.setattr(check_cli, "load_model", _boom)
    monkeypatch.setattr(sys, "argv", ["quidpro", "check", "logistic"])
    with pytest.raises(SystemExit) as info:
        cli_main.main()
    assert info.value.code == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "\x1b" not in err
    assert err.startswith("quidpro: internal error: RuntimeError: kaboom ]0;title second line")
    assert "this is a bug in quidpro: please report it" in err


def test_debug_env_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli_main.DEBUG_ENV, "1")
    monkeypatch.setattr(check_cli, "load_model", _boom)
    monkeypatch.setattr(sys, "argv", ["quidpro", "check", "logistic"])
    with pytest.raises(RuntimeError, match="kaboom"):
        cli_main.main()


def test_clean_errors_keep_their_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["quidpro", "check", "no_such_model_anywhere"])
    with pytest.raises(SystemExit) as info:
        cli_main.main()
    assert info.value.code in (1, 2)
    assert "internal error" not in capsys.readouterr().err


def test_a_file_that_is_not_a_model_is_never_echoed(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    r = CliRunner().invoke(app, ["run", str(secret)])
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        f"{secret}:1:1: not a quidpro model: no 'quidpro: 1' line and keys a model does not have"
    )
    assert "secret-hash" not in r.stdout + r.stderr
    secret.write_text("just one line of secret-hash\n")
    r = CliRunner().invoke(app, ["run", str(secret)])
    assert r.stderr.strip() == f"{secret}:1:1: a model file must be a mapping, got a str"
