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
from aflm_graph.sparql.textsearch import search_build
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

DOCUMENT_FACTS = {  # document -> title, member state label, date, forum number, member state IRI, forum IRI
    "a": ("Fixture recommendations of Cambodia", "Cambodia", "2020-09-14", "13", f"{ID}member-state/cambodia",
          f"{ID}forum/13"),
    "b": ("Fixture recommendations of an online meeting", None, "2020-11-09", "13", None, f"{ID}forum/13"),
    "c": ("Fixture recommendations of Viet Nam", "Viet Nam", "2019-10-30", "12", f"{ID}member-state/viet-nam",
          f"{ID}forum/12"),
}
SUBTHEME_TITLES = {("a", "1"): "Protecting health", ("a", "2"): "Jobs and skills"}


def item(doc: str, subtheme: str | None, label: str) -> tuple[str | None, ...]:
    """A row of the recommendation lists (by theme, actor, group, instrument, member state ...): document title,
    member state label, date, forum number, sub-theme, its title, label, text, then the IRIs."""
    title, state_label, date, forum_number, state, forum = DOCUMENT_FACTS[doc]
    return (title, state_label, date, forum_number, subtheme, SUBTHEME_TITLES.get((doc, subtheme or "")), label,
            TEXTS[(doc, subtheme, label)], rec_iri(doc, subtheme, label), f"{ID}document/fixture-{doc}", state, forum)


def said(row: tuple[str | None, ...], evidence: str) -> tuple[str | None, ...]:
    """A row of a list by concept (theme, actor, group, instrument): the evidence of the link after the text."""
    return (*row[:8], evidence, *row[8:])


IA11, IA12, IA21, IA22, IA23 = (item("a", *k) for k in (("1", "1"), ("1", "2"), ("2", "1"), ("2", "2"), ("2", "3")))
IB1, IB2, IB3 = (item("b", None, n) for n in "123")
IC1 = item("c", None, "1")


NEW_IN_B = [  # what b (9 November 2020) calls for that neither c (2019) nor a (September 2020) did
    (DOCUMENT_FACTS["b"][0], "2020-11-09", "13", kind, label, "1", v(kind, slug), f"{ID}document/fixture-b")
    for kind, slug, label in (("actor", "trade-union", "Trade unions"),
                              ("group", "stranded-migrant-workers", "Stranded migrant workers"),
                              ("group", "women-migrant-workers", "Women migrant workers"),
                              ("instrument", "sdg-8", "SDG 8: Decent work and economic growth"),
                              ("theme", "freedom-of-association", "Freedom of association and social dialogue"))
]
TOP_THEMES_A = [  # sub-theme 1: three themes tie at one recommendation each; sub-theme 2: two tie at two
    *[(DOCUMENT_FACTS["a"][0], "1", "Protecting health", label, "1", "2", v("theme", slug),
       f"{ID}document/fixture-a/subtheme/1", f"{ID}document/fixture-a")
      for slug, label in (("health-care", "Health care"), ("labour-standards", "Labour standards and decent work"),
                          ("social-protection", "Social protection"))],
    *[(DOCUMENT_FACTS["a"][0], "2", "Jobs and skills", label, "2", "2", v("theme", slug),
       f"{ID}document/fixture-a/subtheme/2", f"{ID}document/fixture-a")
      for slug, label in (("return-reintegration", "Return and reintegration"), ("skills", "Skills and training"))],
]


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
    # issue 19: who is addressed together (a pair of actors in IRI order)
    Case("actor-cooccurrence", rows=[
        ("Employers", "Government", "2", "2", v("actor", "employer"), v("actor", "government")),
        ("Employers", "International Labour Organization", "1", "1", v("actor", "employer"), v("actor", "ilo")),
    ]),
    Case("actor-cooccurrence", {"include_repeats": "false"}, count=2),
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
    Case("new-in-document", rows=[
        *[(DOCUMENT_FACTS["c"][0], "2019-10-30", "12", kind, label, "1", v(kind, slug), f"{ID}document/fixture-c")
          for kind, slug, label in (("actor", "employer", "Employers"), ("actor", "ilo", "International Labour "
                                    "Organization"), ("group", "families", "Families of migrant workers"),
                                    ("theme", "social-protection", "Social protection"))],
        *[(DOCUMENT_FACTS["a"][0], "2020-09-14", "13", kind, label, n, v(kind, slug), f"{ID}document/fixture-a")
          for kind, slug, label, n in (("actor", "government", "Government", "1"),
                                       ("group", "domestic-workers", "Domestic workers", "1"),
                                       ("group", "returnees", "Returnees", "2"),
                                       ("instrument", "ilo-c189", C189, "1"),
                                       ("theme", "health-care", "Health care", "1"),
                                       ("theme", "labour-standards", "Labour standards and decent work", "1"),
                                       ("theme", "return-reintegration", "Return and reintegration", "2"),
                                       ("theme", "skills", "Skills and training", "2"))],
        *NEW_IN_B,
    ]),
    Case("new-in-document", {"document": "fixture-b"}, rows=NEW_IN_B),
    Case("recommendations", {"document": "fixture-b"}, count=3),
    Case("recommendations", count=9),
    Case("recommendations", {"member_state": "Viet Nam"}, rows=[
        (f"{ID}document/fixture-c", "c.txt", None, None, "1", "1", TEXTS[("c", None, "1")]),
    ]),
    Case("recommendations", {"forum": "13"}, count=8),
    Case("recommendations", {"forum": "12", "member_state": "Cambodia"}, rows=[]),
    Case("recommendations", {"from": "2020-09-15"}, count=3),
    Case("recommendations", {"to": "2020-09-14"}, count=6),  # both bounds include the day itself
    Case("recommendations", {"include_repeats": "false", "document": "fixture-a"}, rows=[
        (f"{ID}document/fixture-a", "a.txt", s, SUBTHEME_TITLES[("a", s)], n, str(p), TEXTS[("a", s, n)])
        for s, n, p in (("1", "1", 1), ("1", "2", 2), ("2", "1", 3), ("2", "3", 5))
    ]),
    Case("recommendations-per-member-state-per-edition", rows=[
        (None, "13", "2020", "1", "3", None, f"{ID}forum/13"),  # the issuer of b is not stated
        ("Cambodia", "13", "2020", "1", "5", f"{ID}member-state/cambodia", f"{ID}forum/13"),
        ("Viet Nam", "12", "2019", "1", "1", f"{ID}member-state/viet-nam", f"{ID}forum/12"),  # no year for the 12th
    ]),
    Case("recommendations-per-member-state-per-edition", {"include_repeats": "false"}, rows=[
        (None, "13", "2020", "1", "3", None, f"{ID}forum/13"),
        ("Cambodia", "13", "2020", "1", "4", f"{ID}member-state/cambodia", f"{ID}forum/13"),
        ("Viet Nam", "12", "2019", "1", "1", f"{ID}member-state/viet-nam", f"{ID}forum/12"),
    ]),
    Case("recommendations-addressing-two-actors", {"actor_a": "government", "actor_b": "employer"}, rows=[IA12, IB1]),
    Case("recommendations-addressing-two-actors", {"actor_a": "government", "actor_b": "employer",
                                                   "member_state": "Cambodia"}, rows=[IA12]),
    Case("recommendations-addressing-two-actors", {"actor_a": "Government", "actor_b": "employers",
                                                   "document": "fixture-b", "forum": "13", "from": "2020-01-01",
                                                   "to": "2020-12-31"}, rows=[IB1]),
    Case("recommendations-addressing-two-actors", {"actor_a": "trade-union", "actor_b": "employer"}, rows=[]),
    Case("recommendations-addressing-two-actors", {"actor_a": "government", "actor_b": "employer",
                                                   "include_repeats": "false"}, rows=[IA12, IB1]),
    Case("recommendations-by-actor", {"actor": "employer"},
         rows=[said(IC1, "employers"), said(IA12, "employers"), said(IB1, "employers")]),  # by meeting date
    Case("recommendations-by-actor", {"actor": "employer", "forum": "12"}, rows=[said(IC1, "employers")]),
    Case("recommendations-by-actor", {"actor": "International Labour Organization", "include_repeats": "true"},
         rows=[said(IC1, "ILO"), said(IA11, "ILO")]),
    Case("recommendations-by-actor", {"actor": "employer", "member_state": "Cambodia", "document": "fixture-a",
                                      "from": "2020-01-01", "to": "2020-12-31"}, rows=[said(IA12, "employers")]),
    Case("recommendations-by-group", {"group": "returnees"},
         rows=[said(IA21, "returnees"), said(IA22, "returnees"), said(IB2, "returnees")]),
    Case("recommendations-by-group", {"group": "returnees", "include_repeats": "false"},
         rows=[said(IA21, "returnees"), said(IB2, "returnees")]),
    Case("recommendations-by-group", {"group": "returnees", "member_state": "KHM"},
         rows=[said(IA21, "returnees"), said(IA22, "returnees")]),
    Case("recommendations-by-group", {"group": "returnees", "document": "fixture-b", "forum": "13",
                                      "from": "2020-11-09", "to": "2020-11-09"}, rows=[said(IB2, "returnees")]),
    Case("recommendations-by-instrument", {"instrument": "ilo-c189"},
         rows=[said(IA12, "ILO C189"), said(IB1, "ILO C189")]),
    Case("recommendations-by-instrument", {"instrument": "ilo-c189", "to": "2020-09-14"},
         rows=[said(IA12, "ILO C189")]),
    Case("recommendations-by-instrument", {"instrument": "ilo-c189", "include_repeats": "false"},
         rows=[said(IA12, "ILO C189"), said(IB1, "ILO C189")]),
    Case("recommendations-by-instrument", {"instrument": "ilo-c189", "from": "2020-09-15",
                                           "member_state": "Cambodia"}, rows=[]),
    Case("recommendations-by-instrument", {"instrument": "ilo-c189", "document": "fixture-b", "forum": "13"},
         rows=[said(IB1, "ILO C189")]),
    Case("recommendations-by-member-state", {"member_state": "Cambodia"}, rows=[IA11, IA12, IA21, IA22, IA23]),
    Case("recommendations-by-member-state", {"member_state": "Cambodia", "include_repeats": "false"},
         rows=[IA11, IA12, IA21, IA23]),
    Case("recommendations-by-member-state", {"member_state": "Cambodia", "forum": "12"}, rows=[]),
    Case("recommendations-by-member-state", {"member_state": "Cambodia", "document": "fixture-a",
                                             "from": "2020-09-14", "to": "2020-09-14"},
         rows=[IA11, IA12, IA21, IA22, IA23]),
    Case("recommendations-by-member-state", {"member_state": "Vietnam"}, rows=[IC1]),
    Case("recommendations-by-theme", {"theme": "health-care"},
         rows=[said(IA11, "health care"), said(IB1, "health care")]),
    Case("recommendations-by-theme", {"theme": "social-protection"},
         rows=[said(IC1, "social protection"), said(IA11, "social protection")]),
    Case("recommendations-by-theme", {"theme": "social-protection", "member_state": "Viet Nam"},
         rows=[said(IC1, "social protection")]),
    Case("recommendations-by-theme", {"theme": "health-care", "forum": "13", "from": "2020-10-01"},
         rows=[said(IB1, "health care")]),
    Case("recommendations-by-theme", {"theme": "health-care", "to": "2020-10-01", "document": "fixture-a"},
         rows=[said(IA11, "health care")]),
    Case("recommendations-by-theme", {"theme": "theme:skills"},
         rows=[said(IA21, "reskilling"), said(IA22, "reskilling"), said(IB2, "reskilling")]),
    Case("recommendations-by-theme", {"theme": "theme:skills", "include_repeats": "false"},
         rows=[said(IA21, "reskilling"), said(IB2, "reskilling")]),
    Case("recommendations-without-theme", rows=[IA23]),
    Case("recommendations-without-theme", {"document": "fixture-b"}, rows=[]),
    Case("recommendations-without-theme", {"member_state": "Cambodia", "forum": "13", "from": "2020-09-14",
                                           "to": "2020-09-14", "include_repeats": "false"}, rows=[IA23]),
    # the fallback of the full-text index (the fixture has none): unranked (score empty), in date and document order
    Case("search-text", {"words": "RESKILLING"}, rows=[(None, *r) for r in (IA21, IA22, IB2)]),
    Case("search-text", {"words": "reskilling", "include_repeats": "false"}, rows=[(None, *r) for r in (IA21, IB2)]),
    Case("search-text", {"words": "C189 OR SDG", "forum": "13"}, rows=[(None, *r) for r in (IA12, IB1)]),
    Case("search-text", {"words": "employers ILO", "member_state": "Viet Nam"}, rows=[(None, *IC1)]),
    Case("search-text", {"words": "jobmatching", "document": "fixture-b", "from": "2020-10-01", "to": "2020-12-31"},
         rows=[(None, *IB2)]),
    Case("search-text", {"words": '"} UNION { ?recommendation ?p ?text } #'}, rows=[]),
    Case("similar-across-documents", {"min_score": "0.8"}, rows=[
        ("0.82", "a.txt", "2", "1", TEXTS[("a", "2", "1")], "b.txt", None, "2", TEXTS[("b", None, "2")]),
        ("0.82", "a.txt", "2", "2", TEXTS[("a", "2", "2")], "b.txt", None, "2", TEXTS[("b", None, "2")]),
    ]),
    Case("similar-across-documents", count=4),
    # recurrence links (fixture: a 1.1 with c 1, social protection with the ILO; a 1.1 with b 1, health care)
    Case("recurring-recommendations", rows=[
        ("0.41", DOCUMENT_FACTS["a"][0], "Cambodia", "1", "1", TEXTS[("a", "1", "1")], DOCUMENT_FACTS["c"][0],
         "Viet Nam", None, "1", TEXTS[("c", None, "1")], "International Labour Organization; Social protection",
         rec_iri("a", "1", "1"), rec_iri("c", None, "1"), f"{ID}link/recurrence/76d730c2ede1ddfce82f"),
        ("0.35", DOCUMENT_FACTS["a"][0], "Cambodia", "1", "1", TEXTS[("a", "1", "1")], DOCUMENT_FACTS["b"][0],
         None, None, "1", TEXTS[("b", None, "1")], "Health care",
         rec_iri("a", "1", "1"), rec_iri("b", None, "1"), f"{ID}link/recurrence/875e4434ffaa532fb103"),
    ]),
    Case("recurring-recommendations", {"min_score": "0.4"}, count=1),
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
    Case("theme-timeline", rows=[
        ("12", "2019", "Social protection", "1", "1", v("theme", "social-protection"), f"{ID}forum/12"),
        *[("13", "2020", label, n, docs, v("theme", slug), f"{ID}forum/13") for slug, label, n, docs in (
            ("return-reintegration", "Return and reintegration", "3", "2"), ("skills", "Skills and training", "3", "2"),
            ("health-care", "Health care", "2", "2"),
            ("freedom-of-association", "Freedom of association and social dialogue", "1", "1"),
            ("labour-standards", "Labour standards and decent work", "1", "1"),
            ("social-protection", "Social protection", "1", "1"))],
    ]),
    Case("theme-timeline", {"theme": "Social protection"}, rows=[
        ("12", "2019", "Social protection", "1", "1", v("theme", "social-protection"), f"{ID}forum/12"),
        ("13", "2020", "Social protection", "1", "1", v("theme", "social-protection"), f"{ID}forum/13"),
    ]),
    Case("theme-timeline", {"theme": "skills", "include_repeats": "false"}, rows=[
        ("13", "2020", "Skills and training", "2", "2", v("theme", "skills"), f"{ID}forum/13"),
    ]),
    Case("top-themes-per-subtheme", rows=[*TOP_THEMES_A, *[
        (DOCUMENT_FACTS["b"][0], None, None, label, "1", "3", v("theme", slug), None, f"{ID}document/fixture-b")
        for slug, label in (("freedom-of-association", "Freedom of association and social dialogue"),
                            ("health-care", "Health care"), ("return-reintegration", "Return and reintegration"),
                            ("skills", "Skills and training"))],
        (DOCUMENT_FACTS["c"][0], None, None, "Social protection", "1", "1", v("theme", "social-protection"), None,
         f"{ID}document/fixture-c"),
    ]),
    Case("top-themes-per-subtheme", {"document": "fixture-a"}, rows=TOP_THEMES_A),
]


def is_quality_violation(name: str) -> bool:
    """`*-violation` queries are the validator's checks (must return no rows), not competency questions."""
    return name.endswith("-violation")


@pytest.fixture(scope="session")
def fixture_store() -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(FIXTURES / "fixture.trig"), format=ox.RdfFormat.TRIG)
    return store


LISTS = {"shared_concepts", "evidence"}
"""Columns that join several values with "; " (GROUP_CONCAT), whose order SPARQL leaves to the engine: compared
as their sorted items, so that Virtuoso's order passes too (the embedded store's order is checked as given)."""


def as_set(value: str | None) -> str | None:
    return None if value is None else "; ".join(sorted(value.split("; ")))


def values(result: Result, *, lists_as_sets: bool = False) -> list[tuple[str | None, ...]]:
    lists = {i for i, column in enumerate(result.columns) if column in LISTS} if lists_as_sets else set()
    return [tuple(as_set(t.value) if t is not None and i in lists else t.value if t is not None else None
                  for i, t in enumerate(row)) for row in result.rows]


def ntriples(result: Result) -> set[str]:
    from aflm_graph.sparql.engine import to_graph

    return set(to_graph(result, "ntriples").splitlines())


def check(case: Case, result: Result, *, lists_as_sets: bool = False) -> None:
    """`result` gives the case's answer; `lists_as_sets` (a remote engine): a LISTS column in any order."""
    if case.boolean is not None:
        assert result.form == "ask" and result.boolean is case.boolean
    elif case.graph is not None:
        expected = set((FIXTURES / case.graph).read_text(encoding="utf-8").splitlines())
        got = ntriples(result)
        assert got == expected, f"missing {sorted(expected - got)}; unexpected {sorted(got - expected)}"
    elif case.rows is not None:
        if lists_as_sets:
            lists = {i for i, column in enumerate(result.columns) if column in LISTS}
            expected_rows = [tuple(as_set(v) if i in lists else v for i, v in enumerate(row)) for row in case.rows]
            assert values(result, lists_as_sets=True) == expected_rows
        else:
            assert values(result) == case.rows
    else:
        assert len(result.rows) == case.count


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_known_answer_on_the_fixture(case: Case, fixture_store: ox.Store) -> None:
    query = named_queries(QUERIES)[case.query]
    bindings = bindings_for(query, case.params)
    if query.extra.get("fulltext"):  # a text search without an index: the patterns bound as run() binds them
        bindings = search_build(query, bindings, None)[1]
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
# every instrument the seeds cite is in 002, whose issuer is not stated: its example instrument and the example
# member state (Cambodia) of the filters cannot hold together, so the required parameter alone must find rows
SEED_EXAMPLE_FILTERS_DISJOINT = {"recommendations-by-instrument"}


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
    if name in SEED_EXAMPLE_FILTERS_DISJOINT:
        required = {p.name: p.example for p in query.params if p.required}
        result = run(query, build=seed_build, params=required)
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
