"""Publish a build's quads in every RDF syntax that consumers load: deterministic bytes, prefixes declared.

Turtle, N-Triples, N-Quads and TriG come from pyoxigraph's serializers (fast, and byte-stable when
fed sorted input). JSON-LD and RDF/XML are written here: pyoxigraph 0.5 emits JSON-LD without a
`@context` (every IRI spelled out) and RDF/XML that silently drops characters XML cannot carry and
writes an empty element name for a predicate that cannot be split into a QName. Our writers keep
an inline context (never a remote one) and refuse what RDF/XML cannot say instead of losing it.

Triple formats (Turtle, N-Triples, JSON-LD, RDF/XML) hold the merged graph: the union of the data,
ontology, reference and vocabulary graphs. Quad formats (N-Quads, TriG) keep the named graphs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..terms.namespaces import PREFIXES, RDF
from .statements import RDF_TYPE_TERM

if TYPE_CHECKING:
    import pyoxigraph as ox

    from .statements import Statements


class ExportError(ValueError):
    """The graph cannot be written in the asked format without losing something; nothing was written."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    file: str  # file name inside a build or a bundle
    media_type: str
    dataset: bool  # True: named graphs kept (N-Quads, TriG); False: the merged graph
    w3c_format: str  # http://www.w3.org/ns/formats/ IRI (VoID void:feature, DCAT dcterms:format)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("turtle", "aflm.ttl", "text/turtle", False, "http://www.w3.org/ns/formats/Turtle"),
        ExportFormat("ntriples", "aflm.nt", "application/n-triples", False, "http://www.w3.org/ns/formats/N-Triples"),
        ExportFormat("jsonld", "aflm.jsonld", "application/ld+json", False, "http://www.w3.org/ns/formats/JSON-LD"),
        ExportFormat("rdfxml", "aflm.rdf", "application/rdf+xml", False, "http://www.w3.org/ns/formats/RDF_XML"),
        ExportFormat("nquads", "aflm.nq", "application/n-quads", True, "http://www.w3.org/ns/formats/N-Quads"),
        ExportFormat("trig", "aflm.trig", "application/trig", True, "http://www.w3.org/ns/formats/TriG"),
    )
}
# Prefixes declared in the exports: ours minus `id:`. A data IRI such as .../document/x/recommendation/I.3~2 would
# need escapes as a prefixed name (`id:document\/x\/recommendation\/I.3\~2`): legal Turtle, but unreadable, and
# rdflib fails on an escaped final dot (RDFLib/rdflib#933) while rdflib.js reads no escapes at all. Full IRIs load
# everywhere.
EXPORT_PREFIXES = {p: ns for p, ns in PREFIXES.items() if p != "id"}
# The files `pipeline.write_outputs` writes itself before calling `write_exports`.
WRITTEN_BY_PIPELINE = ("aflm.nq", "aflm.ttl")


# --- order and blank nodes


def _quad_key(q: ox.Quad) -> tuple[str, str, str, str]:
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


def _triple_key(t: ox.Triple) -> tuple[str, str, str]:
    return (str(t.subject), str(t.predicate), str(t.object))


def _has_blank(q: ox.Quad) -> bool:
    import pyoxigraph as ox

    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) or isinstance(
        q.graph_name, ox.BlankNode
    )


def canonical_quads(quads: Iterable[ox.Quad], *, assume_sorted: bool = False) -> list[ox.Quad]:
    """Deduplicated, sorted quads whose blank nodes (if any) carry RDFC-1.0 canonical labels (`_:c14n0` ...).

    Parsers invent fresh blank-node labels on every run, so without this a file with a blank node
    (an OWL restriction, an RDF list) would change bytes between two builds of the same input. Only
    the quads that touch a blank node go through the canonicaliser (its labels depend on those alone),
    so a big graph with a few blank nodes stays linear. `assume_sorted`: the input is already sorted
    and deduplicated (as `build.build_quads` returns it), so without blank nodes it is returned as is.
    """
    import pyoxigraph as ox

    plain: list[ox.Quad] = []
    blank: list[ox.Quad] = []
    for q in quads:
        (blank if _has_blank(q) else plain).append(q)
    if not blank and assume_sorted:
        return plain
    if blank:
        dataset = ox.Dataset(blank)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        plain.extend(dataset)
    unique = {_quad_key(q): q for q in plain}
    return [unique[k] for k in sorted(unique)]


def merged_triples(quads: Iterable[ox.Quad]) -> list[ox.Triple]:
    """The union of all named graphs as sorted, deduplicated triples (what the triple formats hold)."""
    import pyoxigraph as ox

    unique = {}
    for q in quads:
        t = ox.Triple(q.subject, q.predicate, q.object)
        unique[_triple_key(t)] = t
    return [unique[k] for k in sorted(unique)]


def load_build_quads(build: Path) -> list[ox.Quad]:
    """The quads of a build folder (its `aflm.nq`), in canonical order."""
    import pyoxigraph as ox

    dump = Path(build) / "aflm.nq"
    if not dump.is_file():
        raise ExportError(f"{dump}: no build here; run `aflm-graph build` first (or pass --build DIR)")
    try:
        return canonical_quads(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise ExportError(f"{dump}: not valid N-Quads ({exc})") from None


# --- serialisation


def serialize(quads: Sequence[ox.Quad], fmt: str, *, triples: Sequence[ox.Triple] | None = None) -> bytes:
    """The bytes of one export; `quads` must be canonical (see `canonical_quads`), `triples` their merge if known."""
    import pyoxigraph as ox

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "nquads":
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    if fmt == "trig":
        from .statements import Statements

        return "".join(terse_chunks(Statements.from_quads(quads).ordered())).encode("utf-8")
    merged = merged_triples(quads) if triples is None else triples
    if fmt == "turtle":
        return turtle(merged)
    if fmt == "ntriples":
        return ox.serialize(merged, format=ox.RdfFormat.N_TRIPLES)
    if fmt == "jsonld":
        return to_jsonld(merged)
    return to_rdfxml(merged)


def sort_prefix_lines(data: bytes) -> bytes:
    """Sort the leading `@prefix` lines: pyoxigraph writes them in its hash-map order, stable but arbitrary."""
    head_end = 0
    while data.startswith(b"@prefix ", head_end):
        head_end = data.index(b"\n", head_end) + 1
    lines = data[:head_end].splitlines(keepends=True)
    return b"".join(sorted(lines)) + data[head_end:]


def turtle(triples: Sequence[ox.Triple], prefixes: dict[str, str] | None = None) -> bytes:
    """Turtle of sorted triples with our prefixes, declared in alphabetical order."""
    from .statements import triples_to_statements

    return "".join(terse_chunks([("", triples_to_statements(triples))], prefixes or EXPORT_PREFIXES)).encode("utf-8")


def write_build_exports(
    folder: Path,
    statements: Statements,
    merged: Sequence[str],
    *,
    record: Callable[[str, int, str], None],
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Write a build's exports from its statements (statements.py), streaming, into `folder` (a staging folder).

    `aflm.nq` must be there already (the pipeline writes it first). N-Triples is the merged statements
    joined; Turtle, TriG, JSON-LD and RDF/XML are written from the statements by our streaming writers.
    `record(name, bytes, sha256)` gets every file. The bytes are those of `serialize` on the same graph.
    `meanwhile` is other work of the caller's, run while a big graph's JSON-LD and RDF/XML are written
    by the helper process (if it raises, the helper is stopped and nothing more is recorded).
    """
    from .statements import ntriples_chunks, write_chunks

    nt = folder / "aflm.nt"
    record("aflm.nt", *write_chunks(nt, ntriples_chunks(merged)))

    def turtle_and_trig() -> None:
        record("aflm.ttl", *write_chunks(folder / "aflm.ttl", terse_chunks([("", merged)])))
        record("aflm.trig", *write_chunks(folder / "aflm.trig", terse_chunks(statements.ordered())))

    if len(merged) < HELPER_THRESHOLD:
        turtle_and_trig()
        record("aflm.jsonld", *write_chunks(folder / "aflm.jsonld", jsonld_chunks(merged)))
        record("aflm.rdf", *write_rdfxml_file(folder / "aflm.rdf", merged))
        if meanwhile is not None:
            meanwhile()
        return
    # A big graph: JSON-LD and RDF/XML are written by a second Python process reading aflm.nt line by
    # line (its memory stays small), while this one writes Turtle and TriG and does `meanwhile`.
    import subprocess
    import sys

    helper = subprocess.Popen(
        [sys.executable, "-c", "from aflm_graph.graph.export import _helper; _helper()", str(nt),
         str(folder / "aflm.jsonld"), str(folder / "aflm.rdf")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        turtle_and_trig()
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        helper.kill()
        helper.communicate()
        raise
    out, err = helper.communicate()
    if helper.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        raise ExportError(lines[-1].split(": ", 1)[-1] if lines else f"the export helper failed ({helper.returncode})")
    for name, (size, digest) in json.loads(out.decode().strip().splitlines()[-1]).items():
        record(name, size, digest)


HELPER_THRESHOLD = 300_000
"""From this many triples, JSON-LD and RDF/XML are written by a second process (see write_build_exports)."""


def _ntriples_statements(path: Path) -> Iterator[str]:
    """The statements of an N-Triples file this module wrote (one `<s> <p> <o> .` per line)."""
    with open(path, encoding="utf-8", newline="\n") as handle:
        for line in handle:
            yield line[:-3]


def _helper() -> None:
    """`python -c ...`: write aflm.jsonld and aflm.rdf from aflm.nt; print their sizes and checksums as JSON."""
    import sys

    from .statements import write_chunks

    nt, jsonld, rdfxml = (Path(a) for a in sys.argv[1:4])
    try:
        written = {
            jsonld.name: write_chunks(jsonld, jsonld_chunks(_ntriples_statements(nt))),
            rdfxml.name: write_rdfxml_file(rdfxml, _ntriples_statements(nt)),
        }
    except ExportError as exc:
        print(f"ExportError: {' '.join(str(exc).split())}", file=sys.stderr)
        raise SystemExit(1) from None
    print(json.dumps(written))


def write_rdfxml_file(target: Path, statements: Iterable[str], *, prefixes: dict[str, str] | None = None
                      ) -> tuple[int, str]:
    """RDF/XML of sorted statements into `target`; the body goes through a temporary file (see RdfXmlWriter)."""
    import os

    from .statements import HashingWriter, write_chunks

    writer = RdfXmlWriter(prefixes)
    body = target.with_name(f".{target.name}.{os.getpid()}.body.tmp")
    try:
        write_chunks(body, writer.body_chunks(statements))
        out = HashingWriter(target)
        try:
            out.write(writer.head())
            with open(body, "rb") as handle:
                while block := handle.read(1 << 22):
                    out.write(block)
            out.write(writer.tail())
        finally:
            result = out.close()
    finally:
        body.unlink(missing_ok=True)
    return result


# --- JSON-LD (compacted with an inline @context of our prefixes; deterministic key and value order)


def _compactor(prefixes: dict[str, str]) -> Callable[[str], str]:
    ordered = sorted(prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))  # longest namespace wins
    # one regex finds the longest namespace an IRI starts with (alternatives are tried longest first)
    first_namespace = re.compile("|".join(f"({re.escape(ns)})" for _, ns in ordered)).match if ordered else None

    cache: dict[str, str] = {}

    def compact(iri: str) -> str:
        found = cache.get(iri)
        if found is not None:
            return found
        found = iri
        hit = first_namespace(iri) if first_namespace is not None else None
        if hit is not None:
            prefix, ns = ordered[hit.lastindex - 1]  # type: ignore[operator]
            local = iri[len(ns):]
            # "p://x" would read as an absolute IRI, and "_" is the blank-node prefix: try the shorter ones
            if not local.startswith("//") and prefix != "_":
                found = f"{prefix}:{local}"
            else:
                for prefix, ns in ordered:
                    if iri.startswith(ns):
                        local = iri[len(ns):]
                        if not local.startswith("//") and prefix != "_":
                            found = f"{prefix}:{local}"
                            break
        if len(cache) < 100_000:  # predicates, classes and datatypes recur; most subjects do not
            cache[iri] = found
        return found

    return compact


def to_jsonld(triples: Iterable[ox.Triple], *, prefixes: dict[str, str] | None = None) -> bytes:
    """JSON-LD 1.1 of sorted triples: one node object per subject, prefixes in an inline `@context`.

    Literals keep their lexical form (`{"@value": "3", "@type": "xsd:integer"}`, never a JSON number),
    so the round trip gives back the very same literal; rdf:type objects that are IRIs go to `@type`.
    """
    from .statements import triples_to_statements

    return "".join(jsonld_chunks(triples_to_statements(triples), prefixes=prefixes)).encode("utf-8")


def _subject_id(s: str, compact: Callable[[str], str]) -> str:
    if s.startswith("_:"):
        return s
    if s.startswith("<<"):
        raise ExportError(f"{s}: quoted triples cannot be written as JSON-LD 1.1")
    return compact(s[1:-1])


def jsonld_chunks(statements: Iterable[str], *, prefixes: dict[str, str] | None = None) -> Iterator[str]:
    """`to_jsonld` as text chunks, from sorted N-Triples statements (statements.py): what a build writes."""
    from .statements import parse_literal

    context = dict(sorted((prefixes or EXPORT_PREFIXES).items()))
    compact = _compactor(context)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    rdf_type = f"<{RDF.type}>"
    head = json.dumps({"@context": context}, ensure_ascii=False, indent=1)[:-2]
    yield f'{head},\n "@graph": [\n'
    lines: list[str] = []
    current: dict[str, list[object]] = {}
    current_subject = None
    node_id = ""
    keys: dict[str, str] = {}

    def flush_node() -> None:
        # keys in a fixed order: @id, @type, then properties by compact name
        node: dict[str, object] = {"@id": node_id}
        if "@type" in current:
            node["@type"] = current.pop("@type")
        for key in sorted(current):
            node[key] = current[key]
        lines.append(encode(node))

    for statement in statements:
        s, p, o = statement.split(" ", 2)
        if s != current_subject:
            if current_subject is not None:
                flush_node()
                current = {}
                if len(lines) >= 2_000:
                    yield ",\n".join(lines) + ",\n"
                    lines = []
            current_subject = s
            node_id = _subject_id(s, compact)
        first = o[0]
        if p == rdf_type and first == "<" and not o.startswith("<<"):
            current.setdefault("@type", []).append(compact(o[1:-1]))
            continue
        if first == "<":
            if o.startswith("<<"):
                raise ExportError(f"{s}: quoted triples cannot be written as JSON-LD 1.1")
            value: object = {"@id": compact(o[1:-1])}
        elif first == "_":
            value = {"@id": o}
        else:
            text, datatype, language = parse_literal(o)
            if language is not None:
                if "--" in language:
                    raise ExportError(f"{s}: literals with a base direction are not supported in JSON-LD here")
                value = {"@value": text, "@language": language}
            elif datatype is None:
                value = text
            else:
                value = {"@value": text, "@type": compact(datatype)}
        key = keys.get(p)
        if key is None:
            key = keys[p] = compact(p[1:-1])
        current.setdefault(key, []).append(value)
    if current_subject is not None:
        flush_node()
    # one node object per line: diffs read line by line and the file stays compact at millions of triples
    yield ",\n".join(lines) + "\n ]\n}\n"


# --- RDF/XML

# XML 1.0 Char production: what an XML document can contain at all (even as a character reference).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NCNAME_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_START = re.compile(f"[{_NCNAME_START}]")
_NAME_CHAR = re.compile(f"[{_NCNAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]")
_XML_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*$")


def not_xml_characters(text: str) -> list[str]:
    """Characters of `text` that XML 1.0 cannot carry (C0 controls but tab/LF/CR, U+FFFE, U+FFFF, lone surrogates)."""
    return sorted(set(_NOT_XML.findall(text)))


_XML_ESCAPE_TEXT = re.compile("[&<>\r]")
_XML_ESCAPE_ATTR = re.compile('[&<>\r"\t\n]')


def _xml_text(value: str, where: str) -> str:
    if _NOT_XML.search(value) is not None:
        shown = ", ".join(f"U+{ord(c):04X}" for c in not_xml_characters(value))
        raise ExportError(
            f"{where}: the literal holds {shown}, which XML 1.0 (hence RDF/XML) cannot carry; "
            "texts are normalised at ingest so this should not happen (see README, Exports)"
        )
    if _XML_ESCAPE_TEXT.search(value) is None:  # most texts and IRIs: nothing to escape
        return value
    # a CR would come back as LF after XML end-of-line handling: write it as a character reference
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _xml_attr(value: str, where: str) -> str:
    if _XML_ESCAPE_ATTR.search(value) is None and _NOT_XML.search(value) is None:
        return value
    return _xml_text(value, where).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


def _split_predicate(iri: str) -> tuple[str, str]:
    """Namespace and the longest NCName that ends the IRI (RDF/XML names a predicate by a QName)."""
    i = len(iri)
    while i > 0 and _NAME_CHAR.match(iri[i - 1]):
        i -= 1
    while i < len(iri) and not _NAME_START.match(iri[i]):
        i += 1
    return iri[:i], iri[i:]


def to_rdfxml(triples: Iterable[ox.Triple], *, prefixes: dict[str, str] | None = None) -> bytes:
    """RDF/XML of sorted triples: one rdf:Description per subject, declared prefixes, nothing lost.

    Raises ExportError for what RDF/XML cannot express (a predicate IRI without an NCName ending,
    a character outside XML 1.0, a literal with a base direction, a quoted triple).
    """
    from .statements import triples_to_statements

    writer = RdfXmlWriter(prefixes)
    body = "".join(writer.body_chunks(triples_to_statements(triples)))
    return (writer.head() + body + writer.tail()).encode("utf-8")


class RdfXmlWriter:
    """RDF/XML from sorted N-Triples statements (statements.py). The `xmlns` declarations come first in
    the file but are only known once every predicate has been seen: write `body_chunks`, then `head()`."""

    def __init__(self, prefixes: dict[str, str] | None = None) -> None:
        declared = prefixes or EXPORT_PREFIXES
        self.given = {p: ns for p, ns in declared.items() if _XML_PREFIX.match(p) and not p.startswith("xml")}
        self.given["rdf"] = RDF.NS
        self.by_ns = {ns: p for p, ns in sorted(self.given.items())}
        self.extra: dict[str, str] = {}  # namespaces of predicates that no declared prefix covers -> ns1, ns2, ...
        self.qnames: dict[str, str] = {}

    def qname(self, iri: str) -> str:
        found = self.qnames.get(iri)
        if found is not None:
            return found
        ns, local = _split_predicate(iri)
        if not local or not ns:
            raise ExportError(f"<{iri}>: RDF/XML cannot name this predicate (its IRI does not end in an XML name)")
        prefix = self.by_ns.get(ns) or self.extra.get(ns)
        if prefix is None:
            prefix = self.extra[ns] = f"ns{len(self.extra) + 1}"
        self.qnames[iri] = f"{prefix}:{local}"
        return self.qnames[iri]

    def body_chunks(self, statements: Iterable[str]) -> Iterator[str]:
        from .statements import parse_literal

        body: list[str] = []
        current = None
        for statement in statements:
            s, p, o = statement.split(" ", 2)
            if s != current:
                if current is not None:
                    body.append("\t</rdf:Description>\n")
                    if len(body) >= 20_000:
                        yield "".join(body)
                        body = []
                current = s
                if s.startswith("_:"):
                    body.append(f'\t<rdf:Description rdf:nodeID="{_xml_attr(s[2:], s)}">\n')
                elif s.startswith("<<"):
                    raise ExportError(f"{s}: quoted triples cannot be written as RDF/XML")
                else:
                    body.append(f'\t<rdf:Description rdf:about="{_xml_attr(s[1:-1], s)}">\n')
            name = self.qname(p[1:-1])
            first = o[0]
            if first == "<":
                if o.startswith("<<"):
                    raise ExportError(f"{s}: quoted triples cannot be written as RDF/XML")
                body.append(f'\t\t<{name} rdf:resource="{_xml_attr(o[1:-1], s)}"/>\n')
            elif first == "_":
                body.append(f'\t\t<{name} rdf:nodeID="{_xml_attr(o[2:], s)}"/>\n')
            else:
                value, datatype, language = parse_literal(o)
                text = _xml_text(value, s)
                if language is not None:
                    if "--" in language:
                        raise ExportError(f"{s}: literals with a base direction are not supported in RDF/XML here")
                    body.append(f'\t\t<{name} xml:lang="{_xml_attr(language, s)}">{text}</{name}>\n')
                elif datatype is None:
                    body.append(f"\t\t<{name}>{text}</{name}>\n")
                else:
                    body.append(f'\t\t<{name} rdf:datatype="{_xml_attr(datatype, s)}">{text}</{name}>\n')
        if current is not None:
            body.append("\t</rdf:Description>\n")
        yield "".join(body)

    def head(self) -> str:
        declared = {**self.given, **{p: ns for ns, p in self.extra.items()}}
        xmlns = "".join(f'\n\txmlns:{p}="{_xml_attr(ns, "prefix " + p)}"' for p, ns in sorted(declared.items()))
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF{xmlns}>\n'

    @staticmethod
    def tail() -> str:
        return "</rdf:RDF>\n"


# --- Turtle and TriG from statements (the bytes pyoxigraph's serialisers write, without a Python object per quad)

_TURTLE_NUMBER = {
    "http://www.w3.org/2001/XMLSchema#integer": re.compile(r"[+-]?[0-9]+"),
    "http://www.w3.org/2001/XMLSchema#decimal": re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    "http://www.w3.org/2001/XMLSchema#double": re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    "http://www.w3.org/2001/XMLSchema#boolean": re.compile(r"true|false"),
}
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_FIRST = re.compile(f"[{_PN_CHARS_BASE}_:0-9]")
_PN_CHAR = re.compile(f"[{_PN_CHARS_BASE}_:0-9\\-\u00b7\u0300-\u036f\u203f-\u2040]")
_LOCAL_ESCAPABLE = frozenset("_~.-!$&'()*+,;=/?#@%")


def escape_local_name(local: str) -> str | None:
    """`local` as a Turtle PN_LOCAL (reserved characters escaped with `\\`), or None if it cannot be one.

    The rule of pyoxigraph's serialiser (oxttl `escape_local_name`): a `.` is kept unless it is last.
    """
    out = []
    last = len(local) - 1
    for i, c in enumerate(local):
        if (_PN_FIRST if i == 0 else _PN_CHAR).match(c) or (i and c == "." and i != last):
            out.append(c)
        elif c in _LOCAL_ESCAPABLE:
            out.append("\\" + c)
        else:
            return None
    return "".join(out)


class TurtleTerms:
    """N-Triples terms -> Turtle terms with prefixed names and bare numbers, as pyoxigraph writes them."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = sorted(prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))  # the longest namespace first
        self._starts = re.compile("|".join(re.escape(ns) for _, ns in self.prefixes)) if self.prefixes else None
        self._predicates: dict[str, str] = {RDF_TYPE_TERM: "a"}
        self._objects: dict[str, str] = {}

    def iri(self, term: str) -> str:
        """`<iri>` -> `prefix:local` when a prefix gives a valid local name (the longest namespace that does).

        pyoxigraph tries the prefixes in hash-map order, so with nested namespaces its choice can change
        between runs; ours is fixed. Without nesting (our prefixes) the two are the same.
        """
        iri = term[1:-1]
        if self._starts is None or self._starts.match(iri) is None:
            return term
        for name, ns in self.prefixes:
            if iri.startswith(ns):
                local = iri[len(ns) :]
                if not local:
                    return f"{name}:"
                escaped = escape_local_name(local)
                if escaped is not None:
                    return f"{name}:{escaped}"
        return term

    def predicate(self, term: str) -> str:
        shown = self._predicates.get(term)
        if shown is None:
            shown = self._predicates[term] = self.iri(term)
        return shown

    def object(self, term: str) -> str:
        first = term[0]
        if first == "<":
            shown = self._objects.get(term)
            if shown is None:
                shown = self.iri(term)
                if len(self._objects) < 100_000:  # vocabulary concepts repeat; data IRIs mostly do not
                    self._objects[term] = shown
            return shown
        if first != '"' or term[-1] != ">":
            return term  # a blank node, a plain or language-tagged literal: the same in Turtle
        cut = term.rindex('"^^<')
        datatype = term[cut + 4 : -1]
        number = _TURTLE_NUMBER.get(datatype)
        if number is not None and number.fullmatch(term, 1, cut):
            return term[1:cut]
        datatype_term = term[cut + 3 :]
        shown = self._objects.get(datatype_term)
        if shown is None:
            shown = self._objects[datatype_term] = self.iri(datatype_term)
        return f"{term[: cut + 1]}^^{shown}"


def terse_chunks(graphs: Iterable[tuple[str, Sequence[str]]], prefixes: dict[str, str] | None = None,
                 size: int = 20_000) -> Iterator[str]:
    """Turtle (one graph "") or TriG (named graphs) of sorted statements, in chunks of about `size` statements.

    Byte for byte what `pyoxigraph.serialize` writes for the same sorted quads with the same prefixes,
    then `sort_prefix_lines`: subjects grouped with ` ;`, objects with ` , `, `a` for rdf:type, prefixed
    names where the local part allows, bare integers, decimals, doubles and booleans.
    """
    terms = TurtleTerms(EXPORT_PREFIXES if prefixes is None else prefixes)
    head = "".join(sorted(f"@prefix {name}: <{ns}> .\n" for name, ns in terms.prefixes))
    out: list[str] = []
    started = False
    for graph, statements in graphs:
        if not statements:
            continue
        if not started:
            out.append(head)
            started = True
        indent = "\t" if graph else ""
        if graph:
            out.append(f"{terms.iri(f'<{graph}>')} {{\n")
        subject = predicate = ""
        for i, statement in enumerate(statements):
            s, p, o = statement.split(" ", 2)
            if s == subject:
                if p == predicate:
                    out.append(f" , {terms.object(o)}")
                else:
                    predicate = p
                    out.append(f" ;\n{indent}\t{terms.predicate(p)} {terms.object(o)}")
            else:
                if subject:
                    out.append(" .\n")
                subject, predicate = s, p
                out.append(f"{indent}{terms.iri(s) if s[0] == '<' else s} {terms.predicate(p)} {terms.object(o)}")
            if i % size == size - 1:
                yield "".join(out)
                out.clear()
        out.append(" .\n}\n" if graph else " .\n")
    yield "".join(out)
