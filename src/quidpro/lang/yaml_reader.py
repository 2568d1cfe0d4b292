"""Read a YAML model file safely, keeping the line and column of every key and value.

Only the YAML core schema is accepted: a tag such as ``!!python/object`` is an
error, never a constructor call. Duplicate keys are errors, not silently merged.
"""

from __future__ import annotations

from typing import Any

import yaml

from quidpro.errors import DuplicateNameError, Loc, ParseError
from quidpro.lang.located import Node

_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
# No model needs lists or mappings nested deeper than this; deeper input is refused
# before the reader recurses (a file of 10,000 '[' must not exhaust the stack).
MAX_DEPTH = 64
# libyaml's parser (PyYAML's C extension) where PyYAML was built with it: the same
# nodes and marks as PyYAML's own parser (tests/test_yaml_reader_fast.py compares
# them), about six times faster; a file it refuses is parsed again by PyYAML's own, so
# the messages are PyYAML's whichever is built.
_FAST_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)


class _Reader:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.starts = [0]  # the index of each line's first character
        for line in text.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.file = file
        self.collections: set[int] = set()  # lists and mappings read so far
        self.constructor = yaml.SafeLoader("")

    def loc(self, mark: Any, extra_col: int = 0) -> Loc:
        line = mark.line + 1
        src = self.lines[mark.line] if mark.line < len(self.lines) else None
        return Loc(self.file, line, mark.column + 1 + extra_col, src)

    def node(self, n: yaml.Node, key_loc: Loc | None = None, depth: int = 0) -> Node:
        if depth > MAX_DEPTH:
            raise ParseError(
                f"lists and mappings are nested more than {MAX_DEPTH} deep here; "
                "a model file never needs that",
                self.loc(n.start_mark),
            )
        if n.tag not in _SAFE_TAGS:
            raise ParseError(
                f"YAML tag {n.tag!r} is not allowed in a model file (only plain data)",
                self.loc(n.start_mark),
            )
        if isinstance(n, yaml.MappingNode | yaml.SequenceNode):
            # An alias (*name) of a list or mapping can refer to itself or multiply a
            # small file into millions of values ("billion laughs"): plain data only.
            if id(n) in self.collections:
                raise ParseError(
                    "an alias (*name) of a list or mapping is not allowed in a model file; "
                    "write the values out",
                    self.loc(n.start_mark),
                )
            self.collections.add(id(n))
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Node] = {}
            for k, v in n.value:
                kloc = self.loc(k.start_mark)
                if not isinstance(k, yaml.ScalarNode) or k.tag not in _SAFE_TAGS:
                    raise ParseError("a mapping key must be a plain name", kloc)
                # A key is the name as written: YAML 1.1 would read `on`, `no` or
                # `y` as booleans and `1e3` as text, so a constant named `on`
                # would become True.
                key = str(k.value)
                if key in out:
                    first = out[key].key_loc
                    raise DuplicateNameError(
                        f"duplicate key {key!r} (first defined at line "
                        f"{first.line if first else '?'})",
                        kloc,
                    )
                out[key] = self.node(v, kloc, depth + 1)
            return Node(out, self.loc(n.start_mark), key_loc)
        if isinstance(n, yaml.SequenceNode):
            items = [self.node(x, None, depth + 1) for x in n.value]
            return Node(items, self.loc(n.start_mark), key_loc)
        assert isinstance(n, yaml.ScalarNode)
        try:
            value = self.constructor.construct_object(n)
        except ValueError as exc:  # a timestamp such as 2022-02-30
            raise ParseError(
                f"{n.value!r} is not a valid date ({exc})", self.loc(n.start_mark)
            ) from None
        # Point at the first character of the text, past an opening quote.
        extra = 1 if n.style in ("'", '"') else 0
        loc = self.loc(n.start_mark, extra)
        if n.style in ("|", ">"):
            # A block scalar's text starts on the next line, indented.
            nxt = n.start_mark.line + 1
            src = self.lines[nxt] if nxt < len(self.lines) else ""
            loc = Loc(self.file, nxt + 1, len(src) - len(src.lstrip()) + 1, src)
        source = None
        if isinstance(value, str) and n.end_mark.line > n.start_mark.line:
            source = self.as_written(n, value)
        return Node(value, loc, key_loc, source)

    def as_written(self, n: yaml.ScalarNode, value: str) -> tuple[str, Loc] | None:
        """A multi-line scalar's text as it stands in the file, if it says the same.

        YAML folds the lines of a plain, quoted or ``>`` scalar into one and strips the
        indentation of a block scalar; an expression keeps its meaning either way
        (whitespace is insignificant), but its positions are those of the file only
        in the text as written. ``None`` when escapes make the two differ.
        """
        quoted = n.style in ("'", '"')
        if n.style in ("|", ">"):
            first = n.start_mark.line + 1
            if first >= len(self.lines):
                return None
            start, where = self.starts[first], Loc(self.file, first + 1, 1, self.lines[first])
        else:
            start = n.start_mark.index + (1 if quoted else 0)
            where = self.loc(n.start_mark, 1 if quoted else 0)
        raw = self.text[start : n.end_mark.index - (1 if quoted else 0)]
        return (raw, where) if raw.split() == value.split() else None


def _check_depth(text: str, file: str, loader: type[yaml.SafeLoader | yaml.CSafeLoader]) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` before PyYAML's recursive composer sees it.

    The event parser is a state machine (no recursion), so counting its collection
    events bounds the depth of everything built after it.
    """
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                line, col = (mark.line, mark.column) if mark is not None else (0, 0)
                lines = text.splitlines()
                src = lines[line] if line < len(lines) else None
                raise ParseError(
                    f"lists and mappings are nested more than {MAX_DEPTH} deep here; "
                    "a model file never needs that",
                    Loc(file, line + 1, col + 1, src),
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _compose(
    text: str, file: str, loader: type[yaml.SafeLoader | yaml.CSafeLoader]
) -> yaml.Node | None:
    """The YAML node tree of ``text`` (None if empty), its depth checked first."""
    _check_depth(text, file, loader)
    return yaml.compose(text, Loader=loader)


def read_yaml(text: str, file: str = "<string>") -> Node:
    """Parse YAML text into a located :class:`Node` tree (safe: plain data only)."""
    try:
        try:
            root = _compose(text, file, _FAST_LOADER)
        except (yaml.YAMLError, ValueError):  # refused: again, for PyYAML's own message
            root = _compose(text, file, yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        lines = text.splitlines()
        loc = (
            Loc(
                file,
                mark.line + 1,
                mark.column + 1,
                lines[mark.line] if mark.line < len(lines) else None,
            )
            if mark is not None
            else Loc(file, 1, 1)
        )
        problem = exc.problem or exc.context or "invalid YAML"
        raise ParseError(f"YAML syntax error: {problem}", loc) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"YAML error: {exc}", Loc(file, 1, 1)) from None
    if root is None:
        raise ParseError("the model file is empty", Loc(file, 1, 1))
    try:
        return _Reader(text, file).node(root)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ParseError(f"YAML error: {exc.problem}", Loc(file, line, col)) from None
