"""Read RDF that someone hands us (a file to validate, a remote endpoint's answer) without reaching anything else.

Only pyoxigraph parses such input, never rdflib: rdflib follows a remote JSON-LD `@context` (and
`file:` ones) with no timeout. pyoxigraph fetches nothing: its JSON-LD parser has no document loader
(a remote context is an error, reported here as a refusal) and its RDF/XML parser neither reads an
external DTD nor resolves an external entity. One gap is left, closed by `check_xml`: pyoxigraph's
RDF/XML parser expands internal entities without any bound, so a few hundred bytes of nested
`<!ENTITY>` declarations ("billion laughs") would expand to gigabytes. `check_xml` refuses external
and parameter entities outright and internal entities whose expansion passes `MAX_ENTITY_EXPANSION`
characters, before the parser sees the document.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

MAX_ENTITY_EXPANSION = 1_000_000  # characters that entity references may add to a document, all together
MAX_INPUT_BYTES = 512 * 1024 * 1024

SUFFIX_FORMATS = {  # file suffix -> pyoxigraph.RdfFormat attribute name
    ".nq": "N_QUADS", ".nquads": "N_QUADS", ".nt": "N_TRIPLES", ".ntriples": "N_TRIPLES", ".ttl": "TURTLE",
    ".turtle": "TURTLE", ".trig": "TRIG", ".jsonld": "JSON_LD", ".json": "JSON_LD", ".rdf": "RDF_XML",
    ".owl": "RDF_XML", ".xml": "RDF_XML",
}


class UnsafeInputError(ValueError):
    """Input refused because reading it would reach the network or the disk, or expand without bound."""


_DOCTYPE = re.compile(
    r"<!DOCTYPE\s+[^\s\[>]+(?P<external>\s+(?:SYSTEM|PUBLIC)\b[^\[>]*)?\s*(?:\[(?P<subset>.*?)\]\s*)?>",
    re.DOTALL | re.IGNORECASE,
)
_ENTITY = re.compile(r"<!ENTITY\s+(?P<percent>%\s+)?(?P<name>[^\s\"'%>]+)\s+(?P<rest>(?:\"[^\"]*\"|'[^']*'|[^>\"'])*)>",
                     re.DOTALL | re.IGNORECASE)
_KEYWORD_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_KEYWORD_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)
_INTERNAL = re.compile(r"\A(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')\s*\Z", re.DOTALL)
_REFERENCE = re.compile(r"&([A-Za-z_:][\w.\-:]*);")


def _xml_text(data: bytes) -> str:
    """The document as text, for looking at its DTD (pyoxigraph reads RDF/XML only as UTF-8)."""
    return data.decode("utf-8", errors="replace")


def check_xml(data: bytes, *, max_expansion: int = MAX_ENTITY_EXPANSION, source: str = "the XML") -> None:
    """Refuse XML whose DTD declares external or parameter entities, or entities that expand past a bound.

    A document without a DTD, or with one that only names an external DTD (which no parser here
    fetches) or declares small internal entities (namespace shorthands, as ontology editors write),
    passes.
    """
    text = _xml_text(data)
    doctype = _KEYWORD_DOCTYPE.search(text)  # XML keywords are upper case; look case-blind all the same
    if doctype is None:
        if _KEYWORD_ENTITY.search(text):
            raise UnsafeInputError(f"{source}: refused: an entity declaration outside a DOCTYPE")
        return
    match = _DOCTYPE.match(text, doctype.start())
    if match is None:
        raise UnsafeInputError(f"{source}: refused: a DOCTYPE that cannot be checked (entities are refused)")
    subset = match.group("subset") or ""
    values: dict[str, str] = {}
    declared = len(_KEYWORD_ENTITY.findall(subset))
    for entity in _ENTITY.finditer(subset):
        name = entity.group("name")
        if entity.group("percent"):
            raise UnsafeInputError(f"{source}: refused: parameter entity %{name} (DTD entities are not expanded)")
        internal = _INTERNAL.match(entity.group("rest"))
        if internal is None:
            raise UnsafeInputError(
                f"{source}: refused: external entity &{name}; (SYSTEM/PUBLIC entities are never fetched or read)"
            )
        value = internal.group("dq") if internal.group("dq") is not None else internal.group("sq")
        if "&#" in value or "%" in value:  # a character reference can spell a new `&name;` once expanded
            raise UnsafeInputError(f"{source}: refused: entity &{name}; holds character or parameter references")
        values[name] = value
    if len(values) != declared:
        raise UnsafeInputError(f"{source}: refused: an entity declaration that cannot be checked")
    if _KEYWORD_ENTITY.search(text, match.end()):
        raise UnsafeInputError(f"{source}: refused: an entity declaration outside the DOCTYPE")

    sizes: dict[str, int] = {}

    def expanded(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in sizes:
            return sizes[name]
        if name in seen:
            raise UnsafeInputError(f"{source}: refused: entity &{name}; refers to itself")
        value = values[name]
        size = len(_REFERENCE.sub("", value))
        for ref in _REFERENCE.findall(value):
            if ref in values:
                size += expanded(ref, (*seen, name))
            if size > max_expansion:
                raise UnsafeInputError(
                    f"{source}: refused: entity &{name}; expands past {max_expansion} characters (billion laughs?)"
                )
        sizes[name] = size
        return size

    body = text[match.end():]
    total = 0
    for ref in _REFERENCE.findall(body):
        if ref in values:
            total += expanded(ref)
            if total > max_expansion:
                raise UnsafeInputError(
                    f"{source}: refused: entity references expand past {max_expansion} characters (billion laughs?)"
                )


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF syntax of a file, from its suffix."""
    name = SUFFIX_FORMATS.get(path.suffix.lower())
    if name is None:
        known = ", ".join(sorted(SUFFIX_FORMATS))
        raise ValueError(f"{path}: unknown RDF file suffix {path.suffix!r} (one of {known})")
    fmt: ox.RdfFormat = getattr(ox.RdfFormat, name)
    return fmt


def read_quads(
    source: Path | bytes,
    fmt: ox.RdfFormat | None = None,
    *,
    name: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
) -> list[ox.Quad]:
    """Parse an RDF file (format from its suffix unless given) or bytes with pyoxigraph, fetching nothing.

    Raises UnsafeInputError for input that would reach out or blow up (remote or `file:` JSON-LD
    contexts, external XML entities, entity bombs), ValueError for input that is not valid RDF.
    """
    if isinstance(source, Path):
        where = name or str(source)
        fmt = fmt or rdf_format(source)
        try:
            if source.stat().st_size > max_bytes:
                raise ValueError(f"{where}: over {max_bytes} bytes")
            data = source.read_bytes()
        except OSError as exc:
            raise ValueError(f"{where}: cannot read ({exc.strerror})") from None
    else:
        where, data = name or "the input", source
        if fmt is None:
            raise ValueError(f"{where}: say which RDF format the bytes are in")
        if len(data) > max_bytes:
            raise ValueError(f"{where}: over {max_bytes} bytes")
    if fmt == ox.RdfFormat.RDF_XML:
        check_xml(data, source=where)
    try:
        return list(ox.parse(data, format=fmt))
    except SyntaxError as exc:
        message = " ".join(str(exc).split())
        if "LoadDocumentCallback" in message or "remote context" in message.lower():
            raise UnsafeInputError(
                f"{where}: refused: the JSON-LD names a remote @context, which is never fetched; "
                "put the context in the document"
            ) from None
        raise ValueError(f"{where}: not valid {fmt.name if hasattr(fmt, 'name') else fmt} ({message})") from None
