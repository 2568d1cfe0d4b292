"""Find and read a model file (a path or a built-in name) into a checked ``Model``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from quidpro.errors import Loc, ModelError
from quidpro.model.limits import MAX_FILE_CHARS, limit
from quidpro.model.parse import VENSIM_SUFFIXES, XMILE_SUFFIXES, YAML_SUFFIXES, parse_model
from quidpro.model.spec import Model

__all__ = [
    "VENSIM_SUFFIXES",
    "XMILE_SUFFIXES",
    "YAML_SUFFIXES",
    "builtin_models",
    "parse_model",
    "read_model",
    "read_model_text",
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
    return read_model_text(path_or_name)[0]


def read_model_text(path_or_name: str | Path) -> tuple[Model, str]:
    """:func:`read_model`, and the text it was read from (for caches keyed by it)."""
    path = resolve(path_or_name)
    cap = limit(MAX_FILE_CHARS)
    try:
        with path.open(encoding="utf-8-sig") as f:  # at most one past the limit is read
            text = f.read(cap + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read the model file: {exc}", Loc(str(path), 0, 0)) from None
    if len(text) > cap:  # also /dev/zero, which would otherwise be read for ever
        raise ModelError(
            f"the model file is longer than the limit of {cap:,} characters; "
            f"raise the limit with {MAX_FILE_CHARS[0]}=N",
            Loc(str(path), 0, 0),
        )
    return parse_model(text, str(path)), text
