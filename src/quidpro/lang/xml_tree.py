"""A small, safe XML reader that keeps the line and column of every element.

Built on the standard library's expat parser. Document type declarations and
entity declarations are refused (no external entities, no entity expansion
bombs); malformed XML is a :class:`~quidpro.errors.ParseError` at its line.
Namespace prefixes are kept in tag names (``isee:prefs``), the default namespace
is dropped, so ``<stock>`` reads the same in XMILE 1.0 and the pre-OASIS dialect.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from quidpro.errors import Loc, ParseError


@dataclass
class XNode:
    """One element: tag, attributes, children, text and positions."""

    tag: str
    attrib: dict[str, str]
    loc: Loc
    children: list[XNode] = field(default_factory=list)
    text: str = ""
    text_loc: Loc | None = None

    def find(self, tag: str) -> XNode | None:
        for c in self.children:
            if c.tag == tag:
                return c
        return None

    def findall(self, tag: str) -> list[XNode]:
        return [c for c in self.children if c.tag == tag]

    def iter(self) -> Iterator[XNode]:
        yield self
        for c in self.children:
            yield from c.iter()

    def child_text(self, tag: str) -> str | None:
        c = self.find(tag)
        return None if c is None else c.text

    @property
    def where(self) -> Loc:
        """The position of the element's text, or of its tag when it has none."""
        return self.text_loc or self.loc


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class XmileRepairWarning(UserWarning):
    """A malformed XMILE file was read after closing an element left open."""


_VARIABLE_TAGS = ("stock", "flow", "aux", "gf", "module")
_TAG = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)([A-Za-z_][\w:.-]*)[^>]*?(/?)>", re.S
)


def _repair(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Close variable elements left open (``<flow>`` directly followed by ``<stock>``).

    Returns the repaired text (same lines) and (line, element) for each repair.
    """
    out: list[str] = []
    stack: list[str] = []
    fixes: list[tuple[int, str]] = []
    pos = 0
    for m in _TAG.finditer(text):
        closing, tag, empty = m.group(1), m.group(2), m.group(3)
        if tag is None:
            continue
        insert = ""
        if not closing and tag in _VARIABLE_TAGS and stack and stack[-1] in _VARIABLE_TAGS:
            insert = f"</{stack.pop()}>"
        elif closing and tag in stack and stack[-1] != tag:
            while stack[-1] != tag:
                insert += f"</{stack.pop()}>"
        if insert:
            fixes.append((text.count("\n", 0, m.start()) + 1, insert))
            out.append(text[pos : m.start()] + insert)
            pos = m.start()
        if closing:
            if stack and stack[-1] == tag:
                stack.pop()
        elif not empty:
            stack.append(tag)
    out.append(text[pos:])
    return "".join(out), fixes


def parse_xml(text: str, file: str) -> XNode:
    """Parse ``text`` into an :class:`XNode` tree; refuse DTDs and entities.

    A file whose only fault is a variable element left unclosed (as some tools
    write) is read after closing it, with an :class:`XmileRepairWarning` naming the
    line; any other malformed XML is a :class:`ParseError`.
    """
    try:
        return _parse_xml(text, file)
    except ParseError as first:
        if "mismatched tag" not in first.message:
            raise
        fixed, fixes = _repair(text)
        if not fixes:
            raise
        try:
            root = _parse_xml(fixed, file)
        except ParseError:
            raise first from None
        for line, tags in fixes:
            warnings.warn_explicit(
                f"malformed XML: {tags.replace('</', '<')} is never closed; "
                f"read as if closed before line {line}",
                XmileRepairWarning,
                file,
                line,
            )
        return root


def _parse_xml(text: str, file: str) -> XNode:
    lines = text.splitlines()
    parser = expat.ParserCreate()
    stack: list[XNode] = []
    root: list[XNode] = []

    def here() -> Loc:
        line = parser.CurrentLineNumber
        col = parser.CurrentColumnNumber + 1
        return Loc(file, line, col, lines[line - 1] if 0 < line <= len(lines) else None)

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = XNode(tag, dict(attrs), here())
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def data(chunk: str) -> None:
        if not stack:
            return
        node = stack[-1]
        if node.text_loc is None and chunk.strip():
            # Point at the first non-blank character of the text.
            loc = here()
            lead = chunk[: len(chunk) - len(chunk.lstrip())]
            nl = lead.count("\n") + lead.count("\r") - lead.count("\r\n")
            if nl:
                line = loc.line + nl
                col = len(lead.replace("\r", "\n").rsplit("\n", 1)[-1]) + 1
            else:
                line, col = loc.line, loc.col + len(lead)
            src = lines[line - 1] if 0 < line <= len(lines) else None
            node.text_loc = Loc(file, line, col, src)
            node.text += chunk[len(lead) :] if not node.text else chunk
            return
        node.text += chunk

    def refuse_doctype(*_: object) -> None:
        raise _Refused("a DOCTYPE declaration is not allowed in an XMILE file")

    def refuse_entity(*_: object) -> None:
        raise _Refused("entity declarations are not allowed in an XMILE file")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity  # type: ignore[assignment]
    parser.buffer_text = True
    try:
        parser.Parse(text, True)
    except _Refused as exc:
        raise ParseError(exc.message, here()) from None
    except expat.ExpatError as exc:
        line = exc.lineno
        src = lines[line - 1] if 0 < line <= len(lines) else None
        raise ParseError(
            f"XML syntax error: {expat.ErrorString(exc.code)}",
            Loc(file, line, exc.offset + 1, src),
        ) from None
    if not root:
        raise ParseError("the file holds no XML element", Loc(file, 1, 1))
    return root[0]
