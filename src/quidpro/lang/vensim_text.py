r"""Split a Vensim ``.mdl`` file into its equation records.

A Vensim model is a list of records ``equation ~ units ~ comment |`` (a fourth
``~ :SUPPLEMENTARY`` part may follow the comment), then the sketch after the
``\\\---///`` line. This module only cuts the text: it finds each record's
equation, units, comment and position, drops display groups
(``****** .Group ******``), and gathers ``:MACRO: ... :END OF MACRO:`` blocks.
The equations themselves are parsed by :mod:`quidpro.lang.vensim_expr`.

Hand-written (a short scanner, not a grammar) because record boundaries depend
on whether a character sits inside a quoted name, and comments may hold
unbalanced quotes that a grammar would choke on.

Line continuations (a backslash at the end of a line) are blanked to spaces of
the same length, so every offset into the cleaned text is an offset into the
file and errors point at the file's own line and column.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from quidpro.errors import Loc, ParseError

_CONTINUATION = re.compile(r"\\\r?\n")
_RANGE = re.compile(r"\[[^\[\]]*\]\s*$")


@dataclass(frozen=True)
class Record:
    """One equation record: the text before the first ``~`` and what follows."""

    text: str  # the equation, with continuations blanked
    start: int  # offset of ``text`` in the file
    units: str | None
    comment: str | None
    supplementary: bool


@dataclass(frozen=True)
class Macro:
    """A ``:MACRO: name(params)`` block: its records, in order."""

    name: str
    params: tuple[str, ...]
    records: tuple[Record, ...]
    start: int


@dataclass
class MdlText:
    """The cut-up file: its records, macros and a line table for locations."""

    file: str
    text: str
    records: list[Record] = field(default_factory=list)
    macros: list[Macro] = field(default_factory=list)
    _line_starts: list[int] = field(default_factory=list)

    def loc(self, offset: int) -> Loc:
        """The file position of ``offset`` (1-based line and column, with the line)."""
        i = bisect.bisect_right(self._line_starts, offset) - 1
        start = self._line_starts[max(i, 0)]
        end = self.text.find("\n", start)
        line_text = self.text[start : end if end >= 0 else len(self.text)]
        return Loc(self.file, i + 1, offset - start + 1, line_text.replace("\t", " "))


def units_and_range(raw: str | None) -> tuple[str | None, str | None]:
    """``Widgets [0,100]`` -> (``Widgets``, ``[0,100]``); empty units are None."""
    if raw is None:
        return None, None
    text = " ".join(raw.split())
    rng = None
    m = _RANGE.search(text)
    if m:
        rng = m.group(0).strip()
        text = text[: m.start()].strip()
    return (text or None), rng


def _clean(part: str) -> str | None:
    text = " ".join(part.replace("\\", " ").split())
    return text or None


def _scan(text: str, pos: int, mdl: MdlText) -> tuple[int, int, int]:
    """From ``pos``: (end of equation part, end of record, offset after the ``|``)."""
    n = len(text)
    i = pos
    quoted = False
    while i < n:
        c = text[i]
        if quoted:
            if c == "\\" and i + 1 < n:
                i += 2
                continue
            quoted = c != '"'
        elif c == '"':
            quoted = True
        elif c == "~":
            break
        elif c == "|":
            return i, i, i + 1
        i += 1
    if quoted:
        raise ParseError("a quoted name is not closed", mdl.loc(text.rfind('"', pos, i)))
    bar = text.find("|", i)
    return (i, n, n) if bar < 0 else (i, bar, bar + 1)


@dataclass
class _OpenMacro:
    name: str
    params: tuple[str, ...]
    start: int
    records: list[Record] = field(default_factory=list)


def _macro_marks(
    eq: str, start: int, macro: _OpenMacro | None, mdl: MdlText
) -> tuple[str, int, _OpenMacro | None]:
    """Take ``:END OF MACRO:`` and ``:MACRO: name(params)`` lines off a record's start."""
    while True:
        stripped = eq.lstrip()
        lead = len(eq) - len(stripped)
        head = stripped.upper()
        if head.startswith(":END OF MACRO:"):
            if macro is None:
                raise ParseError(":END OF MACRO: without :MACRO:", mdl.loc(start + lead))
            mdl.macros.append(Macro(macro.name, macro.params, tuple(macro.records), macro.start))
            macro = None
            cut = lead + len(":END OF MACRO:")
        elif head.startswith(":MACRO:"):
            if macro is not None:
                raise ParseError("a macro inside a macro", mdl.loc(start + lead))
            line_end = eq.find("\n", lead)
            cut = line_end if line_end >= 0 else len(eq)
            m = re.match(r"\s*(.+?)\s*\((.*)\)\s*$", eq[lead + len(":MACRO:") : cut])
            if m is None:
                raise ParseError(
                    "a macro header needs the form :MACRO: NAME(param, ...)",
                    mdl.loc(start + lead),
                )
            params = tuple(p.strip() for p in m.group(2).split(",") if p.strip())
            macro = _OpenMacro(m.group(1), params, start + lead)
        else:
            return eq, start, macro
        eq = eq[cut:]
        start += cut


def _body(source: str) -> tuple[str, str, int]:
    """(the file with unified line ends, its equations part, where records begin)."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    sketch = re.search(r"^[ \t]*\\+---///", text, re.M)
    body = text if sketch is None else text[: sketch.start()]
    body = _CONTINUATION.sub(lambda m: " " * len(m.group(0)), body)
    pos = body.index("{UTF-8}") + len("{UTF-8}") if body.lstrip().startswith("{UTF-8}") else 0
    return text, body, pos


def split_mdl(source: str, file: str = "<string>") -> MdlText:
    """Cut ``source`` into records and macros (the sketch is ignored)."""
    text, body, pos = _body(source)
    mdl = MdlText(file, text)
    mdl._line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
    macro: _OpenMacro | None = None
    n = len(body)
    while pos < n:
        if body[pos].isspace():
            pos += 1
            continue
        eq_end, rec_end, nxt = _scan(body, pos, mdl)
        eq, start, macro = _macro_marks(body[pos:eq_end], pos, macro, mdl)
        pos = nxt
        if not eq.strip() or eq.strip().startswith("*"):
            continue  # nothing left, or a display group: ***** .Name ***** ~ comment |
        parts = body[eq_end + 1 : rec_end].split("~") if eq_end < rec_end else []
        rec = Record(
            eq,
            start,
            _clean(parts[0] if parts else ""),
            _clean(parts[1] if len(parts) > 1 else ""),
            any(":SUPPLEMENTARY" in p.upper() for p in parts[2:]),
        )
        (macro.records if macro is not None else mdl.records).append(rec)
    if macro is not None:
        raise ParseError(f"macro {macro.name!r} has no :END OF MACRO:", mdl.loc(macro.start))
    return mdl
