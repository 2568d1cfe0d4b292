"""A small, safe XML reader that keeps the line and column of every element.

Built on the standard library's expat parser. Document type declarations and
entity declarations are refused (no external entities, no entity expansion
bombs), and so are elements nested more than :data:`MAX_DEPTH` deep; malformed
XML is a :class:`~quidpro.errors.ParseError` at its line.
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
        """The first child element named ``tag``, or None."""
        for c in self.children:
            if c.tag == tag:
                return c
        return None

    def findall(self, tag: str) -> list[XNode]:
        """Every child element named ``tag``, in document order."""
        return [c for c in self.children if c.tag == tag]

    def iter(self) -> Iterator[XNode]:
        """This element and all below it, depth first (without recursion)."""
        todo = [self]
        while todo:
            node = todo.pop()
            yield node
            todo.extend(reversed(node.children))

    def child_text(self, tag: str) -> str | None:
        """The text of the first child named ``tag``, or None when there is none."""
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


#: Element nesting a file may use (quidpro.model.limits documents it beside the others;
#: lang/ imports nothing above it, so the number lives here).
MAX_DEPTH = 64
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


class _TreeBuilder:
    """Builds :class:`XNode` trees from expat's callbacks, each node with its location."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.lines = text.splitlines()
        self.parser = expat.ParserCreate()
        self.stack: list[XNode] = []
        self.root: XNode | None = None

    def source_line(self, line: int) -> str | None:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else None

    def here(self) -> Loc:
        line = self.parser.CurrentLineNumber
        col = self.parser.CurrentColumnNumber + 1
        return Loc(self.file, line, col, self.source_line(line))

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise _Refused(
                f"XML elements are nested more than {MAX_DEPTH} deep here; "
                "an XMILE file never needs that"
            )
        node = XNode(tag, dict(attrs), self.here())
        if self.stack:
            self.stack[-1].children.append(node)
        elif self.root is None:
            self.root = node
        self.stack.append(node)

    def end(self, _tag: str) -> None:
        self.stack.pop()

    def data(self, chunk: str) -> None:
        if not self.stack:
            return
        node = self.stack[-1]
        if node.text_loc is None and chunk.strip():
            lead = chunk[: len(chunk) - len(chunk.lstrip())]
            node.text_loc = self.after(lead)
            node.text += chunk[len(lead) :] if not node.text else chunk
            return
        node.text += chunk

    def after(self, lead: str) -> Loc:
        """Where the first non-blank character after the blank text ``lead`` stands."""
        loc = self.here()
        nl = lead.count("\n") + lead.count("\r") - lead.count("\r\n")
        if nl:
            line = loc.line + nl
            col = len(lead.replace("\r", "\n").rsplit("\n", 1)[-1]) + 1
        else:
            line, col = loc.line, loc.col + len(lead)
        return Loc(self.file, line, col, self.source_line(line))

    def parse(self) -> XNode:
        parser = self.parser
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data
        parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_entity
        parser.ExternalEntityRefHandler = _refuse_entity  # type: ignore[assignment]
        parser.buffer_text = True
        try:
            parser.Parse(self.text, True)
        except _Refused as exc:
            raise ParseError(exc.message, self.here()) from None
        except expat.ExpatError as exc:
            line = exc.lineno
            raise ParseError(
                f"XML syntax error: {expat.ErrorString(exc.code)}",
                Loc(self.file, line, exc.offset + 1, self.source_line(line)),
            ) from None
        if self.root is None:
            raise ParseError("the file holds no XML element", Loc(self.file, 1, 1))
        return self.root


def _refuse_doctype(*_: object) -> None:
    raise _Refused("a DOCTYPE declaration is not allowed in an XMILE file")


def _refuse_entity(*_: object) -> None:
    raise _Refused("entity declarations are not allowed in an XMILE file")


def _parse_xml(text: str, file: str) -> XNode:
    return _TreeBuilder(text, file).parse()
