"""The competency queries: known answers on a small fixture graph, and every query on the seed build.

The fixture (tests/data/queries/fixture.trig) is three invented documents whose answers were
worked out by hand: which member states call for a theme, what a document repeats, which
themes co-occur... Each case runs twice, with the embedded engine's substitution and with the
VALUES block that remote endpoints get, and both must give the known rows in the known order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest

from aflm_graph.publish.catalogue_docs import markdown
from aflm_graph.sparql.catalogue import bind_values, bindings_for, named_queries
from aflm_graph.sparql.engine import Result, run_embedded
from aflm_graph.sparql.run import run
from conftest import DATA, ROOT

QUERIES = ROOT / "queries"
FIXTURES = DATA / "queries"
ID = "https://w3id.org/aflm/id/"
VOCAB = "https://w3id.org/aflm/vocab/"
FORUM_13_THEME = "Supporting Migrant Workers during the Pandemic for a Cohesive and Responsive ASEAN Community"

TEXTS = {  # (document, subtheme, label) -> (source file, text)
    ("a", "1", "1"): "Ensure that migrant workers have access to health care and social protection, with support "
                     "from the ILO.",
    ("a", "1", "2"): "Governments and employers should protect domestic workers in line with ILO C189.",
    ("a", "2", "1"): "Provide reskilling programmes for returnees.",
    ("a", "2", "2"): "Provide reskilling programmes for returnees.",
    ("a", "2", "3"): "Strengthen cooperation among all parties.",
    ("b", None, "1"): "Governments and employers should ensure access to health care for women migrant workers, in "
                      "line with ILO C189 and SDG 8.",
    ("b", None, "2"): "Provide reskilling and job-matching for returnees.",
    ("b", None, "3"): "Trade unions should assist stranded migrant workers.",
    ("c", None, "1"): "Extend social protection to the families of migrant workers, with the ILO and employers.",
}


def rec_iri(doc: str, subtheme: str | None, label: str) -> str:
    key = label if subtheme is None else f"{subtheme}.{label}"
    return f"{ID}document/fixture-{doc}/recommendation/{key}"


def rec(doc: str, subtheme: str | None, label: str) -> tuple[str | None, ...]:
    """A row of the recommendation-list queries: recommendation, source_file, subtheme, label, text."""
    return (rec_iri(doc, subtheme, label), f"{doc}.txt", subtheme, label, TEXTS[(doc, subtheme, label)])


def v(kind: str, slug: str) -> str:
    return f"{VOCAB}{kind}/{slug}"


A11, A12, A21, A22, A23 = (rec("a", *k) for k in (("1", "1"), ("1", "2"), ("2", "1"), ("2", "2"), ("2", "3")))
B1, B2, B3 = (rec("b", None, n) for n in "123")
C1 = rec("c", None, "1")
C189 = "ILO Domestic Workers Convention, 2011 (No. 189)"


@dataclass(frozen=True)
class Case:
    query: str
    params: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[str | None, ...]] | None = None  # exact rows, in order (SELECT)
    count: int | None = None  # only the number of rows (large answers)
    boolean: bool | None = None  # ASK
    graph: str | None = None  # expected N-Triples file under tests/data/queries (CONSTRUCT)

    @property
    def id(self) -> str:
        return self.query + "".join(f"[{k}={v}]" for k, v in self.params.items())


CASES = [
    Case("actors-by-frequency", rows=[
        (v("actor", "employer"), "Employers", None, "3", "3"),
        (v("actor", "government"), "Government", None, "2", "2"),
        (v("actor", "ilo"), "International Labour Organization", v("actor", "international-organisation"), "2", "2"),
        (v("actor", "trade-union"), "Trade unions", None, "1", "1"),
    ]),
    Case("annotations", count=30),
    Case("annotations", {"kind": "instrument"}, rows=[
        ("a.txt", "1", "2", "instrument", v("instrument", "ilo-c189"), "ILO C189"),
        ("b.txt", None, "1", "instrument", v("instrument", "ilo-c189"), "ILO C189"),
        ("b.txt", None, "1", "instrument", v("instrument", "sdg-8"), "SDG 8"),
    ]),
    Case("annotations", {"document": "fixture-c"}, rows=[
        ("c.txt", None, "1", "theme", v("theme", "social-protection"), "social protection"),
        ("c.txt", None, "1", "group", v("group", "families"), "families of migrant workers"),
        ("c.txt", None, "1", "actor", v("actor", "ilo"), "ILO"),
        ("c.txt", None, "1", "actor", v("actor", "employer"), "employers"),
    ]),
    Case("concept-usage", {"kind": "actor"}, rows=[
        ("actor", v("actor", "employer"), "Employers", "3", "3"),
        ("actor", v("actor", "government"), "Government", "2", "2"),
        ("actor", v("actor", "ilo"), "International Labour Organization", "2", "2"),
        ("actor", v("actor", "trade-union"), "Trade unions", "1", "1"),
        ("actor", v("actor", "international-organisation"), "International organisations", "0", "0"),
    ]),
    Case("concept-usage", count=19),
    Case("document-repeats", {"document": "fixture-a"}, rows=[
        ("a.txt", "2", "1", "2", "2", "Provide reskilling programmes for returnees."),
    ]),
    Case("document-repeats", {"document": "fixture-b"}, rows=[]),
    Case("documents", {"member_state": "Cambodia"}, rows=[
        (f"{ID}document/fixture-a", "a.txt", "Fixture recommendations of Cambodia", f"{ID}member-state/cambodia",
         "Cambodia", f"{ID}forum/13", "2020-09-14", "Phnom Penh", "hybrid"),
    ]),
    Case("documents", {"member_state": "Thailand"}, rows=[]),
    Case("documents", rows=[
        (f"{ID}document/fixture-a", "a.txt", "Fixture recommendations of Cambodia", f"{ID}member-state/cambodia",
         "Cambodia", f"{ID}forum/13", "2020-09-14", "Phnom Penh", "hybrid"),
        (f"{ID}document/fixture-b", "b.txt", "Fixture recommendations of an online meeting", None, None,
         f"{ID}forum/13", "2020-11-09", None, "online"),
        (f"{ID}document/fixture-c", "c.txt", "Fixture recommendations of Viet Nam", f"{ID}member-state/viet-nam",
         "Viet Nam", f"{ID}forum/12", "2019-10-30", "Bangkok", "in person"),
    ]),
    Case("duplicates", {"relation": "duplicate"}, rows=[
        ("a.txt", "2", "1", "a.txt", "2", "2", "duplicate", "1"),
    ]),
    Case("duplicates", rows=[
        ("a.txt", "2", "1", "a.txt", "2", "2", "duplicate", "1"),
        ("a.txt", "2", "1", "b.txt", None, "2", "similar", "0.82"),
        ("a.txt", "2", "2", "b.txt", None, "2", "similar", "0.82"),
        ("a.txt", "1", "2", "b.txt", None, "1", "similar", "0.74"),
        ("a.txt", "1", "1", "c.txt", None, "1", "similar", "0.61"),
    ]),
    Case("duplicates", {"min_score": "0.8"}, count=3),
    Case("forum-editions", rows=[
        (f"{ID}forum/10", "10", "2017", "Thailand", None, "0", "0", None, None, f"{ID}member-state/thailand", None,
         None, None, "19"),
        (f"{ID}forum/12", "12", None, None, "Fixture theme of the 12th forum", "1", "1", *[None] * 7),
        (f"{ID}forum/13", "13", "2020", "Viet Nam", FORUM_13_THEME, "2", "8", "2020-11-10", "2020-11-12",
         f"{ID}member-state/viet-nam", "http://www.wikidata.org/entity/Q881", "Hanoi",
         "https://schema.org/MixedEventAttendanceMode", None),
    ]),
    Case("instrument-cited", {"instrument": "ilo-c189"}, boolean=True),
    Case("instrument-cited", {"instrument": "ilo-c155"}, boolean=False),
    Case("instruments-per-document", rows=[
        ("a.txt", v("instrument", "ilo-c189"), C189, "1"),
        ("b.txt", v("instrument", "ilo-c189"), C189, "1"),
        ("b.txt", v("instrument", "sdg-8"), "SDG 8: Decent work and economic growth", "1"),
    ]),
    Case("instruments-per-document", {"document": "fixture-c"}, rows=[]),
    # which ILO conventions are cited: one query over the instrument groups (skos:Collection)
    Case("instruments-by-group", {"group": "ilo-conventions"}, rows=[(v("instrument", "ilo-c189"), C189, "2", "2")]),
    Case("instruments-by-group", {"group": "Sustainable Development Goals and targets"}, rows=[
        (v("instrument", "sdg-8"), "SDG 8: Decent work and economic growth", "1", "1"),
    ]),
    Case("instruments-by-group", {"group": "ilo-recommendations"}, rows=[]),
    Case("member-state-theme-matrix", rows=[
        (None, None, v("theme", "freedom-of-association"), "Freedom of association and social dialogue", "1"),
        (None, None, v("theme", "health-care"), "Health care", "1"),
        (None, None, v("theme", "return-reintegration"), "Return and reintegration", "1"),
        (None, None, v("theme", "skills"), "Skills and training", "1"),
        (f"{ID}member-state/cambodia", "Cambodia", v("theme", "health-care"), "Health care", "1"),
        (f"{ID}member-state/cambodia", "Cambodia", v("theme", "labour-standards"), "Labour standards and decent work",
         "1"),
        (f"{ID}member-state/cambodia", "Cambodia", v("theme", "return-reintegration"), "Return and reintegration", "2"),
        (f"{ID}member-state/cambodia", "Cambodia", v("theme", "skills"), "Skills and training", "2"),
        (f"{ID}member-state/cambodia", "Cambodia", v("theme", "social-protection"), "Social protection", "1"),
        (f"{ID}member-state/viet-nam", "Viet Nam", v("theme", "social-protection"), "Social protection", "1"),
    ]),
    Case("member-states-for-theme", {"theme": "social-protection"}, rows=[
        (f"{ID}member-state/cambodia", "Cambodia", "1", "1"),
        (f"{ID}member-state/viet-nam", "Viet Nam", "1", "1"),
    ]),
    Case("member-states-for-theme", {"theme": "freedom-of-association"}, rows=[]),
    Case("mention-evidence", {"recommendation": "id:document/fixture-a/recommendation/1.1",
                              "concept": "theme:health-care"}, rows=[
        (f"{rec_iri('a', '1', '1')}/mention/theme/health-care/43", "theme", "health care", "43", "54",
         TEXTS[("a", "1", "1")]),
    ]),
    Case("mention-evidence", {"recommendation": "id:document/fixture-a/recommendation/1.1",
                              "concept": "theme:wages"}, rows=[]),
    Case("recommendation-graph", {"recommendation": "id:document/fixture-a/recommendation/2.1"},
         graph="recommendation-graph-a-2.1.nt"),
    Case("recommendations", {"document": "fixture-b"}, count=3),
    Case("recommendations", count=9),
    Case("recommendations-addressing-two-actors", {"actor_a": "government", "actor_b": "employer"}, rows=[A12, B1]),
    Case("recommendations-addressing-two-actors", {"actor_a": "trade-union", "actor_b": "employer"}, rows=[]),
    Case("recommendations-by-actor", {"actor": "employer"}, rows=[A12, B1, C1]),
    Case("recommendations-by-group", {"group": "returnees"}, rows=[A21, A22, B2]),
    Case("recommendations-by-instrument", {"instrument": "ilo-c189"}, rows=[A12, B1]),
    Case("recommendations-by-member-state", {"member_state": "Cambodia"}, rows=[A11, A12, A21, A22, A23]),
    Case("recommendations-by-member-state", {"member_state": "Vietnam"}, rows=[C1]),
    Case("recommendations-by-theme", {"theme": "health-care"}, rows=[A11, B1]),
    Case("recommendations-by-theme", {"theme": "theme:skills"}, rows=[A21, A22, B2]),
    Case("recommendations-without-theme", rows=[A23]),
    Case("search-text", {"words": "RESKILLING"}, rows=[A21, A22, B2]),
    Case("search-text", {"words": '"} UNION { ?recommendation ?p ?text } #'}, rows=[]),
    Case("similar-across-documents", {"min_score": "0.8"}, rows=[
        ("0.82", "a.txt", "2", "1", TEXTS[("a", "2", "1")], "b.txt", None, "2", TEXTS[("b", None, "2")]),
        ("0.82", "a.txt", "2", "2", TEXTS[("a", "2", "2")], "b.txt", None, "2", TEXTS[("b", None, "2")]),
    ]),
    Case("similar-across-documents", count=4),
    Case("theme-convergence", rows=[
        (v("theme", "return-reintegration"), "Return and reintegration", "2", "1", "3"),
        (v("theme", "skills"), "Skills and training", "2", "1", "3"),
        (v("theme", "health-care"), "Health care", "2", "1", "2"),
        (v("theme", "social-protection"), "Social protection", "2", "2", "2"),
        (v("theme", "freedom-of-association"), "Freedom of association and social dialogue", "1", "0", "1"),
        (v("theme", "labour-standards"), "Labour standards and decent work", "1", "1", "1"),
    ]),
    Case("theme-cooccurrence", rows=[
        (v("theme", "return-reintegration"), "Return and reintegration", v("theme", "skills"), "Skills and training",
         "3"),
        (v("theme", "health-care"), "Health care", v("theme", "social-protection"), "Social protection", "1"),
    ]),
    Case("theme-network", {"theme": "health-care"}, graph="theme-network-health-care.nt"),
]


def is_quality_violation(name: str) -> bool:
    """`*-violation` queries are the validator's checks (must return no rows), not competency questions."""
    return name.endswith("-violation")


@pytest.fixture(scope="session")
def fixture_store() -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(FIXTURES / "fixture.trig"), format=ox.RdfFormat.TRIG)
    return store


def values(result: Result) -> list[tuple[str | None, ...]]:
    return [tuple(t.value if t is not None else None for t in row) for row in result.rows]


def ntriples(result: Result) -> set[str]:
    from aflm_graph.sparql.engine import to_graph

    return set(to_graph(result, "ntriples").splitlines())


def check(case: Case, result: Result) -> None:
    if case.boolean is not None:
        assert result.form == "ask" and result.boolean is case.boolean
    elif case.graph is not None:
        expected = set((FIXTURES / case.graph).read_text(encoding="utf-8").splitlines())
        got = ntriples(result)
        assert got == expected, f"missing {sorted(expected - got)}; unexpected {sorted(got - expected)}"
    elif case.rows is not None:
        assert values(result) == case.rows
    else:
        assert len(result.rows) == case.count


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_known_answer_on_the_fixture(case: Case, fixture_store: ox.Store) -> None:
    query = named_queries(QUERIES)[case.query]
    bindings = bindings_for(query, case.params)
    embedded = run_embedded(fixture_store, query.text, bindings)
    if query.columns:
        assert tuple(embedded.columns) == query.columns
    check(case, embedded)
    # the text a remote endpoint gets (a VALUES block) gives the same answer
    check(case, run_embedded(fixture_store, bind_values(query.text, bindings)))


def test_every_competency_query_has_a_known_answer() -> None:
    catalogue = named_queries(QUERIES)
    competency = {n for n in catalogue if not is_quality_violation(n)}
    assert len(competency) >= 20
    answered = {c.query for c in CASES}
    assert competency - answered == set(), "write a Case with a known answer for each new query"
    assert answered - set(catalogue) == set()
    for name in competency:
        query = catalogue[name]
        for p in query.params:
            if not p.required:  # each optional parameter is exercised by at least one case
                assert any(p.name in c.params for c in CASES if c.query == name) or p.default is not None, (
                    f"{name}: no case sets the optional parameter {p.name}"
                )


def test_every_query_declares_what_it_returns() -> None:
    catalogue = named_queries(QUERIES)
    assert catalogue
    for name, query in catalogue.items():
        if query.form == "select":
            assert query.columns, f"{name}: a SELECT needs a `#+ columns:` header (its promised columns)"
        for p in query.params:
            assert p.example is not None, f"{name}: parameter {p.name} has no example"
        bindings_for(query, {p.name: p.example for p in query.params})  # the examples are valid values


def test_the_queries_readme_is_generated_from_the_headers() -> None:
    readme = (QUERIES / "README.md").read_text(encoding="utf-8")
    expected = markdown(named_queries(QUERIES))
    assert readme == expected, "queries/README.md is stale: run `aflm-graph queries --markdown > queries/README.md`"
    for name in named_queries(QUERIES):
        assert f"[{name}]({name}.rq)" in readme


def test_the_fixture_evidence_is_the_text_at_its_offsets(fixture_store: ox.Store) -> None:
    """The fixture itself is consistent (otherwise a known answer would be known wrongly)."""
    rows = run_embedded(fixture_store, """
        PREFIX aflm: <https://w3id.org/aflm/ontology#>
        SELECT ?text ?evidence ?start ?end WHERE {
          ?m aflm:mentionIn ?r ; aflm:evidence ?evidence ; aflm:evidenceStart ?start ; aflm:evidenceEnd ?end .
          ?r aflm:text ?text .
        }""").rows
    assert len(rows) == 30
    for text, evidence, start, end in rows:
        assert text.value[int(start.value): int(end.value)] == evidence.value


# --- the seed build


SEED_FACTS = {  # what the design notes state about the two seeds
    "documents": 2,
    "recommendations": 47,
}


SEED_MAY_BE_EMPTY = {"recommendations-without-theme"}  # a quality check: empty is the good answer


def _example_params(name: str) -> dict[str, str]:
    query = named_queries(QUERIES)[name]
    return {p.name: p.example for p in query.params if p.example is not None}


@pytest.mark.parametrize("name", sorted(named_queries(QUERIES)))
def test_every_query_runs_on_the_seed_build(name: str, seed_build: Path) -> None:
    query = named_queries(QUERIES)[name]
    result = run(query, build=seed_build, params=_example_params(name))
    if query.columns:
        assert tuple(result.columns) == query.columns
    if name in SEED_FACTS:
        assert len(run(query, build=seed_build).rows) == SEED_FACTS[name]
    if not is_quality_violation(name) and name not in SEED_MAY_BE_EMPTY:
        assert result.rows or result.boolean, f"{name}: the README's example finds nothing in the seeds"


def test_seed_facts_through_the_queries(seed_build: Path) -> None:
    docs = {r["source_file"]: r for r in run(named_queries(QUERIES)["documents"], build=seed_build).records()}
    assert docs["000_c29556925cd8fb24.txt"]["member_state_label"] == "Cambodia"
    assert docs["002_71c0a65de23b0458.txt"]["member_state"] is None  # the issuer is not stated: nothing guessed
    cambodia = run(named_queries(QUERIES)["recommendations-by-member-state"], build=seed_build,
                   params={"member_state": "Cambodia"})
    assert len(cambodia.rows) == 26  # 11 + 15
    repeats = run(named_queries(QUERIES)["document-repeats"], build=seed_build,
                  params={"document": "000_c29556925cd8fb24"}).records()
    assert [(r["subtheme"], r["label"], r["repeat_label"]) for r in repeats] == [
        ("2", "9", "13"), ("2", "10", "14"), ("2", "11", "15"),
    ]
    forums = run(named_queries(QUERIES)["forum-editions"], build=seed_build).records()
    thirteen = [f for f in forums if f["number"] == "13"]
    assert len(thirteen) == 1
    assert (thirteen[0]["year"], thirteen[0]["host_country_label"], thirteen[0]["documents"],
            thirteen[0]["recommendations"]) == ("2020", "Viet Nam", "2", "47")


def test_the_markdown_command_prints_the_readme() -> None:
    from click.testing import CliRunner

    from aflm_graph.cli import cli

    printed = CliRunner().invoke(cli, ["queries", "--markdown"], catch_exceptions=False)
    assert printed.exit_code == 0
    assert printed.stdout == (QUERIES / "README.md").read_text(encoding="utf-8")
