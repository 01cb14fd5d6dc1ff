"""Text search (issue 19, item 4): the syntax, the folding, the build's full-text index and its SPARQL fallback.

The search-text query runs on the build's SQLite FTS5 index (search.sqlite) where there is one, else its SPARQL
with bound regular expressions (sparql/textsearch.py). Both must answer the same rows; the index ranks them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import aflm_graph
from aflm_graph.cli import cli
from aflm_graph.sparql.catalogue import ParameterError, QueryError, named_queries
from aflm_graph.sparql.run import run
from aflm_graph.sparql.textsearch import (
    COLUMNS,
    INDEX_NAME,
    MAX_CHARS,
    MAX_GROUPS,
    body_words,
    fold,
    joined_words,
    parse,
    regex_escape,
    sparql_fold,
)
from conftest import free_port
from servers import stop, wait_until_ready

QUERY = named_queries()["search-text"]
ITEM_6 = "https://w3id.org/aflm/id/document/002_71c0a65de23b0458/recommendation/1.6"  # "re-integration"
HOSTILE = [
    'NEAR(migrant workers, 2)', "body : migrant", "{body joined} : migrant", "^migrant", "migr*", "-migrant",
    "migrant AND NOT workers", "AND", "NOT", '"', '""', '" "', '"migrant" "', "migrant\"workers", "a\x00b",
    "'; DROP TABLE words; --", "ﬁ\"ﬂ", "( ) { } [ ]", "migrant +workers", "workers:migrant", "\\", "OR OR OR",
    "migrant | | workers", "rowid = 1", "words MATCH 'x'", "\u202emigrant", "*", "^", "-",
]


def search(build: Path, words: str, **params: str) -> list[dict[str, str | None]]:
    return run(QUERY, build=build, params={"words": words, **params}).records()


def recs(rows: list[dict[str, str | None]]) -> list[str | None]:
    return [r["recommendation"] for r in rows]


@pytest.fixture(scope="module")
def no_index(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed build without its index: what a build made before the index looks like."""
    out = tmp_path_factory.mktemp("search") / "build"
    shutil.copytree(seed_build, out, ignore=shutil.ignore_patterns("store", "views", INDEX_NAME))
    return out


# --- syntax


def test_words_are_and_or_binds_tighter_and_phrases_stay_whole() -> None:
    s = parse('"social protection" OR reintegration migrant')
    assert [[t.body for t in g] for g in s.groups] == [[("social", "protection"), ("reintegration",)],
                                                        [("migrant",)]]
    assert [[t.body for t in g] for g in parse("a b c").groups] == [[("a",)], [("b",)], [("c",)]]
    assert [[t.body for t in g] for g in parse("a | b").groups] == [[("a",), ("b",)]]
    assert parse("a AND b OR c") == parse("a b OR c") and parse('"AND" a').groups[0][0].body == ("and",)
    # "or" in lower case is a word; a stray OR at either end (or doubled) is dropped
    assert [[t.body for t in g] for g in parse("a or b").groups] == [[("a",)], [("or",)], [("b",)]]
    assert [[t.body for t in g] for g in parse("OR a OR OR b OR").groups] == [[("a",), ("b",)]]
    # an unclosed quote runs to the end; curly quotes are quotes
    assert [[t.body for t in g] for g in parse('"social protection').groups] == [[("social", "protection")]]
    assert [[t.body for t in g] for g in parse("\u201csocial protection\u201d").groups] == [[("social",
                                                                                              "protection")]]


@pytest.mark.parametrize("words", ["", "   ", "OR", "OR | OR", "***", '""', "- -- ^", "\x00"])
def test_no_words_is_a_parameter_error(words: str) -> None:
    with pytest.raises(ParameterError, match="no words to search for"):
        parse(words)


def test_limits() -> None:
    parse(" ".join(f"w{i}" for i in range(MAX_GROUPS)))
    with pytest.raises(ParameterError, match=f"at most {MAX_GROUPS}"):
        parse(" ".join(f"w{i}" for i in range(MAX_GROUPS + 1)))
    with pytest.raises(ParameterError, match="characters"):
        parse("a" * (MAX_CHARS + 1))


# --- folding


@pytest.mark.parametrize(("a", "b"), [
    ("re-integration", "reintegration"), ("Re-Integration", "REINTEGRATION"), ("COVID-19", "covid19"),
    ("Ré-intégration", "reintegration"), ("ﬁnancial", "financial"), ("eﬀective", "effective"),
    ("Œuvre", "oeuvre"), ("Việt Nam", "viet nam"), ("Đà Nẵng", "da nang"), ("Straße", "strasse"),
    ("naïve café", "naive cafe"), ("re\u00adintegration", "reintegration"), ("e\u0301", "e"),
])
def test_folded_forms_match(a: str, b: str) -> None:
    assert joined_words(a) == joined_words(b) or body_words(a) == body_words(b)


def test_hyphens_and_digits_as_documented() -> None:
    assert fold("Ré-Intégration ﬁ") == "re-integration fi"
    assert body_words("re-integration") == ["re", "integration"] and joined_words("re-integration") == ["reintegration"]
    assert body_words("COVID-19") == body_words("covid19") == body_words("COVID 19") == ["covid", "19"]
    assert joined_words("COVID-19") == ["covid19"]
    assert body_words("migrant—workers 2010–2015") == ["migrant", "workers", "2010", "2015"]  # dashes separate
    assert joined_words("2010–2015") == ["2010", "2015"]  # and join nothing


# --- the MATCH expression and the bound patterns: built by us, never the user's text


def _check_fts(expression: str) -> None:
    phrases = re.findall(r'"([^"]*)"', expression)
    assert phrases and all(re.fullmatch(r"[^\W_]+( [^\W_]+)*", p) for p in phrases), expression
    rest = re.sub(r'"[^"]*"', "", expression)
    assert set(re.findall(r"\w+", rest)) <= {"body", "sub_body", "joined", "sub_joined", "AND", "OR"}, expression
    assert set(re.sub(r"\w+", "", rest)) <= set("(){}: "), expression


@pytest.mark.parametrize("words", HOSTILE)
def test_hostile_words_never_reach_fts5_or_the_regex_raw(words: str, seed_build: Path) -> None:
    try:
        s = parse(words)
    except ParameterError:
        return  # no words in it: refused, which is fine
    _check_fts(s.fts())
    patterns = s.patterns()
    assert s.matches() == "".join(f"{p}\t" for p in patterns) and len(patterns) == len(s.groups)
    for pattern in patterns:  # our skeleton around phrases of folded words, nothing else
        parts = re.fullmatch(r"\((.*)\)\[\^#\]\*#\|#\.\*\((.*)\)", pattern)
        assert parts, pattern
        for alternatives in parts.groups():
            assert all(re.fullmatch(r" [^\W_]+( [^\W_]+)* ", a) for a in alternatives.split("|")), pattern
    search(seed_build, words)  # runs on the index without an FTS5 syntax error


def test_regex_escape_escapes_every_metacharacter() -> None:
    nasty = r"a.b*c+d?e(f)g[h]i{j}k|l^m$n\o-p"
    assert re.fullmatch(regex_escape(nasty), nasty)
    assert not re.fullmatch(regex_escape("a.b"), "axb")


def test_the_query_holds_the_folding_and_one_filter_per_group() -> None:
    assert sparql_fold() in QUERY.text, "queries/search-text.rq: regenerate its folding from textsearch.sparql_fold"
    for n in range(1, MAX_GROUPS + 1):
        assert f"REGEX(?searchable, ?m{n})" in QUERY.text and f"AS ?m{n})" in QUERY.text
    assert len(urllib.parse.urlencode({"query": QUERY.text})) < 14_000  # as a form, under the test endpoint's cap
    assert QUERY.columns == COLUMNS


# --- on the seed build (its index) and without it (the SPARQL fallback)


def test_reintegration_finds_re_integration(seed_build: Path) -> None:
    joined, hyphenated = search(seed_build, "reintegration"), search(seed_build, "re-integration")
    assert ITEM_6 in recs(joined) and sorted(recs(joined)) == sorted(recs(hyphenated))
    assert recs(hyphenated)[0] == ITEM_6  # the form as written ranks first
    row = next(r for r in joined if r["recommendation"] == ITEM_6)
    assert row["text"] is not None and "re-integration" in row["text"]
    assert any(r["text"] and "reintegration" in r["text"] for r in joined)


def test_covid_spellings_and_the_pandemic(seed_build: Path) -> None:
    covid = sorted(recs(search(seed_build, "COVID-19")))
    assert covid and covid == sorted(recs(search(seed_build, "COVID 19")))
    assert covid == sorted(recs(search(seed_build, "covid19")))
    # COVID-19 is in sub-theme 1's title (and a few texts); "pandemic" in three items of sub-theme 2
    pandemic = search(seed_build, "pandemic")
    assert len(pandemic) == 3 and all(r["subtheme"] == "2" and "pandemic" in (r["text"] or "") for r in pandemic)
    either = recs(search(seed_build, "COVID OR pandemic"))
    assert set(either) == set(covid) | set(recs(pandemic))
    assert search(seed_build, "COVID pandemic") == []  # no recommendation has both (AND)


def test_word_boundaries(seed_build: Path) -> None:
    age = search(seed_build, "age")
    assert age and all(re.search(r"\bage\b", r["text"] or "", re.IGNORECASE) for r in age)
    wage = search(seed_build, "wage")
    assert wage and not set(recs(age)) & set(recs(wage))


def test_and_or_and_phrases(seed_build: Path) -> None:
    social, protection = set(recs(search(seed_build, "social"))), set(recs(search(seed_build, "protection")))
    both = set(recs(search(seed_build, "social protection")))
    assert both == social & protection and set(recs(search(seed_build, "social OR protection"))) == social | protection
    phrase = search(seed_build, '"social protection"')
    assert phrase and set(recs(phrase)) <= both
    assert all(re.search(r"social\s+protection", r["text"] or "", re.IGNORECASE) for r in phrase)
    assert set(recs(search(seed_build, '"protection social"'))) < both


def test_rows_are_ranked_and_carry_the_columns(seed_build: Path) -> None:
    result = run(QUERY, build=seed_build, params={"words": '"social protection" OR reintegration'})
    assert tuple(result.columns) == COLUMNS
    scores = [float(r["score"] or 0) for r in result.records()]
    assert scores[0] == 1.0 and scores == sorted(scores, reverse=True) and scores[-1] > 0
    first = result.records()[0]
    assert first["document_title"] and first["member_state_label"] == "Cambodia" and first["forum_number"] == "13"


CORPUS = {
    "a.txt": "Cambodia National Recommendations for the 13th ASEAN Forum on Migrant Labour\n\n14 September 2020\n\n"
             "1. Ré-intégration of returnees: reintegration services and reintegration support for all.\n\n"
             "2. Provide ﬁnancial literacy for reintegration.\n\n"
             "3. Protect migrant workers and their families, whatever their age.\n",
    "b.txt": "Viet Nam National Recommendations for the 13th ASEAN Forum on Migrant Labour\n\n9 November 2020\n\n"
             "1. Provide ﬁnancial literacy for reintegration.\n\n"
             "2. Ensure a minimum wage for Œuvre workers in Đà Nẵng.\n",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "in").mkdir()
    for name, text in CORPUS.items():
        (folder / "in" / name).write_text(text, encoding="utf-8")
    return aflm_graph.run_pipeline(folder / "in", folder / "build").out


def test_ranking_ties_and_folding_on_documents(corpus: Path) -> None:
    rows = search(corpus, "reintegration")
    assert [(r["document"] or "").rsplit("/", 1)[-1] + ":" + (r["label"] or "") for r in rows] == ["a:1", "a:2", "b:1"]
    assert rows[0]["score"] == "1.000" and rows[1]["score"] == rows[2]["score"]  # a tie: by date
    assert recs(search(corpus, "intégration")) == recs(search(corpus, "integration")) == [rows[0]["recommendation"]]
    assert recs(search(corpus, "financial")) == recs(search(corpus, "ﬁnancial")) == [r["recommendation"]
                                                                                      for r in rows[1:]]
    assert [r["label"] for r in search(corpus, "oeuvre OR \"da nang\"")] == ["2"]
    assert [r["label"] for r in search(corpus, "age")] == ["3"]
    assert [r["label"] for r in search(corpus, "wage")] == ["2"]
    assert [r["member_state_label"] for r in search(corpus, "financial")] == ["Cambodia", "Viet Nam"]


def test_big_answers_from_the_cached_table_are_the_same(seed_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aflm_graph.sparql import textsearch

    monkeypatch.setattr(textsearch, "_TABLES", {})  # this test's own cache, dropped after it
    words = ["migrant", '"social protection" OR reintegration', "workers health", "zzyzzy"]
    direct = [run(QUERY, build=seed_build, params={"words": w}).rows for w in words]
    assert not textsearch._TABLES  # the seeds' answers are below CACHE_FROM: read row by row
    monkeypatch.setattr(textsearch, "CACHE_FROM", 1)
    cached = [run(QUERY, build=seed_build, params={"words": w}).rows for w in words]
    assert len(textsearch._TABLES) == 1 and cached == direct and len(direct[0]) > 20
    filtered = run(QUERY, build=seed_build, params={"words": "migrant", "member_state": "Cambodia"}).rows
    monkeypatch.setattr(textsearch, "_TABLES", {})
    monkeypatch.setattr(textsearch, "CACHE_FROM", 10**9)
    assert run(QUERY, build=seed_build, params={"words": "migrant", "member_state": "Cambodia"}).rows == filtered


def test_filters_on_the_index(seed_build: Path) -> None:
    everywhere = recs(search(seed_build, "migrant"))
    cambodia = recs(search(seed_build, "migrant", member_state="Cambodia"))
    assert cambodia and set(cambodia) < set(everywhere)
    assert all("000_c29556925cd8fb24" in (r or "") for r in cambodia)
    assert recs(search(seed_build, "migrant", document="002_71c0a65de23b0458")) == [
        r for r in everywhere if "002_71c0a65de23b0458" in (r or "")]
    assert search(seed_build, "migrant", to="2020-01-01") == []
    assert set(recs(search(seed_build, "migrant", forum="13"))) == set(everywhere)
    kept = recs(search(seed_build, "repatriation", include_repeats="false"))
    assert len(kept) < len(recs(search(seed_build, "repatriation")))  # Cambodia 2.13-2.15 repeat 2.9-2.11


@pytest.mark.parametrize("words", [
    '"social protection" OR reintegration', "re-integration", "covid19", "COVID 19 pandemic", "age", "wage",
    "migrant workers health", '"return and repatriation"', "recruitment fees OR costs", "ILO C189 OR convention",
    "NEAR(a b) * ^c col:x -y", '"unbalanced', "women OR gender skills",
])
def test_the_fallback_finds_what_the_index_finds(seed_build: Path, no_index: Path, words: str) -> None:
    indexed = run(QUERY, build=seed_build, params={"words": words})
    fallback = run(QUERY, build=no_index, params={"words": words})
    assert sorted(recs(indexed.records())) == sorted(recs(fallback.records()))
    assert all(r["score"] is None for r in fallback.records())
    assert fallback.warnings and "no full-text index" in fallback.warnings[0] and not indexed.warnings
    same = [[None, *row[1:]] for row in indexed.rows]
    assert sorted(same, key=str) == sorted(fallback.rows, key=str)  # every other term alike (language tags too)


def test_an_index_of_another_format_is_not_used(no_index: Path, tmp_path: Path) -> None:
    build = tmp_path / "build"
    shutil.copytree(no_index, build)
    db = sqlite3.connect(build / INDEX_NAME)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT INTO meta VALUES ('format', 'aflm-graph search index 0')")
    db.commit()
    db.close()
    result = run(QUERY, build=build, params={"words": "reintegration"})
    assert ITEM_6 in recs(result.records()) and "no full-text index" in result.warnings[0]


def test_no_build_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="no build here"):
        run(QUERY, build=tmp_path, params={"words": "migrant"})


# --- the index file


def test_the_index_is_listed_and_byte_identical_across_builds(seed_build: Path, tmp_path: Path) -> None:
    manifest = json.loads((seed_build / "manifest.json").read_text(encoding="utf-8"))
    data = (seed_build / INDEX_NAME).read_bytes()
    assert manifest["files"][INDEX_NAME] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    again = aflm_graph.run_pipeline(sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt")),
                                    tmp_path / "again")
    assert (again.out / INDEX_NAME).read_bytes() == data
    assert not list(again.out.glob(f".{INDEX_NAME}*"))  # no temporary file left


# --- CLI, API, serve, remote


def test_cli(seed_build: Path) -> None:
    base = ["query", "search-text", "--build", str(seed_build), "--format", "csv"]
    ok = CliRunner().invoke(cli, [*base, "-p", 'words="social protection" OR reintegration'])
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert lines[0] == ",".join(COLUMNS) and lines[1].startswith("1.000,") and len(lines) > 5
    for words in ["", "OR", '""', "***"]:
        bad = CliRunner().invoke(cli, [*base, "-p", f"words={words}"])
        assert bad.exit_code == 2 and "no words to search for" in bad.output, bad.output
    empty = CliRunner().invoke(cli, [*base, "-p", "words=zzzyzzy"])
    assert empty.exit_code == 0 and empty.output.splitlines() == [",".join(COLUMNS)]


def test_api(seed_build: Path) -> None:
    rows = aflm_graph.query("search-text", build=seed_build, params={"words": "reintegration"}).records()
    assert ITEM_6 in recs(rows) and rows[0]["score"] == "1.000"
    with pytest.raises(ParameterError):
        aflm_graph.query("search-text", build=seed_build, params={"words": " OR "})


@contextlib.contextmanager
def serving(build: Path, workdir: Path) -> Iterator[str]:
    """`aflm-graph serve` on a free port with its default limits (the query with its folding is ~9 KB); its URL."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    exe = Path(sys.executable).with_name("aflm-graph")
    with log.open("wb") as out:
        process = subprocess.Popen([str(exe), "serve", "--build", str(build), "--host", "127.0.0.1", "--port",
                                    str(port), "--workers", "1"], stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        wait_until_ready(url, process, seconds=60, log=log)
        yield url
    finally:
        stop(process)


@pytest.mark.server
def test_serve_and_a_remote_endpoint(seed_build: Path, no_index: Path, tmp_path: Path) -> None:
    from test_endpoint import request

    words = '"social protection" OR reintegration'
    expected = recs(search(seed_build, words))
    query = urllib.parse.urlencode({"name": "search-text", "p.words": words, "format": "json"})
    for build in (seed_build, no_index):
        with serving(build, tmp_path) as served:
            base = served.rsplit("/", 1)[0]
            status, _, body = request(f"{base}/api/run?{query}")
            assert status == 200, body
            data = json.loads(body)
            assert data["head"]["vars"] == list(COLUMNS)
            got = [b["recommendation"]["value"] for b in data["results"]["bindings"]]
            assert (got if build == seed_build else sorted(got)) == (
                expected if build == seed_build else sorted(expected))
            bad = urllib.parse.urlencode({"name": "search-text", "p.words": "OR"})
            status, _, body = request(f"{base}/api/run?{bad}")
            assert status == 400 and b"no words to search for" in body
            if build == seed_build:  # a remote endpoint has no index: the bound regular expressions
                remote = run(QUERY, build=tmp_path, params={"words": words}, endpoint=served)
                assert sorted(recs(remote.records())) == sorted(expected) and not remote.warnings
