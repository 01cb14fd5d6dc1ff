"""A build's statements as sorted N-Triples text: the form that stays cheap at millions of quads.

A pyoxigraph `Quad` object costs a few hundred bytes and a microsecond or two to make, to sort
(by the string of each term) and to serialise; at 20 million quads that is gigabytes and minutes.
Every output of a build is a function of one thing, the sorted and deduplicated quads, and the
N-Triples syntax of a term (`<iri>`, `"text"@en`, `"3"^^<...#integer>`, `_:b0`) is exactly the
key they are sorted by. So the pipeline keeps, per named graph, a sorted list of statements
`"<s> <p> <o>"` (one Python string each) and derives everything from it: N-Quads and N-Triples by
joining strings, the store by bulk-loading the N-Quads file, Turtle, TriG and RDF/XML by streaming
the dump files through pyoxigraph's serialisers, JSON-LD and the dataset statistics by reading the
strings.

Order: sorting the strings `"<s> <p> <o>"` of one graph gives the same order as sorting the
tuples `(str(s), str(p), str(o))`: a subject or predicate term is never a proper prefix of another
followed by a character below the separating space (IRIs end in `>`, blank-node labels use no
character below `-`, and N-Triples escapes every control character), and the object comes last.
Graphs come in the order of their IRIs. This is the order `build.sort_quads` and
`export.canonical_quads` give, so the bytes of every export are what they were with quad objects.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from ..terms.namespaces import RDF, XSD

if TYPE_CHECKING:
    import pyoxigraph as ox

XSD_STRING = XSD.string
CHUNK = 50_000  # statements per write: bounded memory, few system calls

# Characters N-Triples writes as an escape (pyoxigraph's print_quoted_str); a literal holding one goes
# through pyoxigraph itself, so the escaping is always exactly pyoxigraph's.
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\x7f\ufffe\uffff]')
_SIMPLE_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def iri_term(iri: str) -> str:
    """`<iri>`: the N-Triples form of an IRI (pyoxigraph writes IRIs as they are)."""
    return f"<{iri}>"


RDF_TYPE_TERM = iri_term(RDF.type)  # rdf:type as the statements spell it


def literal_term(value: str, datatype: str | None = None, language: str | None = None) -> str:
    """The N-Triples form of a literal, byte for byte what `str(pyoxigraph.Literal(...))` gives."""
    if _NEEDS_ESCAPE.search(value) is None:
        if language is not None:
            if _SIMPLE_LANGUAGE.fullmatch(language):
                return f'"{value}"@{language}'
        elif datatype is None or datatype == XSD_STRING:
            return f'"{value}"'
        else:
            return f'"{value}"^^<{datatype}>'
    import pyoxigraph as ox

    if language is not None:
        return str(ox.Literal(value, language=language))
    if datatype is None:
        return str(ox.Literal(value))
    return str(ox.Literal(value, datatype=ox.NamedNode(datatype)))


def sort_unique(items: list[str]) -> list[str]:
    """Sort in place and drop repeats (a sorted list keeps equal strings next to each other)."""
    items.sort()
    if len(items) < 2:
        return items
    out = [items[0]]
    out.extend(b for a, b in zip(items, islice(items, 1, None), strict=False) if a != b)
    return out


def graph_term(graph: str) -> str:
    return f"<{graph}>" if graph else ""


def split_statement(statement: str) -> tuple[str, str, str]:
    """(subject, predicate, object) N-Triples terms of `"<s> <p> <o>"` (no term but the object holds a space)."""
    s, p, o = statement.split(" ", 2)
    return s, p, o


@dataclass
class Statements:
    """Per named graph (plain IRI; "" for the default graph), sorted and deduplicated `"<s> <p> <o>"` strings."""

    graphs: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(v) for v in self.graphs.values())

    def ordered(self) -> list[tuple[str, list[str]]]:
        """(graph, statements) in the order of the graph terms (what the N-Quads dump follows)."""
        return sorted(self.graphs.items(), key=lambda kv: graph_term(kv[0]))

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> Statements:
        import pyoxigraph as ox

        graphs: dict[str, list[str]] = {}
        for q in quads:
            g = "" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
            graphs.setdefault(g, []).append(f"{q.subject} {q.predicate} {q.object}")
        return cls({g: sort_unique(v) for g, v in graphs.items()})

    # --- N-Quads and N-Triples text

    def nquads_chunks(self, size: int = CHUNK) -> Iterator[str]:
        for graph, items in self.ordered():
            tail = f" {graph_term(graph)} .\n" if graph else " .\n"
            for start in range(0, len(items), size):
                yield tail.join(items[start : start + size]) + tail

    def nquads(self) -> bytes:
        return "".join(self.nquads_chunks()).encode("utf-8")

    def merged(self) -> list[str]:
        """The union of the graphs as sorted, deduplicated statements (what the triple formats hold)."""
        ordered = sorted(self.graphs.values(), key=len, reverse=True)
        if len(ordered) == 1:
            return list(ordered[0])
        merged: list[str] = []
        for items in ordered:  # sorted runs: timsort merges them without comparing everything
            merged.extend(items)
        return sort_unique(merged)

    def quads(self) -> list[ox.Quad]:
        """pyoxigraph quads, in order (for callers that want objects; the pipeline never does at scale)."""
        import pyoxigraph as ox

        return list(ox.parse(input=self.nquads(), format=ox.RdfFormat.N_QUADS))

    def graph(self, name: str) -> list[str]:
        return self.graphs.get(name, [])


def ntriples_chunks(statements: Sequence[str], size: int = CHUNK) -> Iterator[str]:
    for start in range(0, len(statements), size):
        yield " .\n".join(statements[start : start + size]) + " .\n"


def selected_ntriples_chunks(statements: Statements, *, skip_predicates: frozenset[str] = frozenset(),
                             skip_types: frozenset[str] = frozenset(), only_predicates: frozenset[str] | None = None,
                             size: int = CHUNK) -> Iterator[str]:
    """N-Triples of every graph's statements but those whose predicate is in `skip_predicates` or that type
    a subject with a class in `skip_types`, or (`only_predicates`) just those with one of these predicates
    (IRIs, as plain strings): a store that holds only what its reader needs loads in a fraction of the
    time of the whole dump."""
    skipped = {iri_term(iri) for iri in skip_predicates}
    only = None if only_predicates is None else {iri_term(iri) for iri in only_predicates}
    types = {iri_term(iri) for iri in skip_types}
    for _graph, items in statements.ordered():
        for start in range(0, len(items), size):
            kept = []
            for statement in items[start : start + size]:
                _s, p, o = statement.split(" ", 2)
                if (p in only) if only is not None else (p not in skipped and not (p == RDF_TYPE_TERM and o in types)):
                    kept.append(statement)
            if kept:
                yield " .\n".join(kept) + " .\n"


def triples_to_statements(triples: Iterable[ox.Triple]) -> list[str]:
    return [f"{t.subject} {t.predicate} {t.object}" for t in triples]


# --- reading terms back (for the writers that are not N-Triples)

_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape_one(match: re.Match[str]) -> str:
    if match.group(3) is not None:
        return _SIMPLE_ESCAPES[match.group(3)]
    return chr(int(match.group(1) or match.group(2), 16))


def unescape(text: str) -> str:
    """The value of the inside of an N-Triples string literal."""
    return _ESCAPE.sub(_unescape_one, text) if "\\" in text else text


def parse_literal(term: str) -> tuple[str, str | None, str | None]:
    """(value, datatype IRI or None for xsd:string, language or None) of an N-Triples literal term."""
    end = term.rindex('"')
    value = unescape(term[1:end])
    rest = term[end + 1 :]
    if not rest:
        return value, None, None
    if rest[0] == "@":
        return value, None, rest[1:]
    datatype = rest[3:-1]  # ^^<...>
    return value, (None if datatype == XSD_STRING else datatype), None


def term_value(term: str) -> str:
    """STR() of an N-Triples term: the IRI, the blank node label or the literal's lexical form."""
    if term[0] == "<":
        return term[1:-1]
    if term[0] == "_":
        return term[2:]
    return parse_literal(term)[0]


# --- files


class HashingWriter:
    """Write chunks to a file while counting bytes and computing the SHA-256 (one pass over big outputs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._hash = hashlib.sha256()
        self._file = open(path, "wb")  # noqa: SIM115 -- closed in close()

    def write(self, chunk: str | bytes) -> None:
        data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def close(self) -> tuple[int, str]:
        import os

        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self.size, self._hash.hexdigest()


def write_chunks(path: Path, chunks: Iterable[str | bytes]) -> tuple[int, str]:
    """Write `chunks` to `path` (a staging folder's file); return (bytes, sha256)."""
    writer = HashingWriter(path)
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer._file.close()
        raise
    return writer.close()


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


Put = Callable[[str, bytes], None]
