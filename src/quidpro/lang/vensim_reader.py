"""Read the records of a Vensim ``.mdl`` file into equations, dimensions and lookups.

Each record (:mod:`quidpro.lang.vensim_text`) is one of:

- a subscript range ``dim: a, b, (c1-c5), other dim -> mapped dim`` or an
  equivalence ``dim <-> other``;
- an equation ``name[subs] :EXCEPT: [..] = rhs`` (``==`` too): its right-hand side
  is a number list (``1, 2; 3, 4``), a ``TABBED ARRAY(...)``, a ``WITH
  LOOKUP(x, table)`` or an expression (:mod:`quidpro.lang.vensim_expr`);
- a lookup ``name([(x0,y0)-(x1,y1)], (x, y), ...)``;
- a reality check (``:THE CONDITION:``, ``:TEST INPUT:``), accepted and ignored.

Data variables (``name :=``, ``:INTERPOLATE:`` or a bare name) need external
files: they are refused with their name and position.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from quidpro.errors import Loc, ParseError, UnsupportedError
from quidpro.lang.ast import Expr
from quidpro.lang.vensim_expr import finite_number, parse_vensim_expression, unquote
from quidpro.lang.vensim_text import MdlText, Record, split_mdl

# One way only to match each number (not ``\d+\.?\d*``, which splits "123" as
# "1"+"23" or "12"+"3"): a long list that fails at its end would otherwise backtrack
# through every split of every number, exponential in the list's length.
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_WHOLE_NUMBER = re.compile(rf"\s*{_NUMBER}\s*")
_LIST_SEPARATOR = re.compile(r"[,;]")
_TABBED = re.compile(r"^\s*TABBED\s+ARRAY\s*\((.*)\)\s*$", re.I | re.S)
_WITH_LOOKUP = re.compile(r"^\s*WITH\s+LOOKUP\s*\(", re.I)
_RANGE_ITEM = re.compile(r"^\(\s*(\D*?)(\d+)\s*-\s*(\D*?)(\d+)\s*\)$")
_PAIR = re.compile(rf"\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)")
_DATA_MARKS = (":INTERPOLATE:", ":RAW:", ":HOLD BACKWARD:", ":LOOK FORWARD:")


@dataclass(frozen=True)
class Table:
    """A lookup's points."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    loc: Loc


@dataclass
class Equation:
    """One equation record: ``name[subs] = rhs``."""

    name: str  # as written, unquoted
    subs: tuple[str, ...]
    excepts: tuple[tuple[str, ...], ...]
    loc: Loc
    record: Record
    expr: Expr | None = None  # the parsed right-hand side
    numbers: tuple[float, ...] | None = None  # a number list or a tabbed array
    lookup: Table | None = None  # WITH LOOKUP's table (expr is its input)


@dataclass
class SubscriptRange:
    """``name: items -> maps`` or ``name <-> other`` (``copy_of``)."""

    name: str
    items: tuple[str, ...]
    maps_to: tuple[str, ...]
    loc: Loc
    copy_of: str | None = None


@dataclass
class LookupDef:
    """A lookup defined on its own: ``name(table)``."""

    name: str
    subs: tuple[str, ...]
    table: Table
    record: Record
    loc: Loc


@dataclass
class MacroDef:
    """A macro: its parameters and the equations and lookups inside it."""

    name: str
    params: tuple[str, ...]
    equations: list[Equation]
    lookups: list[LookupDef]
    loc: Loc


@dataclass
class VensimFile:
    """Everything a ``.mdl`` file defines, in file order, names as written."""

    text: MdlText
    equations: list[Equation] = field(default_factory=list)
    ranges: list[SubscriptRange] = field(default_factory=list)
    lookups: list[LookupDef] = field(default_factory=list)
    macros: list[MacroDef] = field(default_factory=list)


def _closing(text: str, i: int, open_: str, close: str) -> int:
    """The index of the bracket closing the one at ``i`` (quotes respected)."""
    depth = 0
    quoted = False
    j = i
    while j < len(text):
        c = text[j]
        if quoted:
            if c == "\\":
                j += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1


def _split_top(text: str, sep: str = ",") -> list[str]:
    """``text`` cut at ``sep`` outside brackets and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for j, c in enumerate(text):
        if quoted:
            quoted = c != '"' or text[j - 1] == "\\"
        elif c == '"':
            quoted = True
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:j])
            start = j + 1
    parts.append(text[start:])
    return parts


def table(body: str, loc: Loc) -> Table:
    """A lookup table from the text inside its parentheses.

    Either points ``[(xmin,ymin)-(xmax,ymax)], (x, y), ...`` (the range is
    optional and ignored) or the old form ``x1, x2, ..., y1, y2, ...``.
    """
    rest = body.strip()
    if rest.startswith("["):
        end = _closing(rest, 0, "[", "]")
        if end < 0:
            raise ParseError("the lookup's range '[' is not closed", loc)
        rest = rest[end + 1 :].lstrip().lstrip(",")
    pairs = _PAIR.findall(rest)
    if pairs:
        xs = tuple(finite_number(x, loc) for x, _ in pairs)
        ys = tuple(finite_number(y, loc) for _, y in pairs)
    else:
        try:
            nums = [finite_number(p, loc) for p in rest.split(",") if p.strip()]
        except ValueError:
            raise ParseError("a lookup needs (x, y) points or numbers", loc) from None
        if len(nums) % 2 or not nums:
            raise ParseError("a lookup's x and y lists must have the same length", loc)
        half = len(nums) // 2
        xs, ys = tuple(nums[:half]), tuple(nums[half:])
    if any(b < a for a, b in itertools.pairwise(xs)):
        raise ParseError("a lookup's x values must increase", loc)
    return Table(xs, ys, loc)


def _numbers(text: str, loc: Loc) -> tuple[float, ...]:
    return tuple(finite_number(p, loc) for p in re.split(r"[,;\s]+", text.strip()) if p)


def _name_at(text: str, i: int, mdl: MdlText, start: int) -> tuple[str, int]:
    """The name beginning at ``text[i]`` (quoted or plain) and the index after it."""
    if i >= len(text):
        raise ParseError("expected a variable name", mdl.loc(start + len(text)))
    if text[i] == '"':
        j = i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        if j >= len(text):
            raise ParseError("a quoted name is not closed", mdl.loc(start + i))
        return unquote(text[i : j + 1]), j + 1
    m = re.compile(r"[^\[\(=:<|~\"]+").match(text, i)
    if m is None:
        raise ParseError("expected a variable name", mdl.loc(start + i))
    return " ".join(m.group(0).split()), m.end()


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _subs(text: str, i: int, mdl: MdlText, start: int) -> tuple[tuple[str, ...], int]:
    end = _closing(text, i, "[", "]")
    if end < 0:
        raise ParseError("a '[' is not closed", mdl.loc(start + i))
    items = tuple(unquote(" ".join(s.split())) for s in _split_top(text[i + 1 : end]))
    if any(not s for s in items):
        raise ParseError("an empty subscript", mdl.loc(start + i))
    return items, end + 1


def _lhs(
    text: str, mdl: MdlText, start: int
) -> tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...], int, Loc]:
    """A left-hand side ``name[subs] :EXCEPT: [..], [..]``: its parts and where it ends."""
    i = _skip(text, 0)
    loc = mdl.loc(start + i)
    name, i = _name_at(text, i, mdl, start)
    if not name:
        raise ParseError("expected a variable name", loc)
    i = _skip(text, i)
    subs: tuple[str, ...] = ()
    if text.startswith("[", i):
        subs, i = _subs(text, i, mdl, start)
        i = _skip(text, i)
    excepts: list[tuple[str, ...]] = []
    if text[i:].upper().startswith(":EXCEPT:"):
        i = _skip(text, i + len(":EXCEPT:"))
        while text.startswith("[", i):
            ex, i = _subs(text, i, mdl, start)
            excepts.append(ex)
            i = _skip(text, i)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
    return name, subs, tuple(excepts), i, loc


def _range_def(
    name: str, text: str, i: int, *, mdl: MdlText, start: int, loc: Loc
) -> SubscriptRange:
    """``name <-> other`` or ``name: items -> maps`` (``text[i]`` is ``<`` or ``:``)."""
    if text.startswith("<->", i):
        j = _skip(text, i + 3)
        if j >= len(text):
            raise ParseError(f"{name!r} <-> needs the range it equals", mdl.loc(start + i))
        other, _ = _name_at(text, j, mdl, start)
        return SubscriptRange(name, (), (), loc, copy_of=other)
    items, _, maps = text[i + 1 :].partition("->")
    parts = tuple(" ".join(p.split()) for p in _split_top(items))
    targets = tuple(
        unquote(" ".join(t.split())) for t in _split_top(maps.strip().strip("()")) if t.strip()
    )
    return SubscriptRange(name, parts, targets, loc)


def _record(rec: Record, mdl: MdlText, out: VensimFile | MacroDef) -> None:
    text, start = rec.text, rec.start
    upper = text.upper()
    if ":THE CONDITION:" in upper or ":TEST INPUT:" in upper:
        return  # reality checks: accepted, not run
    name, subs, excepts, i, loc = _lhs(text, mdl, start)
    rest = text[i:]
    head = rest.upper()
    if any(head.startswith(mark) for mark in _DATA_MARKS) or head.startswith(":=") or not rest:
        raise UnsupportedError(
            f"{name!r} is a data variable: Vensim data read from external files is not "
            "supported (give it an equation or a lookup over Time instead)",
            loc,
        )
    if not subs and rest.startswith(("<->", ":")):
        if isinstance(out, VensimFile):
            out.ranges.append(_range_def(name, text, i, mdl=mdl, start=start, loc=loc))
        return
    if rest.startswith("("):
        end = _closing(text, i, "(", ")")
        if end < 0:
            raise ParseError(
                f"the lookup {name!r} has a '(' that is not closed", mdl.loc(start + i)
            )
        out.lookups.append(LookupDef(name, subs, table(text[i + 1 : end], loc), rec, loc))
        return
    if not rest.startswith("="):
        raise ParseError(
            f"expected '=' after {name!r}, found {rest.strip()[:1]!r}", mdl.loc(start + i)
        )
    i += 2 if rest.startswith("==") else 1
    eq = Equation(name, subs, excepts, loc, rec)
    _rhs(eq, text[i:], start + i, mdl)
    out.equations.append(eq)


def _number_list(rhs: str, start: int, mdl: MdlText) -> tuple[float, ...] | None:
    """The numbers of ``1, 2; 3, 4`` (a trailing ``;`` allowed), or None for an expression.

    Cut at the separators and each item matched whole, in linear time (one regular
    expression over the whole list backtracks without bound on a long bad list). A
    list that starts with numbers and then holds something else is an error at it.
    """
    body = rhs.rstrip()
    if body.endswith(";"):
        body = body[:-1]
    starts = [0] + [m.end() for m in _LIST_SEPARATOR.finditer(body)]
    if len(starts) < 2:
        return None
    items = [body[a : b - 1] for a, b in itertools.pairwise(starts)] + [body[starts[-1] :]]
    if not _WHOLE_NUMBER.fullmatch(items[0]):
        return None
    for at, item in zip(starts, items, strict=True):
        if not _WHOLE_NUMBER.fullmatch(item):
            blank = len(item) - len(item.lstrip())
            raise ParseError(
                f"a list of numbers holds numbers only, not {item.strip()[:40]!r}",
                mdl.loc(start + at + blank),
            )
    return tuple(finite_number(x, mdl.loc(start + at)) for at, x in zip(starts, items, strict=True))


def _rhs(eq: Equation, rhs: str, start: int, mdl: MdlText) -> None:
    numbers = _number_list(rhs, start, mdl)
    if numbers is not None:
        eq.numbers = numbers
        return
    m = _TABBED.match(rhs)
    if m:
        try:
            eq.numbers = _numbers(m.group(1), mdl.loc(start))
        except ValueError:
            raise ParseError("TABBED ARRAY holds numbers only", mdl.loc(start)) from None
        return
    m = _WITH_LOOKUP.match(rhs)
    if m:
        open_at = m.end() - 1
        end = _closing(rhs, open_at, "(", ")")
        if end < 0:
            raise ParseError("WITH LOOKUP's '(' is not closed", mdl.loc(start + open_at))
        parts = _split_top(rhs[open_at + 1 : end])
        if len(parts) != 2:
            raise ParseError("WITH LOOKUP takes an input and a table", mdl.loc(start))
        eq.expr = parse_vensim_expression(parts[0], mdl.loc, start + open_at + 1)
        tab = parts[1].strip()
        if not (tab.startswith("(") and tab.endswith(")")):
            raise ParseError("WITH LOOKUP's table must be in parentheses", mdl.loc(start))
        eq.lookup = table(tab[1:-1], mdl.loc(start))
        return
    eq.expr = parse_vensim_expression(rhs, mdl.loc, start)


def read_mdl(source: str, file: str = "<string>") -> VensimFile:
    """Parse a ``.mdl`` file's text into its definitions (names as written)."""
    mdl = split_mdl(source, file)
    out = VensimFile(mdl)
    for rec in mdl.records:
        _record(rec, mdl, out)
    for mac in mdl.macros:
        md = MacroDef(mac.name, mac.params, [], [], mdl.loc(mac.start))
        for rec in mac.records:
            _record(rec, mdl, md)
        out.macros.append(md)
    return out


def range_item(item: str) -> range | None:
    """``(a1-a3)`` -> the numbers ``range(1, 4)``; None when ``item`` is not a numbered range.

    The numbers, not the names, so a caller can weigh ``(a1-a100000000)`` before
    building anything; :func:`range_names` spells them.
    """
    m = _RANGE_ITEM.match(item.strip())
    if m is None:
        return None
    prefix, lo, prefix2, hi = m.groups()
    if prefix.strip() != prefix2.strip():
        return None
    return range(int(lo), int(hi) + 1)


def range_names(item: str, numbers: range) -> list[str]:
    """The element names of the numbered range ``item``: ``[a1, a2, a3]``."""
    m = _RANGE_ITEM.match(item.strip())
    assert m is not None  # the caller has a range from range_item(item)
    prefix, lo = m.group(1), m.group(2)
    width = len(lo) if lo.startswith("0") else 0
    return [f"{prefix}{str(k).zfill(width)}" for k in numbers]
