"""A safe XML reader and a minimal writer for the Query protocols.

Strategy: expat with handlers that raise on any document type declaration,
entity declaration or external entity reference, so no DTD is ever processed
(no entity expansion, no external fetch); undefined entities are then a
plain parse error. Namespaces are processed and dropped: a tag is its local
name. The result is a tree of frozen `Node` values (tag, text, children),
which is all the Query and EC2 decoders need. Every failure is `DecodeError`.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from typing import NoReturn
from xml.parsers import expat
from xml.sax.saxutils import escape

from wire.errors import DecodeError


@dataclass(frozen=True, slots=True)
class Node:
    tag: str
    text: str
    children: tuple[Node, ...]

    def child(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]


class RefusedXmlError(DecodeError):
    """XML refused unread because it declares a DTD or entities (the message says so and why)."""


def _refuse(*_: object) -> NoReturn:
    raise RefusedXmlError("XML with a DTD or entity declarations is refused: a DTD can expand entities without "
                          "bound or fetch external files, so none is ever processed")


def parse(body: bytes) -> Node:
    """The root `Node` of `body`; raises `DecodeError`."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    # Each open element: (tag, text parts, finished children).
    stack: list[tuple[str, list[str], list[Node]]] = [("", [], [])]

    def start(name: str, attrs: object) -> None:
        stack.append((name.rpartition(" ")[2], [], []))

    def end(name: str) -> None:
        tag, text, children = stack.pop()
        stack[-1][2].append(Node(tag, "".join(text), tuple(children)))

    def data(text: str) -> None:
        stack[-1][1].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(body, True)
    except expat.ExpatError as err:
        raise DecodeError(f"invalid XML: {err}") from err
    except RecursionError as err:
        raise DecodeError("XML nested too deeply") from err
    roots = stack[0][2]
    if len(roots) != 1:
        raise DecodeError("XML document without a root element")
    return roots[0]


def element(tag: str, content: str) -> str:
    """`<tag>content</tag>`; `content` is already XML (use `text` for strings)."""
    return f"<{tag}>{content}</{tag}>"


# Characters XML 1.0 cannot carry at all, even escaped: written as U+FFFD so the document stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: str) -> str:
    """Character data escaped for XML."""
    return escape(_NOT_XML.sub("\ufffd", value), {'"': "&quot;", "\r": "&#xD;"})
