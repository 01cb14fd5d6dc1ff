"""Issue 19, items 2 and 3: the list filters (document, member state, forum edition, dates, repeats) and the
research questions (actor co-occurrence, top themes per sub-theme, theme timeline, recommendations per member
state and edition, what a document calls for first), on the seed build.

The known answers on the hand-made fixture are in tests/test_competency.py (CASES, also run on the Oxigraph
server and Virtuoso by tests/test_remote.py). Here the seed answers are checked against what plain Python
computes from the graph's links, read with one simple query: a second way to the same numbers.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner

import aflm_graph
from aflm_graph.cli import cli
from aflm_graph.sparql.catalogue import Param, ParameterError, QueryError, bindings_for, named_queries, to_term
from aflm_graph.sparql.engine import open_store, run_embedded
from aflm_graph.sparql.run import run
from conftest import ROOT, free_port
from servers import stop, wait_until_ready

QUERIES = ROOT / "queries"
CATALOGUE = named_queries(QUERIES)
ID = "https://w3id.org/aflm/id/"
CAMBODIA = "000_c29556925cd8fb24"
SECOND = "002_71c0a65de23b0458"  # the seed whose issuer is not stated
LISTS = ["recommendations", "recommendations-by-theme", "recommendations-by-actor", "recommendations-by-group",
         "recommendations-by-instrument", "recommendations-by-member-state", "recommendations-addressing-two-actors",
         "recommendations-without-theme"]
FILTERS = {"document", "member_state", "forum", "from", "to", "include_repeats"}
LIST_COLUMNS = ("document_title", "member_state_label", "date", "forum_number", "subtheme", "subtheme_title", "label",
                "text", "recommendation", "document", "member_state", "forum")


# --- the forum parameter type


@pytest.mark.parametrize("value", ["13", "13th", "the 13th AFML", " 13 ", "id:forum/13", f"{ID}forum/13", 13])
def test_a_forum_edition_by_number_or_iri(value: object) -> None:
    assert to_term(Param("forum", "forum"), value).value == f"{ID}forum/13"


@pytest.mark.parametrize(
    ("value", "message"),
    [("19", "not an AFML edition of the reference data .*1 to 18.*did you mean .*18"),
     ("131", "did you mean 13"), (f"{ID}forum/99", "not an AFML edition"),
     ("thirteenth", "not an AFML edition"), ("-1", "not an AFML edition")],
)
def test_an_unknown_forum_edition_is_a_parameter_error(value: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        to_term(Param("forum", "forum"), value)
    assert "\n" not in str(info.value)


def test_every_list_takes_the_filters_and_the_by_lists_their_columns() -> None:
    for name in LISTS:
        query = CATALOGUE[name]
        declared = {p.name: p for p in query.params}
        assert FILTERS - {"member_state"} <= set(declared), name
        assert "member_state" in declared, name
        assert declared["include_repeats"].default is None  # left out: every recommendation (no filter to run)
        assert declared["forum"].type == "forum" and declared["from"].type == "date"
        if name != "recommendations":
            by_concept = name.removeprefix("recommendations-by-") in {"theme", "actor", "group", "instrument"}
            expected = (*LIST_COLUMNS[:8], "evidence", *LIST_COLUMNS[8:]) if by_concept else LIST_COLUMNS
            assert query.columns == expected, name
    # the contract's columns stay as the design notes write them
    assert CATALOGUE["recommendations"].columns == (
        "document", "source_file", "subtheme", "subtheme_title", "label", "position", "text")


def test_bad_filter_values_are_refused_before_the_query_runs() -> None:
    query = CATALOGUE["recommendations-by-theme"]
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        bindings_for(query, {"theme": "health-care", "from": "14/09/2020"})
    with pytest.raises(QueryError, match="true or false"):
        bindings_for(query, {"theme": "health-care", "include_repeats": "no"})
    with pytest.raises(ParameterError, match="did you mean Cambodia"):
        bindings_for(query, {"theme": "health-care", "member_state": "Cambodja"})


# --- the filters on the seeds


def _rows(name: str, build: Path, **params: object) -> list[dict[str, str | None]]:
    return run(CATALOGUE[name], build=build, params=params).records()


def test_the_filters_on_the_seeds(seed_build: Path) -> None:
    assert len(_rows("recommendations", seed_build)) == 47
    assert len(_rows("recommendations", seed_build, forum="13")) == 47
    assert len(_rows("recommendations", seed_build, forum=12)) == 0
    assert len(_rows("recommendations", seed_build, member_state="Cambodia")) == 26
    assert len(_rows("recommendations", seed_build, document="Cambodia")) == 26  # a document by its member state
    assert len(_rows("recommendations", seed_build, **{"from": "2020-11-01"})) == 21  # the 9 November meeting
    assert len(_rows("recommendations", seed_build, to="2020-09-14")) == 26  # the day itself is in
    assert len(_rows("recommendations", seed_build, to="2020-09-13")) == 0
    # Cambodia 2.13-2.15 repeat 2.9-2.11 word for word: left out, the first occurrences kept
    kept = _rows("recommendations", seed_build, include_repeats=False, document=CAMBODIA)
    assert len(kept) == 23
    labels = {(r["subtheme"], r["label"]) for r in kept}
    assert {("2", "9"), ("2", "10"), ("2", "11")} <= labels
    assert not {("2", "13"), ("2", "14"), ("2", "15")} & labels
    assert len(_rows("recommendations", seed_build, include_repeats="false")) == 44


def test_the_lists_show_what_the_documents_state_and_leave_the_rest_empty(seed_build: Path) -> None:
    rows = _rows("recommendations-by-theme", seed_build, theme="health-care")
    assert rows and [r["date"] for r in rows] == sorted(r["date"] or "" for r in rows)  # by meeting date
    for row in rows:
        assert row["forum_number"] == "13" and row["forum"] == f"{ID}forum/13"
        if row["document"] == f"{ID}document/{SECOND}":  # the issuer is not stated: nothing guessed
            assert row["member_state"] is None and row["member_state_label"] is None
            assert row["date"] == "2020-11-09"
        else:
            assert row["member_state_label"] == "Cambodia" and row["date"] == "2020-09-14"
            assert row["document_title"] == ("Cambodia National Recommendations for the 13th ASEAN Forum on Migrant "
                                             "Labour")
            assert row["subtheme_title"]
    second = _rows("recommendations-by-theme", seed_build, theme="health-care", document=SECOND)
    assert second == [r for r in rows if r["document"] == f"{ID}document/{SECOND}"]
    assert _rows("recommendations-by-theme", seed_build, theme="health-care", member_state="Cambodia") == [
        r for r in rows if r["member_state_label"] == "Cambodia"]
    repeats = _rows("recommendations-by-member-state", seed_build, member_state="KHM", include_repeats=False)
    assert len(repeats) == 23


def test_the_python_api_takes_the_filters(seed_build: Path) -> None:
    result = aflm_graph.query("recommendations-by-member-state", build=seed_build,
                              params={"member_state": "Cambodia", "forum": 13, "include_repeats": False})
    assert len(result.rows) == 23
    with pytest.raises(ParameterError, match="not an AFML edition"):
        aflm_graph.query("recommendations", build=seed_build, params={"forum": 19})


def test_the_command_line_takes_the_filters_and_refuses_bad_ones(seed_build: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["query", "recommendations-by-group", "--build", str(seed_build), "--format", "csv",
                             "--param", "group=irregular-migrant-workers", "--param", "member_state=Cambodia",
                             "--param", "forum=13", "--param", "from=2020-01-01", "--param", "to=2020-12-31",
                             "--param", "include_repeats=false"])
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert lines[0] == ",".join((*LIST_COLUMNS[:8], "evidence", *LIST_COLUMNS[8:]))
    rows = list(csv.DictReader(io.StringIO(ok.output)))
    assert rows and all(row["member_state_label"] == "Cambodia" for row in rows)
    for row in rows:  # the words behind the link are in the text
        assert row["evidence"] and all(words in row["text"] for words in row["evidence"].split("; ")), row
    bad = runner.invoke(cli, ["query", "recommendations", "--build", str(seed_build), "--param", "forum=31"])
    assert bad.exit_code == 2
    assert "parameter forum: '31' is not an AFML edition" in bad.output and "did you mean" in bad.output


@pytest.fixture(scope="module")
def served(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("serve-filters") / "serve.log"
    exe = Path(sys.executable).with_name("aflm-graph")
    with log.open("wb") as sink:
        process = subprocess.Popen([str(exe), "serve", "--build", str(seed_build), "--host", "127.0.0.1", "--port",
                                    str(port), "--workers", "1", "--timeout", "20"], stdout=sink,
                                   stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/sparql", process, seconds=60, log=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def test_serve_takes_the_filters_and_refuses_bad_ones(served: str) -> None:
    def ask(**params: str) -> tuple[int, str]:
        query = urllib.parse.urlencode({"name": "recommendations-by-member-state", "format": "json",
                                        **{f"p.{k}": v for k, v in params.items()}})
        try:
            with urllib.request.urlopen(f"{served}/api/run?{query}", timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    status, body = ask(member_state="Cambodia", forum="13", include_repeats="false")
    assert status == 200
    assert len(json.loads(body)["results"]["bindings"]) == 23
    status, body = ask(member_state="Cambodia", forum="19")
    assert status == 400 and "is not an AFML edition" in body


# --- the research questions on the seeds, against what Python computes from the links


LINKS = """PREFIX aflm: <https://w3id.org/aflm/ontology#>
SELECT DISTINCT ?recommendation ?document ?subtheme ?property ?concept WHERE {
  ?recommendation aflm:inDocument ?document ; ?property ?concept .
  VALUES ?property { aflm:hasTheme aflm:addressesActor aflm:targetsGroup aflm:citesInstrument }
  OPTIONAL { ?recommendation aflm:inSubTheme ?subtheme }
}"""
AFLM = "https://w3id.org/aflm/ontology#"
Link = tuple[str, str, str | None, str, str]  # recommendation, document, sub-theme, property, concept


@pytest.fixture(scope="module")
def links(seed_build: Path) -> list[Link]:
    rows = run_embedded(open_store(seed_build), LINKS).rows
    return [(r.value, d.value, s.value if s else None, p.value.removeprefix(AFLM), c.value)
            for r, d, s, p, c in rows]


def test_actor_cooccurrence_on_the_seeds(seed_build: Path, links: list[Link]) -> None:
    actors: dict[str, set[str]] = defaultdict(set)
    documents: dict[str, str] = {}
    for rec, doc, _, prop, concept in links:
        documents[rec] = doc
        if prop == "addressesActor":
            actors[rec].add(concept)
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rec, found in actors.items():
        for a, b in combinations(sorted(found), 2):
            pairs[(a, b)].add(rec)
    expected = sorted(((-len(recs), a, b, len({documents[r] for r in recs})) for (a, b), recs in pairs.items()))
    got = [(-int(r["recommendations"] or 0), r["actor_a"], r["actor_b"], int(r["documents"] or 0))
           for r in _rows("actor-cooccurrence", seed_build)]
    assert got == expected and len(got) > 10
    # the repeated Cambodia items count once when repeats are left out
    once = {(r["actor_a"], r["actor_b"]): int(r["recommendations"] or 0)
            for r in _rows("actor-cooccurrence", seed_build, include_repeats=False)}
    assert sum(once.values()) < sum(-n for n, *_ in expected)


def test_top_themes_per_subtheme_on_the_seeds(seed_build: Path, links: list[Link]) -> None:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for _, doc, subtheme, prop, concept in links:
        if prop == "hasTheme":
            counts[subtheme or doc][concept] += 1
    expected = {(group, theme, n) for group, counter in counts.items() for theme, n in counter.items()
                if n == max(counter.values())}
    rows = _rows("top-themes-per-subtheme", seed_build)
    got = {(r["subtheme_iri"] or r["document"], r["theme"], int(r["recommendations"] or 0)) for r in rows}
    assert got == expected
    assert len(rows) == len(expected)
    assert len(got) < sum(len(c) for c in counts.values())  # not every theme is a top theme
    assert any(sum(1 for g, *_ in expected if g == group) > 1 for group in counts)  # a tie shows as several rows
    assert {r["subtheme"] for r in rows} == {"1", "2"}
    cambodia = _rows("top-themes-per-subtheme", seed_build, document="Cambodia")
    assert cambodia == [r for r in rows if r["document"] == f"{ID}document/{CAMBODIA}"] and cambodia


def test_theme_timeline_on_the_seeds(seed_build: Path, links: list[Link]) -> None:
    recs: dict[str, set[str]] = defaultdict(set)
    docs: dict[str, set[str]] = defaultdict(set)
    for rec, doc, _, prop, concept in links:
        if prop == "hasTheme":
            recs[concept].add(rec)
            docs[concept].add(doc)
    rows = _rows("theme-timeline", seed_build)
    assert {(r["forum_number"], r["year"]) for r in rows} == {("13", "2020")}  # both seeds are of the 13th AFML
    assert {r["theme"]: (int(r["recommendations"] or 0), int(r["documents"] or 0)) for r in rows} == {
        theme: (len(recs[theme]), len(docs[theme])) for theme in recs}
    counts = [int(r["recommendations"] or 0) for r in rows]
    assert counts == sorted(counts, reverse=True)
    health = _rows("theme-timeline", seed_build, theme="Health care")
    assert [(r["forum_number"], r["year"], r["theme_label"]) for r in health] == [("13", "2020", "Health care")]


def test_recommendations_per_member_state_per_edition_on_the_seeds(seed_build: Path) -> None:
    rows = _rows("recommendations-per-member-state-per-edition", seed_build)
    assert [(r["member_state_label"], r["forum_number"], r["year"], r["documents"], r["recommendations"])
            for r in rows] == [(None, "13", "2020", "1", "21"), ("Cambodia", "13", "2020", "1", "26")]
    once = _rows("recommendations-per-member-state-per-edition", seed_build, include_repeats="false")
    assert [r["recommendations"] for r in once] == ["21", "23"]


def test_new_in_document_on_the_seeds(seed_build: Path, links: list[Link]) -> None:
    first, second = f"{ID}document/{CAMBODIA}", f"{ID}document/{SECOND}"  # 14 September, then 9 November 2020
    carried: dict[str, Counter[str]] = defaultdict(Counter)
    for _, doc, _, _, concept in links:
        carried[doc][concept] += 1
    recs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rec, doc, _, _, concept in links:
        recs[(doc, concept)].add(rec)
    rows = _rows("new-in-document", seed_build)
    got = {(r["document"], r["concept"]): int(r["recommendations"] or 0) for r in rows}
    expected = {(first, c): len(recs[(first, c)]) for c in carried[first]}
    expected |= {(second, c): len(recs[(second, c)]) for c in carried[second] if c not in carried[first]}
    assert got == expected
    assert len(rows) == len(expected)
    added = _rows("new-in-document", seed_build, document=SECOND)
    assert added == [r for r in rows if r["document"] == second]
    assert {r["kind"] for r in added} == {"theme", "actor", "group", "instrument"}
    assert [r["date"] for r in rows] == sorted(r["date"] or "" for r in rows)
