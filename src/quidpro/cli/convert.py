"""``quidpro convert MODEL -o OUT``: XMILE ↔ YAML (format v1), chosen by OUT's suffix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quidpro.cli.common import command, console
from quidpro.cli.options import ModelArg, check_not_input


def convert(
    model: ModelArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="The file to write: .yaml (format v1) or .xmile (XMILE 1.0)."
        ),
    ],
) -> None:
    """Convert MODEL between XMILE and YAML (format v1); the output runs identically.

    For example:

      quidpro convert teacup.xmile -o teacup.yaml

      quidpro convert nk_russia -o nk_russia.xmile
    """
    from quidpro.io.convert import convert_model

    check_not_input(out, model, "-o")
    notes = convert_model(model, out)
    console.print(f"wrote {out}")
    for note in notes:
        console.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    """Add ``convert`` to the ``quidpro`` command."""
    app.command("convert")(command(convert, flags={"out": "-o"}))
