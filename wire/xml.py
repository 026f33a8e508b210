"""A safe XML reader and a minimal writer for the Query and restXml protocols.

Strategy: expat with handlers that raise on any document type declaration,
entity declaration or external entity reference, so no DTD is ever processed
(no entity expansion, no external fetch); undefined entities are then a
plain parse error. Namespaces are processed and dropped: a tag is its local
name, and so is an attribute's. The result is a tree of frozen `Node` values
(tag, text, children, attributes). Every failure is `DecodeError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import NamedTuple, NoReturn
from xml.parsers import expat
from xml.sax.saxutils import escape

from wire.errors import DecodeError


# A NamedTuple: a response of a few hundred elements builds one per element, and a tuple is built in C where a
# frozen dataclass sets each field through object.__setattr__.
class Node(NamedTuple):
    tag: str
    text: str
    children: tuple[Node, ...]
    attributes: tuple[tuple[str, str], ...] = ()

    def attribute(self, name: str) -> str | None:
        """The value of the attribute with local name `name`, or None."""
        return next((value for key, value in self.attributes if key == name), None)

    def child(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]


new_node: Callable[[tuple[str, str, tuple[Node, ...], tuple[tuple[str, str], ...]]], Node] = partial(
    tuple.__new__, Node)


class RefusedXmlError(DecodeError):
    """XML refused unread because it declares a DTD or entities (the message says so and why)."""


def _refuse(*_: object) -> NoReturn:
    raise RefusedXmlError("XML with a DTD or entity declarations is refused: a DTD can expand entities without "
                          "bound or fetch external files, so none is ever processed")


def parse(body: bytes) -> Node:
    """The root `Node` of `body`; raises `DecodeError`."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True  # one call per run of character data, not one per line or entity
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    # Each open element: (tag, text parts, finished children, attributes).
    stack: list[tuple[str, list[str], list[Node], tuple[tuple[str, str], ...]]] = [("", [], [], ())]

    def start(name: str, attrs: dict[str, str]) -> None:
        attributes = tuple([(key.rpartition(" ")[2], value) for key, value in attrs.items()]) if attrs else ()
        stack.append((name.rpartition(" ")[2], [], [], attributes))

    def end(name: str) -> None:
        tag, text, children, attributes = stack.pop()
        stack[-1][2].append(new_node((tag, "".join(text), tuple(children), attributes)))

    def data(text: str) -> None:
        stack[-1][1].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(body, True)
    except expat.ExpatError as err:
        raise DecodeError(f"invalid XML: {err}") from err
    except DecodeError:  # a handler's refusal (a DTD): already ours, and a ValueError too
        raise
    except (LookupError, ValueError) as err:
        # The declaration names an encoding Python lacks (LookupError) or expat cannot use (ValueError: multi-byte).
        raise DecodeError(f"XML in an unsupported encoding: {err}") from err
    except RecursionError as err:
        raise DecodeError("XML nested too deeply") from err
    roots = stack[0][2]
    if len(roots) != 1:
        raise DecodeError("XML document without a root element")
    return roots[0]


def element(tag: str, content: str, attributes: str = "") -> str:
    """`<tag attributes>content</tag>`; `content` and `attributes` (from
    `attribute`) are already XML (use `text` for strings)."""
    return f"<{tag}{attributes}>{content}</{tag}>"


def attribute(name: str, value: str) -> str:
    """` name="value"`, escaped, to put in a start tag."""
    # A parser normalizes raw tabs and newlines in attribute values to spaces: escape them.
    return f' {name}="{escape(_NOT_XML.sub(chr(0xFFFD), value), _ATTRIBUTE_ESCAPES)}"'


# Characters XML 1.0 cannot carry at all, even escaped: written as U+FFFD so the document stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\r": "&#xD;", "\n": "&#xA;", "\t": "&#x9;"}


# Text with nothing to escape or replace, as most values are: returned as it is, spared four replace passes.
_PLAIN_TEXT = re.compile("[^&<>\"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*")


def text(value: str) -> str:
    """Character data escaped for XML."""
    if _PLAIN_TEXT.fullmatch(value):
        return value
    return escape(_NOT_XML.sub("\ufffd", value), {'"': "&quot;", "\r": "&#xD;"})
