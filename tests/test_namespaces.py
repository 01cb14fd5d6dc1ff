"""The ontology's terms are written once in Turtle; the Python namespace must declare exactly the same set."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from aflm_graph.terms.namespaces import AFLM, DEVELOPERS, OWL, RDF, RDFS, recommendation_iri, slug

ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology" / "aflm.ttl"
SKOS_DEFINITION = "http://www.w3.org/2004/02/skos/core#definition"
DECLARING_TYPES = {
    OWL.NS + t for t in ("Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "NamedIndividual")
}


def _triples() -> list[ox.Triple]:
    return list(ox.parse(path=str(ONTOLOGY)))


def test_python_and_turtle_declare_the_same_terms() -> None:
    declared = {
        t.subject.value[len(AFLM.NS):]
        for t in _triples()
        if t.predicate.value == RDF.type and t.object.value in DECLARING_TYPES and t.subject.value.startswith(AFLM.NS)
    }
    assert len(declared) > 30
    python = AFLM.terms()
    assert python - declared == set(), "in Python but not declared in ontology/aflm.ttl"
    assert declared - python == set(), "declared in ontology/aflm.ttl but missing from namespaces.AFLM"


def test_every_term_has_label_definition_and_is_defined_by() -> None:
    triples = _triples()
    by_subject: dict[str, set[str]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, set()).add(t.predicate.value)
    terms = [s for s in by_subject if s.startswith(AFLM.NS)]
    assert terms
    for term in terms:
        missing = {RDFS.label, SKOS_DEFINITION, RDFS.isDefinedBy} - by_subject[term]
        assert not missing, f"{term} lacks {missing}"


def test_ontology_header_carries_what_documentation_tools_read() -> None:
    header = {t.predicate.value for t in _triples() if t.subject.value == "https://w3id.org/aflm/ontology"}
    for needed in ("title", "description", "license", "creator", "created", "modified"):
        assert "http://purl.org/dc/terms/" + needed in header
    assert OWL.NS + "versionIRI" in header
    assert "http://purl.org/vocab/vann/preferredNamespacePrefix" in header


def test_iris_come_from_stable_keys() -> None:
    assert slug("000_C29556925cd8fb24") == "000_c29556925cd8fb24"
    assert recommendation_iri("doc", "2", "13") == "https://w3id.org/aflm/id/document/doc/recommendation/2.13"
    assert recommendation_iri("doc", None, "a") == "https://w3id.org/aflm/id/document/doc/recommendation/a"
    assert recommendation_iri("doc", "I", "3", occurrence=2).endswith("/recommendation/I.3~2")
    # characters that are not safe in an IRI are percent-encoded, never dropped
    assert recommendation_iri("doc", None, "a b>").endswith("/recommendation/a%20b%3E")


# --- what a linked-data consumer reads (issue 17): comments, domains, agents, ASEAN

TURTLE = sorted([ONTOLOGY, ONTOLOGY.parent / "reference.ttl", *(ONTOLOGY.parent / "vocab").glob("*.ttl")])
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


def test_every_term_with_a_definition_has_the_same_rdfs_comment() -> None:
    """Protégé and WebVOWL show rdfs:comment, SKOS tools skos:definition: every term carries both, equal."""
    assert len(TURTLE) >= 6
    checked = 0
    for path in TURTLE:
        definitions: dict[str, set[ox.Literal]] = {}
        comments: dict[str, set[ox.Literal]] = {}
        for t in ox.parse(path=str(path)):
            if t.predicate.value == SKOS_DEFINITION:
                definitions.setdefault(t.subject.value, set()).add(t.object)
            elif t.predicate.value == RDFS_COMMENT:
                comments.setdefault(t.subject.value, set()).add(t.object)
        for term, values in definitions.items():
            assert comments.get(term) == values, f"{path.name}: <{term}>: rdfs:comment is not its skos:definition"
            checked += 1
    assert checked > 150


def test_properties_used_on_one_class_declare_it_as_their_domain() -> None:
    """The domain is the class the build writes the property on (graph/build.py), so a reasoner infers nothing wrong."""
    domains: dict[str, set[str]] = {}
    for t in _triples():
        if t.predicate.value == "http://www.w3.org/2000/01/rdf-schema#domain":
            domains.setdefault(t.subject.value, set()).add(t.object.value)
    expected = {
        AFLM.forumTheme: AFLM.ForumEdition,
        AFLM.meetingMode: AFLM.RecommendationsDocument,
        AFLM.meetingPlace: AFLM.RecommendationsDocument,
        AFLM.sourceStart: AFLM.Recommendation,
        AFLM.sourceEnd: AFLM.Recommendation,
        # on the source (a prov:Entity) and on the document, a prov:Entity too (rdfs:subClassOf)
        AFLM.sha256: "http://www.w3.org/ns/prov#Entity",
    }
    for prop, cls in expected.items():
        assert domains.get(prop) == {cls}, prop


def test_creators_and_publishers_are_agents_with_iris() -> None:
    """Dublin Core's range for dcterms:creator and dcterms:publisher is an agent: an IRI described with a label."""
    described = {t.subject.value: t for t in _triples() if t.predicate.value == RDFS.label}
    types = {(t.subject.value, t.object.value) for t in _triples() if t.predicate.value == RDF.type}
    found = 0
    for path in [*TURTLE, ONTOLOGY.parent / "shapes.ttl"]:
        for t in ox.parse(path=str(path)):
            if t.predicate.value in ("http://purl.org/dc/terms/creator", "http://purl.org/dc/terms/publisher"):
                found += 1
                assert isinstance(t.object, ox.NamedNode), f"{path.name}: {t}"
                assert t.object.value in described, f"{path.name}: {t.object} is described nowhere in aflm.ttl"
                assert (t.object.value, "http://xmlns.com/foaf/0.1/Organization") in types
    assert found >= 7
    assert DEVELOPERS in described


def test_the_asean_concept_has_the_asean_organisation_as_its_focus() -> None:
    actors = ONTOLOGY.parent / "vocab" / "actors.ttl"
    organisation = "https://w3id.org/aflm/id/organisation/asean"
    focus = [t.object.value for t in ox.parse(path=str(actors))
             if t.subject.value == "https://w3id.org/aflm/vocab/actor/asean"
             and t.predicate.value == "http://xmlns.com/foaf/0.1/focus"]
    assert focus == [organisation]
    same = [t.object.value for t in ox.parse(path=str(ONTOLOGY.parent / "reference.ttl"))
            if t.subject.value == organisation and t.predicate.value == OWL.sameAs]
    assert same == ["http://www.wikidata.org/entity/Q7768"]


# --- issue 19: every AFML edition as reference data, each fact with its sources

SCHEMA = "https://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"


def _reference() -> dict[str, dict[str, set[str]]]:
    facts: dict[str, dict[str, set[str]]] = {}
    for path in (ONTOLOGY.parent / "reference.ttl", ONTOLOGY.parent / "vocab" / "instruments.ttl",
                 ONTOLOGY.parent / "vocab" / "actors.ttl"):
        for t in ox.parse(path=str(path)):
            facts.setdefault(t.subject.value, {}).setdefault(t.predicate.value, set()).add(t.object.value)
    return facts


def test_every_forum_edition_is_reference_data_with_its_sources() -> None:
    facts = _reference()
    forums = {s: p for s, p in facts.items() if AFLM.ForumEdition in p.get(RDF.type, set())}
    assert sorted(int(next(iter(p[AFLM.forumNumber]))) for p in forums.values()) == list(range(1, 19))
    for iri, p in forums.items():
        assert iri == f"https://w3id.org/aflm/id/forum/{next(iter(p[AFLM.forumNumber]))}"
        assert p.get(DCTERMS + "source"), f"{iri} cites no source"
        assert all(s.startswith("http") for s in p[DCTERMS + "source"])
    ten, thirteen = facts["https://w3id.org/aflm/id/forum/10"], facts["https://w3id.org/aflm/id/forum/13"]
    assert ten[AFLM.adoptedRecommendations] == {"19"}
    assert ten[AFLM.forumTheme] == {"Towards Achieving Decent Work for Domestic Workers in ASEAN"}
    assert (thirteen[SCHEMA + "startDate"], thirteen[SCHEMA + "endDate"]) == ({"2020-11-10"}, {"2020-11-12"})
    assert thirteen[AFLM.hostCountry] == {"https://w3id.org/aflm/id/member-state/viet-nam"}
    assert len(thirteen[AFLM.forumSubTheme]) == 2
    # only the 10th edition's count is stated by a source
    assert [s for s, p in forums.items() if AFLM.adoptedRecommendations in p] == ["https://w3id.org/aflm/id/forum/10"]


def test_unknown_pre_event_candidate_and_derived_facts_are_left_out() -> None:
    facts = _reference()
    forum = {n: facts[f"https://w3id.org/aflm/id/forum/{n}"] for n in range(1, 19)}
    assert set(forum[1]) & {AFLM.hostCountry, AFLM.forumTheme, SCHEMA + "startDate"} == set()
    assert AFLM.hostCity not in forum[5]  # Siem Reap: a library-catalogue line only
    assert AFLM.forumTheme not in forum[7] and AFLM.forumTheme not in forum[9]  # candidate concept-paper titles
    assert SCHEMA + "startDate" not in forum[9]  # derived from "opened ... yesterday"
    assert set(forum[16]) & {AFLM.year, SCHEMA + "startDate", AFLM.hostCity} == set()  # pre-event only
    assert forum[16][AFLM.hostCountry] == {"https://w3id.org/aflm/id/member-state/indonesia"}
    assert set(forum[17]) & {AFLM.hostCountry, AFLM.forumTheme, AFLM.forumSubTheme, AFLM.year} == set()
    assert SCHEMA + "eventAttendanceMode" not in forum[12]  # "not stated (held in Bangkok)"


def test_progress_review_papers_and_the_founding_instruments() -> None:
    facts = _reference()
    papers = {s: p for s, p in facts.items() if AFLM.ProgressReviewPaper in p.get(RDF.type, set())}
    assert len(papers) == 5
    fourth = facts["https://w3id.org/aflm/id/progress-review/4"]
    assert fourth[AFLM.reviewsForum] == {f"https://w3id.org/aflm/id/forum/{n}" for n in range(3, 11)}
    assert fourth[AFLM.presentedAt] == {"https://w3id.org/aflm/id/forum/11"}
    assert AFLM.reviewsForum not in facts["https://w3id.org/aflm/id/progress-review/1"]  # not stated
    assert all(p.get(DCTERMS + "source") for p in papers.values())
    instrument = "https://w3id.org/aflm/vocab/instrument/"
    assert facts[instrument + "asean-declaration-migrant-workers"][DCTERMS + "date"] == {"2007-01-13"}
    assert facts[instrument + "asean-consensus"][DCTERMS + "date"] == {"2017-11-14"}
    acmw = "https://w3id.org/aflm/id/organisation/acmw"
    assert facts[acmw][SCHEMA + "foundingDate"] == {"2007-07-30"} and facts[acmw][DCTERMS + "source"]
    assert facts["https://w3id.org/aflm/vocab/actor/acmw"]["http://xmlns.com/foaf/0.1/focus"] == {acmw}
