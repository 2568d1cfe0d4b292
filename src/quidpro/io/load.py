"""Find and read a model file (a path or a built-in name) into a checked ``Model``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from quidpro.errors import Loc, ModelError
from quidpro.model.parse import VENSIM_SUFFIXES, XMILE_SUFFIXES, YAML_SUFFIXES, parse_model
from quidpro.model.spec import Model

__all__ = [
    "VENSIM_SUFFIXES",
    "XMILE_SUFFIXES",
    "YAML_SUFFIXES",
    "builtin_models",
    "parse_model",
    "read_model",
    "resolve",
]


def builtin_models() -> dict[str, Path]:
    """Built-in model names → their files."""
    folder = files("quidpro").joinpath("models")
    return {
        Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(YAML_SUFFIXES)
    }


def resolve(path_or_name: str | Path) -> Path:
    """The file behind a path or a built-in model's name."""
    p = Path(path_or_name)
    if p.exists():
        return p
    builtins = builtin_models()
    if str(path_or_name) in builtins:
        return builtins[str(path_or_name)]
    hint = "" if p.suffix else f"; built-in models: {', '.join(sorted(builtins))}"
    raise ModelError(f"no such model file or built-in model{hint}", Loc(str(path_or_name), 0, 0))


def read_model(path_or_name: str | Path) -> Model:
    """Read, build and check a model file (YAML, XMILE or Vensim ``.mdl``)."""
    path = resolve(path_or_name)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read the model file: {exc}", Loc(str(path), 0, 0)) from None
    return parse_model(text, str(path))
