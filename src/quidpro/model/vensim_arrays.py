"""Vensim subscripts: ranges, subranges, mappings, and which element a subscript means.

Arrays are expanded to scalars as everywhere in quidpro (``Stock_A[Entry_1]``,
see :mod:`quidpro.model.arrays`), but Vensim's rules for which element a
subscript names in an equation are its own, so they live here:

- a dimension the left-hand side runs over is its current element;
- a dimension mapped to one of those (``a: x, y -> b``) is the element at the same
  position;
- a dimension holding the current element of another (a subrange, a superset or
  an equivalent range) is that element;
- ``dim!`` is the element a ``SUM`` (``PROD``, ``VMIN``, ``VMAX``) is at.

A dimension used as a value (``IF THEN ELSE(dim1 = dim2, ...)``) is the position
of its current element in the largest range that holds it, counted from 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from quidpro.errors import Loc, ModelError, UndefinedNameError
from quidpro.lang.suggest import did_you_mean
from quidpro.lang.vensim_reader import SubscriptRange, range_item, range_names
from quidpro.model.limits import check_elements


def canon(name: str) -> str:
    """The key names are compared by: case-insensitive, ``_`` equal to a space."""
    return " ".join(name.replace("_", " ").split()).lower()


def display(name: str) -> str:
    """A name as the model shows it: runs of spaces become ``_``."""
    return "_".join(name.replace("\\n", " ").split()) or "_"


Binding = Mapping[str, str]  # canonical dimension (or "dim!") -> element (display)


@dataclass
class Dims:
    """The model's subscript ranges."""

    ranges: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canon -> elements
    names: dict[str, str] = field(default_factory=dict)  # canon -> display
    maps: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canon -> canon targets
    elements: dict[str, str] = field(default_factory=dict)  # canon element -> display
    position: dict[str, int] = field(default_factory=dict)  # element -> value as a number

    def is_dim(self, raw: str) -> bool:
        """Whether ``raw`` names a subscript range (not an element)."""
        return canon(raw) in self.ranges

    def combos(
        self, name: str, subs: tuple[str, ...], excepts: tuple[tuple[str, ...], ...], loc: Loc
    ) -> list[tuple[tuple[str, ...], dict[str, str]]]:
        """Every element a left-hand side ``name[subs]`` defines: (elements, binding)."""
        choices: list[list[str]] = []
        for s in subs:
            key = canon(s)
            if key in self.ranges:
                choices.append(list(self.ranges[key]))
            elif key in self.elements:
                choices.append([self.elements[key]])
            else:
                raise self.unknown(s, loc)
        check_elements(math.prod(map(len, choices)), f"{name}[{', '.join(subs)}]", loc)
        out = []
        for elems in itertools.product(*choices):
            if any(self._matches(ex, elems, loc) for ex in excepts):
                continue
            binding = {canon(s): e for s, e in zip(subs, elems, strict=True) if self.is_dim(s)}
            out.append((tuple(elems), binding))
        return out

    def _matches(self, ex: tuple[str, ...], elems: tuple[str, ...], loc: Loc) -> bool:
        if len(ex) != len(elems):
            raise ModelError(f":EXCEPT: [{', '.join(ex)}] needs {len(elems)} subscripts", loc)
        for s, e in zip(ex, elems, strict=True):
            key = canon(s)
            if key in self.ranges:
                if e not in self.ranges[key]:
                    return False
            elif self.elements.get(key) != e:
                return False
        return True

    def element(self, raw: str, binding: Binding, loc: Loc, owner: str) -> str:
        """The element the subscript ``raw`` names under ``binding``."""
        if raw.endswith("!"):
            key = canon(raw[:-1]) + "!"
            if key not in binding:
                raise ModelError(
                    f"{raw!r} in {owner!r}: a subscript with '!' belongs inside SUM, PROD, "
                    "VMIN or VMAX",
                    loc,
                )
            return binding[key]
        key = canon(raw)
        if key in self.ranges:
            found = self.current(key, binding)
            if found is None:
                raise ModelError(
                    f"{raw!r} in {owner!r} stands for a whole range; the equation does not run "
                    f"over it (sum it with SUM(x[{raw}!]) or subscript the left-hand side)",
                    loc,
                )
            return found
        if key in self.elements:
            return self.elements[key]
        raise self.unknown(raw, loc)

    def current(self, key: str, binding: Binding) -> str | None:
        """The current element of the range ``key``, or None if nothing binds it."""
        if key in binding:
            return binding[key]
        elems = self.ranges[key]
        for b, e in binding.items():  # mapped ranges: the same position
            if b.endswith("!"):
                continue
            if b in self.maps.get(key, ()) or key in self.maps.get(b, ()):
                other = self.ranges[b]
                if len(other) == len(elems) and e in other:
                    return elems[other.index(e)]
        for b, e in binding.items():  # subranges, supersets and equivalent ranges
            if not b.endswith("!") and e in elems:
                return e
        return None

    def unknown(self, raw: str, loc: Loc) -> UndefinedNameError:
        """The error for a subscript that is neither a range nor an element, with a hint."""
        options = [*self.names.values(), *self.elements.values()]
        hint = did_you_mean(display(raw), options)
        return UndefinedNameError(f"{raw!r} is not a subscript range or element{hint}", loc)


def build_dims(ranges: list[SubscriptRange]) -> Dims:
    """Resolve the file's subscript ranges (items may name other ranges, in any order)."""
    dims = Dims()
    raw = {canon(r.name): r for r in ranges}
    busy: set[str] = set()

    def resolve(key: str) -> tuple[str, ...]:
        if key in dims.ranges:
            return dims.ranges[key]
        r = raw[key]
        if key in busy:
            raise ModelError(f"subscript range {r.name!r} contains itself", r.loc)
        busy.add(key)
        if r.copy_of is not None:
            other = canon(r.copy_of)
            if other not in raw:
                raise UndefinedNameError(f"{r.copy_of!r} is not a subscript range", r.loc)
            elems = resolve(other)
        else:
            out: list[str] = []
            for item in r.items:
                numbered = range_item(item)
                if numbered is not None:
                    check_elements(len(out) + len(numbered), f"subscript range {r.name!r}", r.loc)
                    out.extend(display(x) for x in range_names(item, numbered))
                elif canon(item) in raw and canon(item) != key:
                    out.extend(resolve(canon(item)))
                    check_elements(len(out), f"subscript range {r.name!r}", r.loc)
                elif item:
                    out.append(display(item))
            elems = tuple(out)
        if not elems:
            raise ModelError(f"subscript range {r.name!r} has no elements", r.loc)
        if len(set(elems)) != len(elems):
            raise ModelError(f"subscript range {r.name!r} repeats an element", r.loc)
        busy.discard(key)
        dims.ranges[key] = elems
        return elems

    for r in ranges:
        key = canon(r.name)
        resolve(key)
        dims.names[key] = display(r.name)
        dims.maps[key] = tuple(canon(t) for t in r.maps_to if canon(t) in raw)
    largest: dict[str, int] = {}
    for elems in dims.ranges.values():
        for i, e in enumerate(elems):
            dims.elements.setdefault(canon(e), e)
            if len(elems) > largest.get(e, 0):
                largest[e] = len(elems)
                dims.position[e] = i + 1
    return dims


__all__ = ["Binding", "Dims", "build_dims", "canon", "display"]
