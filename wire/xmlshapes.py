"""Values <-> XML elements by the model's XML traits (awsQuery, ec2Query and restXml).

Strategy: one writer and one reader, each a table keyed by shape type, over
the `wire.xml` tree and string builders. The traits that shape the XML are
the member's: `locationName` (the element name; for a list element or a map
key/value the name inside the collection), `flattened` (a list's items or a
map's entries repeat under the member's own name instead of being wrapped),
`xmlAttribute` (the value is an attribute of the enclosing structure's
element) and `xmlNamespace` (an `xmlns[:prefix]` attribute on the element).
Scalars travel as text (`wire.text`, ISO 8601 timestamps by default). The
reader ignores namespaces and unknown elements; an absent element is an
absent member, an empty one an empty value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from wire import xml
from wire.model import Member, Shape
from wire.text import from_text, to_text


def element_name(member: Member) -> str:
    """The element name of a structure member. A flattened list's items take
    this name too: Smithy ignores the element's own name there. A structure's
    own `locationName` names it only as a document root: here the reference's counts."""
    if member.shape.type == "structure":
        return member.ref_location_name or member.name
    return member.location_name or member.name


def _attribute_name(member: Member) -> str:
    # "xsi:type" is read back with namespaces processed, as its local name.
    return element_name(member).rpartition(":")[2]


def namespace_attribute(member: Member) -> str:
    """` xmlns[:prefix]="uri"` for a member with `xmlNamespace`, else ""."""
    if member.xml_namespace is None:
        return ""
    prefix, uri = member.xml_namespace
    return xml.attribute(f"xmlns:{prefix}" if prefix else "xmlns", uri)


# -- writing ------------------------------------------------------------------------


def _structure(member: Member, value: Any, name: str) -> str:
    attributes = namespace_attribute(member) + "".join(
        xml.attribute(element, to_text(child, value[child.name], "iso8601"))
        for child, element in _layout(member.shape)[1]
        if value.get(child.name) is not None
    )
    return xml.element(name, structure_content(member.shape, value), attributes)


def _list(member: Member, value: Any, name: str) -> str:
    item = member.shape.member
    if member.flattened:
        return "".join(write(item, one, name) for one in value)
    item_name = item.location_name or "member"
    return xml.element(name, "".join(write(item, one, item_name) for one in value), namespace_attribute(member))


def _map(member: Member, value: Any, name: str) -> str:
    key_member, value_member = member.shape.members["key"], member.shape.members["value"]
    key_name, value_name = key_member.location_name or "key", value_member.location_name or "value"
    entries = [write(key_member, key, key_name) + write(value_member, item, value_name) for key, item in value.items()]
    if member.flattened:
        return "".join(xml.element(name, entry) for entry in entries)
    return xml.element(name, "".join(xml.element("entry", entry) for entry in entries), namespace_attribute(member))


def _scalar(member: Member, value: Any, name: str) -> str:
    return xml.element(name, xml.text(to_text(member, value, "iso8601")), namespace_attribute(member))


#: shape type -> writer of (member, value, element name) -> XML; other types are scalars.
_WRITERS: dict[str, Callable[[Member, Any, str], str]] = {"structure": _structure, "list": _list, "map": _map}


def write(member: Member, value: Any, name: str) -> str:
    """`value` as the element(s) called `name` (several for a flattened collection)."""
    return _WRITERS.get(member.shape.type, _scalar)(member, value, name)


def structure_content(shape: Shape, value: Any) -> str:
    """The child elements of a structure's element (attribute members excluded)."""
    return "".join(
        write(child, item, element)
        for child, element in _layout(shape)[0]
        if (item := value.get(child.name)) is not None
    )


_Named = tuple[tuple[Member, str], ...]


# Shapes hash by identity and a client writes the same few over and over: each one's members are sorted into
# elements and attributes, each with its name, once.
@lru_cache(maxsize=4096)
def _layout(shape: Shape) -> tuple[_Named, _Named]:
    """((member, element name) of the members written as child elements, the same of those written as attributes),
    in model order."""
    elements = tuple([(child, element_name(child)) for child in shape.members.values() if not child.xml_attribute])
    attributes = tuple([(child, element_name(child)) for child in shape.members.values() if child.xml_attribute])
    return elements, attributes


# -- reading ------------------------------------------------------------------------


def _read_list(member: Member, nodes: list[xml.Node]) -> Any:
    item = member.shape.member
    items = nodes if member.flattened else nodes[0].all(item.location_name or "member")
    return [read(item, [one]) for one in items]


def _read_map(member: Member, nodes: list[xml.Node]) -> Any:
    key_member, value_member = member.shape.members["key"], member.shape.members["value"]
    entries = nodes if member.flattened else nodes[0].all("entry")
    out: dict[str, Any] = {}
    for entry in entries:
        key = entry.child(key_member.location_name or "key")
        value = entry.child(value_member.location_name or "value")
        if key is not None and value is not None:
            out[key.text] = read(value_member, [value])
    return out


_READERS: dict[str, Callable[[Member, list[xml.Node]], Any]] = {
    "structure": lambda member, nodes: read_structure(member.shape, nodes[0]),
    "list": _read_list,
    "map": _read_map,
}


def read(member: Member, nodes: list[xml.Node]) -> Any:
    """The value of `member` held by `nodes` (several only for a flattened collection)."""
    reader = _READERS.get(member.shape.type)
    return from_text(member, nodes[0].text) if reader is None else reader(member, nodes)


#: Where a member sits in its structure's element, and how its value is read: (member, its element or attribute
#: name, whether an attribute, whether its element's text is the value as it is: a string, most members).
_Place = tuple[Member, str, bool, bool]


def _places(members: Iterable[Member]) -> tuple[_Place, ...]:
    return tuple([(m, _attribute_name(m) if m.xml_attribute else element_name(m), m.xml_attribute,
                   m.shape.type == "string" and not m.json_value) for m in members])


# Shapes hash by identity, and a response holds the same few structures over and over: each one's places once.
@lru_cache(maxsize=4096)
def _structure_places(shape: Shape) -> tuple[_Place, ...]:
    return _places(shape.members.values())


def read_members(members: Iterable[Member], node: xml.Node) -> dict[str, Any]:
    """The values of `members` found in `node` (children, or attributes)."""
    return _read_places(_places(members), node)


def read_structure(shape: Shape, node: xml.Node) -> dict[str, Any]:
    """The values of structure `shape`'s members found in `node`, as `read_members`."""
    return _read_places(_structure_places(shape), node)


def _read_places(places: tuple[_Place, ...], node: xml.Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # The children grouped by tag in one pass: a structure of many members (EC2's Instance has dozens) would
    # otherwise scan every child once per member.
    by_tag: dict[str, list[xml.Node]] = {}
    for child in node.children:
        if child.tag in by_tag:
            by_tag[child.tag].append(child)
        else:
            by_tag[child.tag] = [child]
    for member, name, is_attribute, as_text in places:
        if is_attribute:
            text = node.attribute(name)
            if text is not None:
                out[member.name] = from_text(member, text)
            continue
        found = by_tag.get(name)
        if found:
            out[member.name] = found[0].text if as_text else read(member, found)
    return out
