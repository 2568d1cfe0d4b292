"""The shape of the command line: one home per shared thing, commands in one registry,
library errors shown with the flags a person typed."""

from __future__ import annotations

import ast
from pathlib import Path

import typer
from typer.testing import CliRunner

from quidpro.cli import main
from quidpro.cli.common import as_flags, command
from quidpro.errors import ConfigError, ParseError

CLI = Path(main.__file__).parent
SHARED_MODULES = {"__init__", "common", "options", "format", "record", "main"}
COMMAND_MODULES = {p.stem for p in CLI.glob("*.py")} - SHARED_MODULES
runner = CliRunner()


def _imports(path: Path) -> set[str]:
    """Every quidpro module ``path`` imports, at any depth of the file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("quidpro")}


def test_command_modules_import_only_the_shared_cli_modules() -> None:
    assert {"ensemble", "compare", "sensitivity", "run", "runs", "convert"} <= COMMAND_MODULES
    for stem in sorted(COMMAND_MODULES):
        cli_imports = {m for m in _imports(CLI / f"{stem}.py") if m.startswith("quidpro.cli.")}
        others = {m.split(".")[2] for m in cli_imports} - SHARED_MODULES
        assert not others, f"cli/{stem}.py imports the command module(s) {sorted(others)}"


def test_nothing_outside_the_shells_imports_the_cli() -> None:
    src = CLI.parent
    for path in src.rglob("*.py"):
        if path.parent.name in ("cli", "web"):
            continue
        bad = {m for m in _imports(path) if m.startswith("quidpro.cli")}
        assert not bad, f"{path.relative_to(src)} imports {sorted(bad)}"


def test_every_command_module_is_in_the_registry_and_registers_explicitly() -> None:
    registered = {entry.module for entry in main.COMMANDS.values()}
    assert registered == COMMAND_MODULES
    for stem in sorted(COMMAND_MODULES | SHARED_MODULES):
        tree = ast.parse((CLI / f"{stem}.py").read_text())
        body = [n for n in tree.body if not isinstance(n, ast.Expr)]  # skip the docstring
        kinds = [isinstance(n, ast.Import | ast.ImportFrom) for n in body]
        # imports first, none after the code starts: no registration by import side effect
        assert kinds == sorted(kinds, reverse=True), f"cli/{stem}.py imports after code"


def test_the_registry_names_exactly_the_commands_each_module_registers() -> None:
    for module in sorted(COMMAND_MODULES):
        names = {name for name, entry in main.COMMANDS.items() if entry.module == module}
        assert set(main.commands_of(module)) == names, module


def test_each_summary_is_the_first_paragraph_of_the_commands_help() -> None:
    # --help shows the registry's summaries without importing the commands: they must
    # not drift from the commands' own help
    for name, entry in main.COMMANDS.items():
        command = main.commands_of(entry.module)[name]
        first = (command.help or "").strip().split("\n\n")[0]
        assert entry.summary == " ".join(first.split()), name


def test_help_lists_every_command_with_its_summary() -> None:
    r = runner.invoke(main.app, ["--help"], terminal_width=400)
    assert r.exit_code == 0, r.output
    listed = r.output.split("Commands:")[1]
    rows = [line.split(None, 1) for line in listed.strip().splitlines()]
    assert [row[0] for row in rows] == list(main.COMMANDS)
    assert [row[1] for row in rows] == [e.summary for e in main.COMMANDS.values()]


def test_a_mistyped_command_gets_suggestions_from_the_whole_registry() -> None:
    r = runner.invoke(main.app, ["calibrat"])
    assert r.exit_code == 2
    assert "No such command 'calibrat'. Did you mean 'calibrate'?" in r.output


def test_every_command_is_reachable_with_help() -> None:
    names = ["run", "check", "models", "describe", "ensemble", "compare", "sensitivity"]
    names += ["runs", "convert"]
    for name in names:
        r = runner.invoke(main.app, [name, "--help"])
        assert r.exit_code == 0, (name, r.output)
        assert "Usage:" in r.output


def test_as_flags_maps_parameter_names_to_flags() -> None:
    flags = {"n_runs": "--runs", "batch_size": "--batch-size", "dt": "--dt"}
    assert as_flags("n_runs must be at least 1, got 0", flags) == "--runs must be at least 1, got 0"
    assert as_flags("need batch_size >= 1 (n_runs=5)", flags) == "need --batch-size >= 1 (--runs=5)"
    assert as_flags("dt must be positive, got -1", flags) == "--dt must be positive, got -1"
    # a plain word only where it opens the message: prose and model names stay as they are
    assert as_flags("unknown constant 'dt' (did you mean 'dt0'?)", flags) == (
        "unknown constant 'dt' (did you mean 'dt0'?)"
    )
    assert as_flags("my_n_runs is undefined", flags) == "my_n_runs is undefined"


def _app(exc: Exception) -> typer.Typer:
    app = typer.Typer()

    def body(n: int = 1) -> None:
        raise exc

    app.command()(command(body, flags={"n_runs": "--runs"}))
    return app


def test_a_library_config_error_is_a_usage_error_in_the_flags_words() -> None:
    r = runner.invoke(_app(ConfigError("n_runs must be at least 1, got 0")), [])
    assert r.exit_code == 2
    assert "quidpro: error: --runs must be at least 1, got 0" in r.output
    assert "Traceback" not in r.output


def test_a_model_defect_exits_1_with_its_location() -> None:
    r = runner.invoke(_app(ParseError("bad expression")), [])
    assert r.exit_code == 1
    assert "<string>:0:0: bad expression" in r.output


def test_ensemble_with_no_runs_names_the_flag(tmp_path: Path) -> None:
    model = Path(__file__).parent / "models" / "decay.yaml"
    for cmd in ("ensemble", "compare"):
        args = [cmd, str(model), "--runs", "0", "--no-store", "-q"]
        if cmd == "compare":
            args += ["--scenarios", "baseline"]
        r = runner.invoke(main.app, args)
        assert r.exit_code == 2, r.output
        assert "--runs must be at least 1" in r.output
        assert "n_runs" not in r.output
