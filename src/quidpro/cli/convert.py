"""``quidpro convert MODEL -o OUT``: XMILE ↔ YAML (format v1), chosen by OUT's suffix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quidpro.cli.common import command, console
from quidpro.errors import ConfigError


def convert_model(model: str, out: Path) -> list[str]:
    """Read MODEL (any format) and write it to ``out`` in the format its suffix names.

    Returns notes on what the target format keeps only as documentation.
    """
    from quidpro.io.load import XMILE_SUFFIXES, YAML_SUFFIXES, read_model

    suffix = out.suffix.lower()
    if suffix not in XMILE_SUFFIXES + YAML_SUFFIXES:
        raise ConfigError(
            f"-o must end in .yaml, .yml, .xmile or .stmx (the output format), got {out.name!r}"
        )
    spec = read_model(model)
    notes: list[str] = []
    if suffix in YAML_SUFFIXES:
        from quidpro.io.yaml_writer import model_to_yaml

        text = model_to_yaml(spec)
        if spec.non_negative_mode == "clamp":
            notes += [
                f"non-negative stock {s.name!r} gets an explicit floor inflow "
                "(XMILE floors the stock, format v1 would reduce its outflows)"
                for s in spec.stocks.values()
                if s.non_negative and s.outflows
            ]
    else:
        from quidpro.io.xmile_writer import model_to_xmile

        text = model_to_xmile(spec)
        notes = _xmile_notes(spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return notes


def _xmile_notes(spec: object) -> list[str]:
    from quidpro.model.spec import Model

    assert isinstance(spec, Model)
    notes = []
    if spec.scenarios:
        notes.append(f"{len(spec.scenarios)} scenario(s) kept as documentation (XMILE has none)")
    dists = sum(c.distribution is not None for c in spec.constants.values())
    if dists:
        notes.append(f"{dists} distribution(s) kept as documentation (XMILE has none)")
    if spec.time.origin is not None:
        notes.append("the calendar origin is kept as documentation")
    return notes


def register(app: typer.Typer) -> None:
    """Add ``convert`` to the ``quidpro`` command."""

    @app.command()
    @command
    def convert(
        model: Annotated[
            str,
            typer.Argument(
                help="A model file (.yaml, .xmile) or a built-in name.", metavar="MODEL"
            ),
        ],
        out: Annotated[
            Path,
            typer.Option(
                "--out", "-o", help="The file to write: .yaml (format v1) or .xmile (XMILE 1.0)."
            ),
        ],
    ) -> None:
        """Convert MODEL between XMILE and YAML (format v1); the output runs identically.

        Examples:

          quidpro convert teacup.xmile -o teacup.yaml

          quidpro convert nk_russia -o nk_russia.xmile
        """
        notes = convert_model(model, out)
        console.print(f"wrote {out}")
        for note in notes:
            console.print(f"note: {note}")
