"""Convert a model between XMILE and YAML (format v1), the format chosen by a suffix."""

from __future__ import annotations

from pathlib import Path

from quidpro.errors import ConfigError
from quidpro.io.load import XMILE_SUFFIXES, YAML_SUFFIXES, read_model
from quidpro.model.spec import Model


def convert_model(model: str | Path, out: Path) -> list[str]:
    """Read ``model`` and write it to ``out`` in the format its suffix names.

    Args:
        model: A model file or the name of a built-in model.
        out: The file to write: ``.yaml``/``.yml`` (format v1) or ``.xmile``/``.stmx``.

    Returns:
        Notes on what the target format keeps only as documentation.

    Raises:
        ConfigError: ``out`` has another suffix.
    """
    suffix = out.suffix.lower()
    if suffix not in XMILE_SUFFIXES + YAML_SUFFIXES:
        raise ConfigError(
            f"out must end in .yaml, .yml, .xmile or .stmx (the output format), got {out.name!r}"
        )
    spec = read_model(model)
    if suffix in YAML_SUFFIXES:
        from quidpro.io.yaml_writer import model_to_yaml

        text, notes = model_to_yaml(spec), _yaml_notes(spec)
    else:
        from quidpro.io.xmile_writer import model_to_xmile

        text, notes = model_to_xmile(spec), _xmile_notes(spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return notes


def _yaml_notes(spec: Model) -> list[str]:
    if spec.non_negative_mode != "clamp":
        return []
    return [
        f"non-negative stock {s.name!r} gets an explicit floor inflow "
        "(XMILE floors the stock, format v1 would reduce its outflows)"
        for s in spec.stocks.values()
        if s.non_negative and s.outflows
    ]


def _xmile_notes(spec: Model) -> list[str]:
    notes = []
    if spec.scenarios:
        notes.append(f"{len(spec.scenarios)} scenario(s) kept as documentation (XMILE has none)")
    dists = sum(c.distribution is not None for c in spec.constants.values())
    if dists:
        notes.append(f"{dists} distribution(s) kept as documentation (XMILE has none)")
    if spec.time.origin is not None:
        notes.append("the calendar origin is kept as documentation")
    if spec.loops:
        notes.append(
            f"{len(spec.loops)} named loop(s) kept as documentation only (XMILE has none; "
            "convert to YAML to keep the loops: section)"
        )
    return notes
