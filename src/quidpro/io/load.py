"""Find and read a model file (a path or a built-in name) into a checked ``Model``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from quidpro.errors import Loc, ModelError, ParseError
from quidpro.lang.yaml_reader import read_yaml
from quidpro.model.build import build_model
from quidpro.model.check import check_model
from quidpro.model.spec import Model

XMILE_SUFFIXES = (".xmile", ".stmx", ".xml", ".itmx")
YAML_SUFFIXES = (".yaml", ".yml")
VENSIM_SUFFIXES = (".mdl",)


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


def parse_model(text: str, file: str = "<string>") -> Model:
    """Build and check a model from its text; the reader is chosen by the file suffix."""
    if file.lower().endswith(VENSIM_SUFFIXES):
        from quidpro.model.from_vensim import read_vensim

        vensim = read_vensim(text, file)
        check_model(vensim)
        return vensim
    if file.lower().endswith(XMILE_SUFFIXES) or text.lstrip().startswith("<"):
        try:
            from quidpro.lang.xmile_reader import read_xmile
        except ImportError:  # pragma: no cover - until the XMILE reader lands
            raise ParseError("XMILE files are not supported yet", Loc(file, 1, 1)) from None
        model: Model = read_xmile(text, file)
    else:
        model = build_model(read_yaml(text, file), file)
    check_model(model)
    return model
