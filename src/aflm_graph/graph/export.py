"""Publish a build's quads in every RDF syntax that consumers load: deterministic bytes, prefixes declared.

N-Triples, N-Quads, Turtle, TriG and RDF/XML are pyoxigraph's serialisations of the sorted quads
(byte-stable for sorted input; the `@prefix` lines sorted here). Before RDF/XML, `check_rdfxml`
refuses what pyoxigraph's writer would garble or lose (characters outside XML 1.0, a carriage return,
a predicate that is no QName). JSON-LD is written here: pyoxigraph 0.5 writes it without a
`@context`; ours keeps an inline one (never a remote one).

Triple formats (Turtle, N-Triples, JSON-LD, RDF/XML) hold the merged graph: the union of the data,
ontology, reference and vocabulary graphs. Quad formats (N-Quads, TriG) keep the named graphs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from ..terms.namespaces import PREFIXES, RDF, W3C_FORMATS

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
    w3c_format: str  # the format's IRI (VoID void:feature, DCAT dcterms:format)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("turtle", "aflm.ttl", "text/turtle", False, W3C_FORMATS + "Turtle"),
        ExportFormat("ntriples", "aflm.nt", "application/n-triples", False, W3C_FORMATS + "N-Triples"),
        ExportFormat("jsonld", "aflm.jsonld", "application/ld+json", False, W3C_FORMATS + "JSON-LD"),
        ExportFormat("rdfxml", "aflm.rdf", "application/rdf+xml", False, W3C_FORMATS + "RDF_XML"),
        ExportFormat("nquads", "aflm.nq", "application/n-quads", True, W3C_FORMATS + "N-Quads"),
        ExportFormat("trig", "aflm.trig", "application/trig", True, W3C_FORMATS + "TriG"),
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


def _unnested(prefixes: dict[str, str]) -> dict[str, str]:
    """`prefixes`, checked: with one namespace inside another, pyoxigraph's choice of prefix would vary by run."""
    for a, ns in prefixes.items():
        for b, other in prefixes.items():
            if a != b and other.startswith(ns):
                raise ValueError(f"prefix {b}: <{other}> lies inside {a}: <{ns}>; the output would not be stable")
    return prefixes


def serialize(quads: Sequence[ox.Quad], fmt: str, *, triples: Sequence[ox.Triple] | None = None) -> bytes:
    """The bytes of one export; `quads` must be canonical (see `canonical_quads`), `triples` their merge if known."""
    import pyoxigraph as ox

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "nquads":
        return _bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    if fmt == "trig":
        # the default graph first, as in the N-Quads dump (statements.Statements.ordered)
        default = [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]
        named = [q for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)]
        return sort_prefix_lines(_bytes(ox.serialize(default + named, format=ox.RdfFormat.TRIG,
                                                     prefixes=_unnested(EXPORT_PREFIXES))))
    merged = merged_triples(quads) if triples is None else triples
    if fmt == "turtle":
        return turtle(merged)
    if fmt == "ntriples":
        return _bytes(ox.serialize(merged, format=ox.RdfFormat.N_TRIPLES))
    if fmt == "jsonld":
        return to_jsonld(merged)
    return to_rdfxml(merged)


def _bytes(data: bytes | None) -> bytes:
    """What `pyoxigraph.serialize` returns without an output: bytes (typed `bytes | None` for the other case)."""
    assert data is not None
    return data


def sort_prefix_lines(data: bytes) -> bytes:
    """Sort the leading `@prefix` lines: pyoxigraph writes them in an order of its own, not by name."""
    head_end = 0
    while data.startswith(b"@prefix ", head_end):
        head_end = data.index(b"\n", head_end) + 1
    lines = data[:head_end].splitlines(keepends=True)
    return b"".join(sorted(lines)) + data[head_end:]


def turtle(triples: Iterable[ox.Triple], prefixes: dict[str, str] | None = None) -> bytes:
    """Turtle of sorted triples (pyoxigraph's serialiser) with our prefixes, declared in alphabetical order."""
    import pyoxigraph as ox

    chosen = _unnested(EXPORT_PREFIXES if prefixes is None else prefixes)
    return sort_prefix_lines(_bytes(ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=chosen)))


class _Output:
    """The file pyoxigraph writes an export into: counts and hashes the bytes and, for Turtle and TriG,
    sorts the leading `@prefix` lines (held back until the first line that is not one)."""

    def __init__(self, path: Path, *, sort_prefixes: bool) -> None:
        from .statements import HashingWriter

        self._out = HashingWriter(path)
        self._head: bytearray | None = bytearray() if sort_prefixes else None

    def write(self, data: bytes) -> int:
        if self._head is None:
            self._out.write(bytes(data))
            return len(data)
        self._head += data
        at = 0
        while self._head.startswith(b"@prefix ", at):
            end = self._head.find(b"\n", at)
            if end < 0:
                return len(data)  # a prefix line not yet complete
            at = end + 1
        if len(self._head) - at < 8 and b"@prefix ".startswith(self._head[at:]):
            return len(data)  # maybe the start of another prefix line
        self._release()
        return len(data)

    def flush(self) -> None:
        pass

    def _release(self) -> None:
        if self._head is not None:
            self._out.write(sort_prefix_lines(bytes(self._head)))
            self._head = None

    def close(self) -> tuple[int, str]:
        self._release()
        return self._out.close()

    def abort(self) -> None:
        self._out._file.close()


def write_serialized(target: Path, items: Iterable[ox.Triple] | Iterable[ox.Quad], fmt: ox.RdfFormat,
                     prefixes: dict[str, str] | None = None) -> tuple[int, str]:
    """Stream `items` (sorted) through pyoxigraph's serialiser for `fmt` into `target`; return (bytes, sha256).

    Memory stays small whatever the size: pass `pyoxigraph.parse(path=...)` of a dump as `items`.
    """
    import pyoxigraph as ox

    out = _Output(target, sort_prefixes=fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG))
    try:
        chosen = _unnested(EXPORT_PREFIXES if prefixes is None else prefixes)
        ox.serialize(items, cast(IO[bytes], out), format=fmt, prefixes=chosen)  # _Output has what serialize calls
    except BaseException:
        out.abort()
        raise
    return out.close()


def write_build_exports(
    folder: Path,
    statements: Statements,
    merged: Sequence[str],
    *,
    record: Callable[[str, int, str], None],
    meanwhile: Callable[[], None] | None = None,
    first: Callable[[], None] | None = None,
    predicates_checked: bool = False,
) -> None:
    """Write a build's exports from its statements (statements.py) into `folder` (a staging folder), streaming.

    `aflm.nq` must be there already (the pipeline writes it first). N-Triples is the merged statements
    joined; Turtle, TriG and RDF/XML are pyoxigraph's serialisations of the N-Triples and N-Quads files
    (parsed as they are read); JSON-LD comes from the statements (`jsonld_chunks`). `record(name, bytes,
    sha256)` gets every file; the bytes are those of `serialize` on the same graph. `meanwhile` is other
    work of the caller's, run while a big graph's JSON-LD and RDF/XML are written by a helper process
    (if it raises, the helper is stopped and nothing more is recorded). `first` is work of the caller's
    that runs before Turtle and TriG and after the last use of `statements` and `merged` here (N-Triples,
    and JSON-LD if this process writes it): the caller may let go of them in it. `predicates_checked`: the
    caller checks the merged graph's predicates itself (`check_predicates`, from a list it has), so the
    helper's RDF/XML check does not collect them from the bytes.
    """
    import pyoxigraph as ox

    from .statements import ntriples_chunks, write_chunks

    nt = folder / "aflm.nt"
    record("aflm.nt", *write_chunks(nt, ntriples_chunks(merged)))

    def turtle_and_trig() -> None:
        # Every triple of aflm.nt is a quad of aflm.nq: the strict parse of the N-Quads (for TriG) checks each
        # IRI and language tag once, so the N-Triples are read leniently (0.85 s less at 1,000 documents).
        triples = ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES, lenient=True)
        record("aflm.ttl", *write_serialized(folder / "aflm.ttl", triples, ox.RdfFormat.TURTLE))
        quads = ox.parse(path=str(folder / "aflm.nq"), format=ox.RdfFormat.N_QUADS)
        record("aflm.trig", *write_serialized(folder / "aflm.trig", quads, ox.RdfFormat.TRIG))

    if len(merged) < HELPER_THRESHOLD:
        record("aflm.jsonld", *write_chunks(folder / "aflm.jsonld", jsonld_chunks(merged)))
        record("aflm.rdf", *write_rdfxml_file(folder / "aflm.rdf", nt))
        if first is not None:
            first()
        turtle_and_trig()
        if meanwhile is not None:
            meanwhile()
        return
    # A big graph: JSON-LD and RDF/XML are written by a second Python process reading aflm.nt (its memory
    # stays small), while this one writes Turtle and TriG and does `meanwhile`.
    import subprocess
    import sys

    helper = subprocess.Popen(
        [sys.executable, "-c", "from aflm_graph.graph.export import _helper; _helper()", str(nt),
         str(folder / "aflm.jsonld"), str(folder / "aflm.rdf"), "checked" if predicates_checked else "scan"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        if first is not None:
            first()
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
    scan = sys.argv[4:5] != ["checked"]  # "checked": the parent checks the predicates (check_predicates)
    try:
        written = {
            jsonld.name: write_chunks(jsonld, jsonld_chunks(_ntriples_statements(nt))),
            rdfxml.name: write_rdfxml_file(rdfxml, nt, predicates=scan),
        }
    except ExportError as exc:
        print(f"ExportError: {' '.join(str(exc).split())}", file=sys.stderr)
        raise SystemExit(1) from None
    print(json.dumps(written))


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
            assert hit.lastindex is not None  # one group per namespace, and this one matched
            prefix, ns = ordered[hit.lastindex - 1]
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


# --- RDF/XML (pyoxigraph's serialiser, after a check for what it would garble or lose)

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


def _split_predicate(iri: str) -> tuple[str, str]:
    """Namespace and the longest NCName that ends the IRI (RDF/XML names a predicate by a QName)."""
    i = len(iri)
    while i > 0 and _NAME_CHAR.match(iri[i - 1]):
        i -= 1
    while i < len(iri) and not _NAME_START.match(iri[i]):
        i += 1
    return iri[:i], iri[i:]


# Where in N-Triples bytes something RDF/XML cannot take may hide (each hit is then checked exactly):
# an escape (\r, \b, \f, \u0001 ...), a raw control or U+FFFE/U+FFFF, a quoted triple, a base direction.
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f]")
_NOT_CONTROL = bytes(b for b in range(256) if not _CONTROL.match(bytes([b])))  # translate() deletes these
_ESCAPE = re.compile(rb"\\[rbfuU]")
# A base direction ends a language tag (`"..."@en--ltr .`); the hits are checked exactly, so this wider pattern
# (it also meets `a--b c` in a text) only costs a parse of the line. A compiled regex, not `in`: bytes.find is
# slow for `--` and `<<` in N-Triples (hyphens and `<` everywhere), the regex scan twice as fast.
_DIRECTION = re.compile(rb"--[A-Za-z]+(?:[ \n]|\Z)")
_QUOTED = re.compile(rb"<<")
_NONCHARACTER = re.compile(rb"\xef\xbf[\xbe\xbf]")  # U+FFFE, U+FFFF in UTF-8
_PREDICATE = re.compile(rb"\n[^ \n]+ (<[^>\n]*>)")


def _rdfxml_problem(statement: str) -> str | None:
    """Why RDF/XML (as pyoxigraph writes it) cannot hold the statement `<s> <p> <o>`, or None."""
    from .statements import parse_literal

    s, _, o = statement.split(" ", 2)
    if s.startswith("<<") or o.startswith("<<"):
        return f"{s}: quoted triples cannot be written as RDF/XML"
    if not o.startswith('"'):
        return None
    value, _, language = parse_literal(o)
    if language is not None and "--" in language:
        return f"{s}: literals with a base direction are not supported in RDF/XML here"
    if _NOT_XML.search(value) is not None:
        shown = ", ".join(f"U+{ord(c):04X}" for c in not_xml_characters(value))
        return (f"{s}: the literal holds {shown}, which XML 1.0 (hence RDF/XML) cannot carry; "
                "texts are normalised at ingest so this should not happen (see README, Exports)")
    if "\r" in value:  # pyoxigraph writes it raw, and XML parsers read a raw CR back as LF
        return (f"{s}: the literal holds U+000D (carriage return), which RDF/XML readers would turn into a "
                "line feed; texts are normalised at ingest so this should not happen (see README, Exports)")
    return None


def _line_at(block: bytes, at: int) -> str:
    start = block.rfind(b"\n", 0, at) + 1
    end = block.find(b"\n", at)
    line = block[start : len(block) if end < 0 else end].decode("utf-8")
    return line[:-2] if line.endswith(" .") else line


def check_rdfxml(blocks: Iterable[bytes], *, predicates: bool = True) -> None:
    """Raise ExportError for what RDF/XML cannot hold, before anything is written: characters outside
    XML 1.0 and carriage returns in literals (pyoxigraph would write them raw), a predicate whose IRI
    does not end in an XML name (it would write an empty element name), a quoted triple or a literal
    with a base direction. `blocks`: N-Triples (whole lines, with or without the final ` .`) as bytes.

    A few scans of each block in C (translate, compiled regular expressions) find where a problem may
    be; only those lines are decoded and parsed. Without `predicates` the predicates are not collected
    (the costly part, 0.8 s at 1.6M triples): the caller checks them with `check_predicates` from a
    list it has anyway (a build: its VoID facts)."""
    found: set[bytes] = set()
    for block in blocks:
        suspects: list[int] = []
        if block.translate(None, _NOT_CONTROL):
            control = _CONTROL.search(block)  # translate() left a control character: there is one
            if control is not None:
                suspects.append(control.start())
        if b"\\" in block:
            suspects.extend(m.start() for m in _ESCAPE.finditer(block))
        for marker in (_QUOTED, _NONCHARACTER):
            hit = marker.search(block)
            if hit is not None:
                suspects.append(hit.start())
        suspects.extend(m.start() for m in _DIRECTION.finditer(block))
        for at in suspects:
            problem = _rdfxml_problem(_line_at(block, at))
            if problem is not None:
                raise ExportError(problem)
        if predicates:
            first = block[: block.find(b"\n")].split(b" ", 2)
            if len(first) == 3:
                found.add(first[1])
            found.update(_PREDICATE.findall(block))
    check_predicates(term.decode("utf-8")[1:-1] for term in found)


def check_predicates(iris: Iterable[str]) -> None:
    """Raise ExportError for a predicate IRI that RDF/XML cannot name (one that does not end in an XML name)."""
    for iri in sorted(iris):
        namespace, local = _split_predicate(iri)
        if not local or not namespace:
            raise ExportError(f"<{iri}>: RDF/XML cannot name this predicate (its IRI does not end in an XML name)")


def _file_blocks(path: Path, size: int = 1 << 24) -> Iterator[bytes]:
    """The bytes of a file in blocks of whole lines."""
    with open(path, "rb") as handle:
        rest = b""
        while block := handle.read(size):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            block, rest = block[:cut], block[cut:]
            if block:
                yield block
        if rest:
            yield rest


def _xml_prefixes(prefixes: dict[str, str] | None) -> dict[str, str]:
    chosen = EXPORT_PREFIXES if prefixes is None else prefixes
    return {p: ns for p, ns in chosen.items() if _XML_PREFIX.match(p) and not p.lower().startswith("xml")}


def to_rdfxml(triples: Iterable[ox.Triple], *, prefixes: dict[str, str] | None = None) -> bytes:
    """RDF/XML of sorted triples (pyoxigraph's serialiser): declared prefixes, nothing lost (see `check_rdfxml`)."""
    import pyoxigraph as ox

    triples = list(triples)
    check_rdfxml([_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))])
    return _bytes(ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=_unnested(_xml_prefixes(prefixes))))


def write_rdfxml_file(target: Path, ntriples: Path, *, prefixes: dict[str, str] | None = None,
                      predicates: bool = True) -> tuple[int, str]:
    """RDF/XML of a sorted N-Triples file into `target`, streaming, once `check_rdfxml` passed on it (without
    `predicates`: the caller checks them, see `check_rdfxml`)."""
    import pyoxigraph as ox

    check_rdfxml(_file_blocks(ntriples), predicates=predicates)
    triples = ox.parse(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES)
    return write_serialized(target, triples, ox.RdfFormat.RDF_XML, _xml_prefixes(prefixes))


