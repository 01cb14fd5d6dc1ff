"""Exports: every format loads in pyoxigraph and rdflib as the graph that was built, with the same bytes every time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from aflm_graph.cli import cli
from aflm_graph.graph.export import (
    EXPORT_PREFIXES,
    FORMATS,
    ExportError,
    _Output,
    canonical_quads,
    check_rdfxml,
    load_build_quads,
    merged_triples,
    not_xml_characters,
    serialize,
    sort_prefix_lines,
    to_rdfxml,
    turtle,
    write_rdfxml_file,
    write_serialized,
)
from aflm_graph.graph.statements import Statements
from aflm_graph.publish.bundle import write_bundle
from aflm_graph.terms.namespaces import GRAPH_DATA, RDF, XSD

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

OX_FORMAT = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}
RDFLIB_FORMAT = {
    "turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "nquads": "nquads", "trig": "trig",
}
TRIPLE_FORMATS = [name for name, spec in FORMATS.items() if not spec.dataset]


def assert_isomorphic(expected: rdflib.Graph, actual: rdflib.Graph, what: str) -> None:
    if isomorphic(expected, actual):
        return
    _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
    lost = "\n".join(sorted(only_expected.serialize(format="nt").splitlines())[:10])
    added = "\n".join(sorted(only_actual.serialize(format="nt").splitlines())[:10])
    pytest.fail(f"{what} is not isomorphic to the built graph\n"
                f"only in the build:\n{lost}\nonly in the export:\n{added}")


def rdflib_graph(triples: list[ox.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")


@pytest.fixture(scope="module")
def seed_quads(seed_build: Path) -> list[ox.Quad]:
    return load_build_quads(seed_build)


# --- the seed build


def test_the_build_writes_every_format(seed_build: Path) -> None:
    assert len(FORMATS) == 6
    for spec in FORMATS.values():
        assert (seed_build / spec.file).stat().st_size > 10_000, spec.file
    manifest = json.loads((seed_build / "manifest.json").read_text(encoding="utf-8"))
    for spec in FORMATS.values():
        data = (seed_build / spec.file).read_bytes()
        assert manifest["files"][spec.file]["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_export_reparses_as_the_built_graph(seed_build: Path, seed_quads: list[ox.Quad], fmt: str) -> None:
    """pyoxigraph gives back exactly the same terms; rdflib an isomorphic graph (per named graph for quad formats)."""
    spec = FORMATS[fmt]
    data = (seed_build / spec.file).read_bytes()
    back = list(ox.parse(data, format=OX_FORMAT[fmt]))
    if spec.dataset:
        assert sorted(map(str, back)) == sorted(map(str, seed_quads))
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=RDFLIB_FORMAT[fmt])
        names = sorted({q.graph_name.value for q in seed_quads})
        assert len(names) == 4
        assert sorted(str(g.identifier) for g in dataset.graphs() if len(g)) == names
        for name in names:
            expected = rdflib_graph([ox.Triple(q.subject, q.predicate, q.object) for q in seed_quads
                                     if q.graph_name.value == name])
            assert_isomorphic(expected, dataset.graph(rdflib.URIRef(name)), f"{spec.file} graph <{name}>")
    else:
        triples = merged_triples(seed_quads)
        assert sorted(str(ox.Triple(q.subject, q.predicate, q.object)) for q in back) == sorted(map(str, triples))
        graph = rdflib.Graph().parse(data=data, format=RDFLIB_FORMAT[fmt])
        assert_isomorphic(rdflib_graph(triples), graph, spec.file)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_command_gives_the_build_files_bytes(seed_build: Path, seed_quads: list[ox.Quad], fmt: str) -> None:
    assert serialize(seed_quads, fmt) == (seed_build / FORMATS[fmt].file).read_bytes()


def test_two_builds_give_byte_identical_exports(tmp_path: Path) -> None:
    from aflm_graph.publish.pipeline import build

    first, second = tmp_path / "first", tmp_path / "second"
    build([SEEDS], first)
    build([SEEDS], second)
    names = [spec.file for spec in FORMATS.values()] + ["void.ttl", "dataset.jsonld"]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs between two builds"


def test_prefixes_are_declared_in_order(seed_build: Path) -> None:
    for name in ("aflm.ttl", "aflm.trig", "void.ttl"):
        lines = (seed_build / name).read_text(encoding="utf-8").splitlines()
        prefixes = [line for line in lines if line.startswith("@prefix ")]
        assert len(prefixes) > 10 and prefixes == sorted(prefixes), name
        assert "@prefix aflm: <https://w3id.org/aflm/ontology#> ." in prefixes
    document = json.loads((seed_build / "aflm.jsonld").read_text(encoding="utf-8"))
    assert isinstance(document["@context"], dict), "the JSON-LD context must be inline, never a remote document"
    assert document["@context"]["aflm"] == "https://w3id.org/aflm/ontology#"
    rdfxml = (seed_build / "aflm.rdf").read_text(encoding="utf-8")
    assert 'xmlns:aflm="https://w3id.org/aflm/ontology#"' in rdfxml


# --- literals that break naive writers (a property test over every format)

AWKWARD = st.sampled_from([
    '"', "'", "\\", "\\u0041", "\r", "\n", "\t", "\r\n", "\u200f", "\u202e", "שלום", "مرحبا", "😀", "\U0001d11e",
    "]]>", "<&>", "\u2028", "\x7f", "\x85", "@", "#", "\x00", "\x01", "\x1b",
])
CHARACTERS = st.characters(
    blacklist_categories=("Cs",),  # lone surrogates are not Unicode scalar values: no RDF literal holds one
    blacklist_characters="\ufffe\uffff",
)
SAFE_TEXT = st.lists(st.one_of(CHARACTERS, AWKWARD), max_size=12).map("".join)


def rdfxml_refuses(text: str) -> bool:
    """RDF/XML cannot carry it: a character outside XML 1.0, or a CR (pyoxigraph writes it raw; readers make it LF)."""
    return bool(not_xml_characters(text)) or "\r" in text


XML_SAFE_TEXT = SAFE_TEXT.filter(lambda s: not rdfxml_refuses(s))
LANGUAGES = st.sampled_from(["en", "ar", "he", "km", "th", "vi", "en-gb"])
DATATYPES = st.sampled_from([XSD.string, "http://example.org/custom#type", "https://w3id.org/aflm/ontology#code"])
SUBJECTS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzαβγ0123456789-_.~", min_size=1, max_size=12)


def _literal(value: str, kind: int, language: str, datatype: str) -> ox.Literal:
    if kind == 0:
        return ox.Literal(value)
    if kind == 1:
        return ox.Literal(value, language=language)
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


def _quads(values: list[tuple[str, str, int, str, str]]) -> list[ox.Quad]:
    graph = ox.NamedNode(GRAPH_DATA)
    predicate = ox.NamedNode("https://w3id.org/aflm/ontology#text")
    return canonical_quads(
        ox.Quad(ox.NamedNode(f"https://w3id.org/aflm/id/document/{subject}"), predicate,
                _literal(value, kind, language, datatype), graph)
        for subject, value, kind, language, datatype in values
    )


def _check_round_trip(quads: list[ox.Quad], formats: list[str]) -> None:
    triples = merged_triples(quads)
    reference = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    for fmt in formats:
        data = serialize(quads, fmt)
        back = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in ox.parse(data, format=OX_FORMAT[fmt])}
        assert back == set(map(str, triples)), f"pyoxigraph: {fmt}"
        expected = rdflib.Graph().parse(data=reference, format="nt")
        if FORMATS[fmt].dataset:
            dataset = rdflib.Dataset()
            dataset.parse(data=data, format=RDFLIB_FORMAT[fmt])
            actual = dataset.graph(rdflib.URIRef(GRAPH_DATA))
        else:
            actual = rdflib.Graph().parse(data=data, format=RDFLIB_FORMAT[fmt])
        assert_isomorphic(expected, actual, f"rdflib: {fmt}")


ROWS = st.tuples(SUBJECTS, SAFE_TEXT, st.integers(0, 2), LANGUAGES, DATATYPES)
XML_ROWS = st.tuples(SUBJECTS, XML_SAFE_TEXT, st.integers(0, 2), LANGUAGES, DATATYPES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(XML_ROWS, min_size=1, max_size=6))
def test_awkward_literals_survive_every_format(values: list[tuple[str, str, int, str, str]]) -> None:
    """Quotes, backslashes, CR/LF/tab, non-BMP characters, right-to-left text and bidi controls, in every format."""
    _check_round_trip(_quads(values), sorted(FORMATS))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROWS, min_size=1, max_size=6))
def test_control_characters_survive_every_format_but_rdfxml_which_refuses_them(
    values: list[tuple[str, str, int, str, str]],
) -> None:
    quads = _quads(values)
    _check_round_trip(quads, [f for f in FORMATS if f != "rdfxml"])
    if any(rdfxml_refuses(q.object.value) for q in quads):
        with pytest.raises(ExportError, match=r"which XML 1\.0 \(hence RDF/XML\) cannot carry|carriage return"):
            serialize(quads, "rdfxml")
    else:
        _check_round_trip(quads, ["rdfxml"])


def test_rdfxml_refuses_a_predicate_it_cannot_name() -> None:
    triple = ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p/123"), ox.Literal("x"))
    with pytest.raises(ExportError, match="cannot name this predicate"):
        to_rdfxml([triple])


def test_blank_nodes_get_the_same_labels_on_every_parse() -> None:
    """Parsers invent fresh blank-node labels; canonical labels make two parses give the same bytes."""
    turtle = b"""@prefix ex: <http://example.org/> .
        ex:a ex:p [ ex:q ( 1 2 [ ex:r "x" ] ) ] .
        ex:b ex:p [ ex:q 3 ] ."""
    outputs = set()
    for _ in range(3):
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(GRAPH_DATA))
                 for t in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]
        canonical = canonical_quads(quads)
        outputs.add(b"".join(serialize(canonical, fmt) for fmt in sorted(FORMATS)))
        assert all(q.subject.value.startswith("c14n") for q in canonical if isinstance(q.subject, ox.BlankNode))
    assert len(outputs) == 1
    _check_round_trip(canonical, sorted(FORMATS))


def test_prefix_lines_are_sorted_and_the_body_kept() -> None:
    data = b"@prefix z: <http://z/> .\n@prefix a: <http://a/> .\na:x z:y a:z .\n"
    assert sort_prefix_lines(data) == b"@prefix a: <http://a/> .\n@prefix z: <http://z/> .\na:x z:y a:z .\n"


# --- the release bundle and the command line


def test_bundle_holds_everything_a_release_needs(seed_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "release"
    sizes = write_bundle(seed_build, out, docs=False)
    for spec in FORMATS.values():
        assert (out / spec.file).read_bytes() == (seed_build / spec.file).read_bytes()
    for name in ("void.ttl", "dataset.jsonld", "README.md", "SHA256SUMS", "ontology/aflm.ttl",
                 "ontology/shapes.ttl", "ontology/alignments.ttl", "ontology/reference.ttl", "ontology/README.md"):
        assert (out / name).is_file(), name
    vocabularies = sorted((out / "ontology" / "vocab").glob("*.ttl"))
    assert len(vocabularies) >= 4
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "https://creativecommons.org/licenses/by/4.0/" in readme
    assert "## Citation" in readme and "version 0.1.0" in readme
    lines = (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    assert len(lines) == len(files) > 10
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    assert sizes["aflm.nt"] == (out / "aflm.nt").stat().st_size
    assert (out / "aflm.ttl").stat().st_mode & 0o044 == 0o044, "published files must be world-readable"


def test_export_command(seed_build: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--build", str(seed_build), "--format", "ntriples"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (seed_build / "aflm.nt").read_bytes()
    target = tmp_path / "graph.rdf"
    result = runner.invoke(cli, ["export", "--build", str(seed_build), "--format", "rdfxml", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == (seed_build / "aflm.rdf").read_bytes()
    result = runner.invoke(cli, ["export", "--build", str(seed_build)])
    assert result.exit_code != 0 and "--format FMT or --bundle DIR" in result.output
    result = runner.invoke(cli, ["export", "--build", str(tmp_path / "nothing"), "--format", "turtle"])
    assert result.exit_code == 1 and "no build here" in result.output


LOCAL_CHARACTERS = "aZ09_-.~!$&'()*+,;=/?@:\u00e9\u00b7\u0301\u203f\u4e2d\U0001f600"
LOCAL_NAMES = st.text(alphabet=st.sampled_from(list(LOCAL_CHARACTERS)), max_size=6)
OBJECTS = st.one_of(
    st.tuples(st.just("literal"), SAFE_TEXT, st.integers(0, 2), LANGUAGES, DATATYPES),
    st.tuples(st.just("number"), st.sampled_from(["1", "-0", "+7", "1.5", ".5", "5.", "1e3", "1.E-2", "x", "true",
                                                    "false", "TRUE", ""]),
              st.sampled_from([str(XSD.integer), str(XSD.decimal), str(XSD.double), str(XSD.boolean)])),
    st.tuples(st.just("iri"), LOCAL_NAMES),
    st.tuples(st.just("blank"), st.integers(0, 3)),
    st.tuples(st.just("rdf:type")),  # `a` as a predicate only
)
PREFIXED = {"ex": "http://example.org/", "aflm": "https://w3id.org/aflm/ontology#",  # none inside another
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "xsd": XSD.NS}


def _object(spec: tuple) -> ox.NamedNode | ox.BlankNode | ox.Literal:  # type: ignore[type-arg]
    kind = spec[0]
    if kind == "literal":
        return _literal(*spec[1:])
    if kind == "number":
        return ox.Literal(spec[1], datatype=ox.NamedNode(spec[2]))
    if kind == "iri":
        return ox.NamedNode(f"http://example.org/{spec[1]}")
    if kind == "rdf:type":
        return ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    return ox.BlankNode(f"b{spec[1]}")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(LOCAL_NAMES, st.sampled_from(["ex:p", "ex:q", "rdf:type", "aflm:text", "exd:x/y"]),
                          OBJECTS, st.sampled_from(["", GRAPH_DATA, "http://example.org/g"])),
                min_size=1, max_size=12), st.integers(1, 40))
def test_streamed_turtle_and_trig_are_pyoxigraphs_bytes_with_sorted_prefixes(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple], piece: int,  # type: ignore[type-arg]
) -> None:
    """A file written in pieces (the prefix lines cut anywhere) holds what `serialize` gives in one go."""
    names = {"ex": "http://example.org/", "exd": "http://example.org/deep/", "aflm": "https://w3id.org/aflm/ontology#",
             "rdf": RDF.NS}
    quads = []
    for local, predicate, obj, graph in rows:
        prefix, name = predicate.split(":")
        quads.append(ox.Quad(ox.NamedNode(f"http://example.org/{local}"), ox.NamedNode(names[prefix] + name),
                             _object(obj), ox.NamedNode(graph) if graph else ox.DefaultGraph()))
    quads = Statements.from_quads(quads).quads()  # sorted: the default graph first, then the named graphs by IRI
    folder = tmp_path_factory.mktemp("streamed")
    for fmt, items in ((ox.RdfFormat.TRIG, quads), (ox.RdfFormat.TURTLE, merged_triples(quads))):
        expected = sort_prefix_lines(ox.serialize(items, format=fmt, prefixes=PREFIXED))
        assert expected.startswith(b"@prefix ") and expected.count(b"@prefix ") == len(PREFIXED)
        size, _ = write_serialized(folder / "whole", items, fmt, PREFIXED)
        assert (folder / "whole").read_bytes() == expected and size == len(expected)
        out = _Output(folder / "pieces", sort_prefixes=True)
        data = ox.serialize(items, format=fmt, prefixes=PREFIXED)
        for start in range(0, len(data), piece):
            out.write(data[start : start + piece])
        out.close()
        assert (folder / "pieces").read_bytes() == expected


def test_nested_prefixes_are_refused() -> None:
    """With one namespace inside another, pyoxigraph's choice of prefix could change between runs."""
    triple = ox.Triple(ox.NamedNode("http://example.org/deep/x"), ox.NamedNode("http://example.org/p"),
                       ox.NamedNode("http://example.org/"))
    with pytest.raises(ValueError, match="inside"):
        turtle([triple], {"ex": "http://example.org/", "exd": "http://example.org/deep/"})
    assert turtle([triple], {"ex": "http://example.org/"}).endswith(b"ex:deep\\/x ex:p ex: .\n")


def test_the_build_writes_pyoxigraphs_turtle_trig_and_rdfxml(seed_build: Path, seed_quads: list[ox.Quad]) -> None:
    """The build's streamed Turtle, TriG and RDF/XML are pyoxigraph's serialisation of the same sorted graph."""
    triples = merged_triples(seed_quads)
    expected_ttl = sort_prefix_lines(ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=EXPORT_PREFIXES))
    expected_trig = sort_prefix_lines(ox.serialize(seed_quads, format=ox.RdfFormat.TRIG, prefixes=EXPORT_PREFIXES))
    expected_rdf = ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=EXPORT_PREFIXES)
    assert (seed_build / "aflm.ttl").read_bytes() == expected_ttl
    assert (seed_build / "aflm.trig").read_bytes() == expected_trig
    assert (seed_build / "aflm.rdf").read_bytes() == expected_rdf


def test_turtle_trig_and_rdfxml_read_by_rdflib_are_the_nquads_read_by_rdflib(seed_build: Path) -> None:
    """rdflib alone (no pyoxigraph on the reading side): each graph of the dump, and their union, come back."""
    nquads = rdflib.Dataset()
    nquads.parse(seed_build / "aflm.nq", format="nquads")
    graphs = {str(g.identifier): g for g in nquads.graphs() if len(g)}
    assert len(graphs) == 4
    union = rdflib.Graph()
    for g in graphs.values():
        union += g
    for name in ("aflm.ttl", "aflm.rdf"):
        fmt = "turtle" if name.endswith(".ttl") else "xml"
        assert_isomorphic(union, rdflib.Graph().parse(seed_build / name, format=fmt), name)
    trig = rdflib.Dataset()
    trig.parse(seed_build / "aflm.trig", format="trig")
    assert sorted(str(g.identifier) for g in trig.graphs() if len(g)) == sorted(graphs)
    for iri, graph in graphs.items():
        assert_isomorphic(graph, trig.graph(rdflib.URIRef(iri)), f"aflm.trig graph <{iri}>")


@pytest.mark.parametrize(("statement", "refused"), [
    ('<http://e/s> <http://e/p> "a\\u0001b"', r"U\+0001, which XML 1\.0"),
    ('<http://e/s> <http://e/p> "a\\bb"', r"U\+0008, which XML 1\.0"),
    ('<http://e/s> <http://e/p> "a\\uFFFEb"', r"U\+FFFE, which XML 1\.0"),
    ('<http://e/s> <http://e/p> "a\\rb"', "carriage return"),
    ('<http://e/s> <http://e/p/1> "x"', "cannot name this predicate"),
    ('<http://e/s> <http://e/p> "x"@ar--rtl', "base direction"),
    ('<http://e/s> <http://e/p> <<( <http://e/s> <http://e/p> <http://e/o> )>>', "quoted triples"),
    ('<http://e/s> <http://e/p> "C:\\\\reports\\\\bin \\"q\\" \\t\\n x@y--z"', None),  # escapes XML can hold
    ('_:b0 <http://e/p> "x"@en', None),
])
def test_the_rdfxml_check_reads_ntriples_bytes(tmp_path: Path, statement: str, refused: str | None) -> None:
    """What the build writes RDF/XML from: an N-Triples file, checked line by line as bytes before pyoxigraph runs."""
    lines = ["<http://e/a> <http://e/p> \"first\"", statement, "<http://e/z> <http://e/p> \"last\""]
    nt = tmp_path / "in.nt"
    nt.write_bytes("".join(f"{line} .\n" for line in lines).encode())
    target = tmp_path / "out.rdf"
    if refused is None:
        check_rdfxml([nt.read_bytes()])
        write_rdfxml_file(target, nt)
        back = {str(t) for t in ox.parse(path=str(target))}
        assert back == {str(t) for t in ox.parse(path=str(nt))}
        return
    for blocks in ([nt.read_bytes()], [f"{line}\n".encode() for line in lines]):  # a hit in any line of a block
        with pytest.raises(ExportError, match=refused):
            check_rdfxml(blocks)
    with pytest.raises(ExportError, match=refused):
        write_rdfxml_file(target, nt)
    assert not target.exists(), "nothing written"
