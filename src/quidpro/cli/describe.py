"""``quidpro describe MODEL``: the model for a reader, as Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quidpro.cli.common import command, console, load_model
from quidpro.cli.options import ModelArg, check_not_input, check_output


def describe(
    model: ModelArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write the description to FILE.md instead of the terminal."
        ),
    ] = None,
) -> None:
    """Describe MODEL for a reader, as Markdown.

    Stocks, flows, auxiliaries, constants with units and sources, scenarios, and the
    claims table with the model links behind each claim.

    For example:

      quidpro describe nk_russia -o nk_russia.md
    """
    from quidpro.report.describe import describe as describe_model

    check_output(out, ".md", "-o")
    check_not_input(out, model, "-o")
    text = describe_model(load_model(model).spec)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
        return
    from rich.markdown import Markdown

    if console.is_terminal:
        console.print(Markdown(text))
    else:
        print(text)  # noqa: T201 - plain Markdown when piped


def register(app: typer.Typer) -> None:
    """Add ``describe`` to the ``quidpro`` command."""
    app.command("describe")(command(describe))
