"""The exceptions quidpro raises.

Hierarchy (one base, caught once in the shells)::

    QuidproError
     ├── ModelError            the model file is wrong; carries a source location
     │    ├── ParseError       syntax (YAML, XML or an expression)
     │    ├── UndefinedNameError
     │    ├── DuplicateNameError
     │    ├── CycleError       an algebraic loop
     │    └── UnsupportedError a feature quidpro does not implement
     ├── SimulationError       a run produced a non-finite value (variable, time, line)
     └── ConfigError           bad arguments: unknown scenario, bad --set, bad query

Every ``ModelError`` prints as ``file:line:col: message``, followed by the source
line and a caret when the text is known.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Loc:
    """A position in a model file: 1-based line and column."""

    file: str = "<string>"
    line: int = 0
    col: int = 0
    source_line: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, line_offset: int, col: int, source_line: str | None = None) -> Loc:
        """The location ``line_offset`` lines below this one, at column ``col``."""
        return Loc(self.file, self.line + line_offset, col, source_line)


NOWHERE = Loc()


class QuidproError(Exception):
    """Base of every error quidpro raises on purpose."""


class ConfigError(QuidproError):
    """Bad arguments to the API or the command line (not the model file)."""


class ModelError(QuidproError):
    """Something in a model file is wrong, at ``loc``."""

    def __init__(self, message: str, loc: Loc = NOWHERE) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc

    def __str__(self) -> str:
        text = f"{self.loc}: {self.message}"
        src = self.loc.source_line
        if src is not None and self.loc.col > 0:
            text += f"\n    {src.rstrip()}\n    {' ' * (self.loc.col - 1)}^"
        return text


class ParseError(ModelError):
    """The text cannot be read: YAML, XML or expression syntax."""


class UndefinedNameError(ModelError):
    """An expression names a variable that does not exist."""


class DuplicateNameError(ModelError):
    """Two definitions share a name."""


class CycleError(ModelError):
    """Variables that depend on each other within one time step."""


class UnsupportedError(ModelError):
    """A construct quidpro does not implement; never silently ignored."""


class SimulationError(QuidproError):
    """A run went wrong numerically: which variable, at what time, defined where."""

    def __init__(self, message: str, variable: str, time: float, loc: Loc = NOWHERE) -> None:
        super().__init__(message)
        self.message = message
        self.variable = variable
        self.time = time
        self.loc = loc

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"
