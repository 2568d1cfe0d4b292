"""The ``quidpro`` command line: the application and the registry of its commands.

Exit codes: 0 success; 1 a model or data error (``file:line:col: message`` on
stderr, no traceback); 2 a usage error (unknown flag, scenario or constant); 3 an
internal error: a bug in quidpro, reported in one line (never a traceback, so a crash
is never mistaken for a clean error).

Adding a command: write ``cli/<command>.py`` exposing ``register(app: typer.Typer) ->
None`` (the command's function wrapped in :func:`quidpro.cli.common.command`, its
options taken from :mod:`quidpro.cli.options`), then add its name, module and
one-line summary to :data:`COMMANDS` below. The order there is the order of
``quidpro --help``; a command's module is imported only when that command runs.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import NamedTuple

import typer
import typer.main
from typer import _click
from typer.core import TyperGroup

from quidpro.lang.suggest import closest


class Entry(NamedTuple):
    """One command of the registry.

    Attributes:
        module: The module under ``quidpro.cli`` whose ``register(app)`` adds it.
        summary: What ``quidpro --help`` shows (the first paragraph of its own help).
    """

    module: str
    summary: str


# The registry, in the order of ``quidpro --help``. A command's module (and so pandas,
# numba, DuckDB or whatever its body needs) is imported only when that command is
# resolved: to run it or show its own --help. ``tests/test_cli_seams.py`` checks each
# summary against the command's help.
COMMANDS: dict[str, Entry] = {
    "run": Entry(
        "run", "Simulate MODEL once and summarise it; optionally write results and a plot."
    ),
    "check": Entry("check", "Check MODEL without writing anything, and trial-run every scenario."),
    "models": Entry("check", "List the built-in models."),
    "describe": Entry("describe", "Describe MODEL for a reader, as Markdown."),
    "ensemble": Entry(
        "ensemble",
        "Run an ensemble of MODEL: quantiles over time and the probability of each query.",
    ),
    "compare": Entry(
        "compare",
        "Compare scenarios of MODEL side by side, each an ensemble of the same members.",
    ),
    "sensitivity": Entry(
        "sensitivity",
        "Global sensitivity of OUTPUT at a time to the uncertain constants (SALib).",
    ),
    "evidence": Entry(
        "evidence", "List MODEL's evidence and, with --plot, draw the model against it."
    ),
    "calibrate": Entry(
        "calibrate", "Calibrate MODEL on its evidence: a posterior for its constants."
    ),
    "backtest": Entry(
        "backtest",
        "Back-test MODEL: calibrate before each cutoff, forecast and score what came after.",
    ),
    "claims": Entry(
        "claims",
        "Each headline claim (H1-H4) and observable claim (C...) as a probability.",
    ),
    "convert": Entry(
        "convert",
        "Convert MODEL between XMILE and YAML (format v1); the output runs identically.",
    ),
    "loops": Entry(
        "loops",
        "Loop dominance of MODEL with Loops That Matter: every feedback loop, its "
        "polarity, its share of the model's behaviour over time, and the dominant loops.",
    ),
    "discover": Entry(
        "discover",
        "Scenario discovery: the ranges of MODEL's uncertain constants (those with a "
        "distribution; never scenario levers) in which a condition holds, found by PRIM.",
    ),
    "brief": Entry("brief", "Write a brief of MODEL's findings (Markdown, HTML or PDF)."),
    "serve": Entry("serve", "Serve the analyst's workbench in the browser, and its JSON API."),
    "runs": Entry(
        "runs", "The run store: every ensemble, comparison and sensitivity analysis recorded."
    ),
}


def commands_of(module: str) -> dict[str, _click.Command]:
    """The click commands that ``quidpro.cli.<module>``'s ``register(app)`` adds."""
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    importlib.import_module(f"quidpro.cli.{module}").register(sub)
    return dict(typer.main.get_group(sub).commands)


class LazyGroup(TyperGroup):
    """The ``quidpro`` group: lists :data:`COMMANDS`, imports a command when resolved."""

    def list_commands(self, ctx: _click.Context) -> list[str]:  # noqa: ARG002 (click's)
        """Every command of the registry, in its order (nothing is imported)."""
        return list(COMMANDS)

    def get_command(
        self,
        ctx: _click.Context,  # noqa: ARG002
        cmd_name: str,
    ) -> _click.Command | None:
        """The command ``cmd_name``, its module imported on first use; None if unknown."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands.update(commands_of(COMMANDS[cmd_name].module))
        return self.commands.get(cmd_name)

    def format_commands(
        self,
        ctx: _click.Context,  # noqa: ARG002 (click's signature)
        formatter: _click.HelpFormatter,
    ) -> None:
        """The "Commands" section of ``--help`` from the registry's summaries."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.summary) for name, entry in COMMANDS.items()])

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        """As typer's, with "did you mean" suggestions drawn from the whole registry."""
        try:
            return self._click_resolve_command(ctx, args)
        except _click.exceptions.UsageError as exc:
            match = closest(args[0], COMMANDS) if args else None
            if match is not None:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {match!r}?"
            raise


app = typer.Typer(
    name="quidpro",
    cls=LazyGroup,
    help=(
        "Run, check and analyse system-dynamics models of geopolitical analyses.\n\n"
        "MODEL is a model file (YAML format v1, or XMILE) or the name of a built-in "
        "model (see `quidpro models`).\n\n"
        "Examples:\n\n"
        "  quidpro run nk_russia --plot run.png\n\n"
        "  quidpro run nk_russia --scenario ceasefire_2025 --out run.csv\n\n"
        "  quidpro run my_model.yaml --set growth_rate=0.2 --method rk4\n\n"
        "  quidpro check my_model.yaml"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def root() -> None:
    """The group itself does nothing: its commands do (typer needs a callback for a group)."""


#: Set to 1 to see the traceback of an internal error instead of the one-line message.
DEBUG_ENV = "QUIDPRO_DEBUG"
INTERNAL_ERROR = 3


def main() -> None:
    """The ``quidpro`` console script: any exception escaping a command exits 3."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("quidpro: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # the one place a bug is caught: the shell's last line
        if os.environ.get(DEBUG_ENV):
            raise
        sys.stderr.write(internal_error_message(exc) + "\n")
        sys.exit(INTERNAL_ERROR)


def internal_error_message(exc: BaseException) -> str:
    """One line naming the exception, with how to report it (control characters removed)."""
    text = " ".join(str(exc).split())
    text = "".join(ch for ch in text if ch.isprintable())[:300]
    return (
        f"quidpro: internal error: {type(exc).__name__}: {text} (this is a bug in quidpro: "
        f"please report it with the command and input; {DEBUG_ENV}=1 shows the traceback)"
    )
