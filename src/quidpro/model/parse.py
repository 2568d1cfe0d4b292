"""Model text (YAML format v1, XMILE or Vensim ``.mdl``) to a checked ``Model``."""

from __future__ import annotations

from quidpro.lang.yaml_reader import read_yaml
from quidpro.model.check import check_model
from quidpro.model.from_yaml import build_model
from quidpro.model.spec import Model

XMILE_SUFFIXES = (".xmile", ".stmx", ".xml", ".itmx")
YAML_SUFFIXES = (".yaml", ".yml")
VENSIM_SUFFIXES = (".mdl",)


def is_xmile(text: str, file: str) -> bool:
    """Whether the text is read as XMILE: by the file's suffix, or XML without one."""
    return file.lower().endswith(XMILE_SUFFIXES) or text.lstrip().startswith("<")


def parse_model(text: str, file: str = "<string>") -> Model:
    """Build and check a model from its text; the reader is chosen by the file's suffix.

    ``.mdl`` (any case) is Vensim; otherwise XMILE by :func:`is_xmile`, else YAML.

    Args:
        text: The whole model file.
        file: Its name, used in error locations and to choose the reader.

    Returns:
        The checked model.

    Raises:
        ModelError: The text is not a valid model (with the file, line and column).
    """
    if file.lower().endswith(VENSIM_SUFFIXES):
        from quidpro.model.from_vensim import read_vensim  # each reader loads when used

        model = read_vensim(text, file)
    elif is_xmile(text, file):
        from quidpro.model.from_xmile import read_xmile

        model = read_xmile(text, file)
    else:
        model = build_model(read_yaml(text, file), file)
    check_model(model)
    return model
