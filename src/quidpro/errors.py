"""The exceptions quidpro raises on purpose, and the source locations they carry.

Hierarchy (one base, caught once in the shells; the exit code of ``quidpro``)::

    QuidproError                  the base: catch it to catch them all
    ├── ModelError                exit 1: the model (file or object) is wrong, at ``loc``
    │   ├── ParseError            the text cannot be read: YAML, XML or expression syntax
    │   ├── UndefinedNameError    a name (variable, function, dimension) that does not exist
    │   ├── DuplicateNameError    two definitions share a name
    │   ├── CycleError            variables that depend on each other within one step
    │   ├── UnsupportedError      a construct quidpro does not implement (never ignored)
    │   └── UnitError             units that do not agree (``quidpro check`` fails, ``run`` warns)
    ├── SimulationError           exit 1: a run went non-finite (``variable``, ``time``, ``loc``)
    └── ConfigError               exit 2: bad arguments to a function (unknown scenario,
                                  a setting that is not a constant, a bad query or count)

A model defect is a :class:`ModelError` wherever it is found (reading, checking,
compiling or during an analysis); :class:`ConfigError` is for what the caller passed.
Messages name parameters and variables, never command-line flags: the shells map
them. Every ``ModelError`` prints as ``file:line:col: message``, followed by the
source line and a caret when the text is known.

This module is a leaf: it imports nothing of quidpro, so every layer may use it.
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


class UnitError(ModelError):
    """Units that do not agree, or a unit name that does not exist (model/units.py)."""


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
