"""The ``quidpro`` command line: the application and the registry of its commands.

Exit codes: 0 success; 1 a model or data error (``file:line:col: message`` on
stderr, no traceback); 2 a usage error (unknown flag, scenario or constant); 3 an
internal error: a bug in quidpro, reported in one line (never a traceback, so a crash
is never mistaken for a clean error).

Adding a command: write ``cli/<command>.py`` exposing ``register(app: typer.Typer) ->
None`` (the command's function wrapped in :func:`quidpro.cli.common.command`, its
options taken from :mod:`quidpro.cli.options`), then add the module to
:data:`COMMANDS` below — one line. The order there is the order of ``quidpro --help``.
"""

from __future__ import annotations

import os
import sys

import typer

from quidpro.cli import (
    backtest,
    brief,
    calibrate,
    check,
    claims,
    compare,
    convert,
    describe,
    discover,
    ensemble,
    evidence,
    loops,
    run,
    runs,
    sensitivity,
    serve,
)

app = typer.Typer(
    name="quidpro",
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

# The registry: every command module, each adding its commands with register(app).
COMMANDS = (
    run,  # run
    check,  # check, models
    describe,  # describe
    ensemble,  # ensemble
    compare,  # compare
    sensitivity,  # sensitivity
    evidence,  # evidence
    calibrate,  # calibrate
    backtest,  # backtest
    claims,  # claims
    runs,  # runs list | show | export
    convert,  # convert
    loops,  # loops
    discover,  # discover
    brief,  # brief
    serve,  # serve
)
for module in COMMANDS:
    module.register(app)


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
