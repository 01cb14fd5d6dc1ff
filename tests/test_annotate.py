"""The annotator: phrase variants, word boundaries, instrument patterns, precision, offsets and speed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aflm_graph.enrich.annotate import Mention, annotate, annotate_many, phrase_regex
from aflm_graph.terms.vocab import KINDS, Vocabulary, load_vocabulary

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def slugs(text: str, vocab: Vocabulary, kind: str | None = None) -> set[str]:
    return {m.concept.rsplit("/", 1)[1] for m in annotate(text, vocab) if kind is None or m.kind == kind}


@pytest.mark.parametrize(
    ("text", "kind", "slug"),
    [
        # plurals and simple inflections
        ("Regulate recruitment agencies.", "actor", "recruitment-agency"),
        ("A recruiting agency charged fees.", "actor", "recruitment-agency"),
        ("Consult trade unions.", "actor", "trade-union"),
        ("Consult workers' organisations.", "actor", "trade-union"),
        ("Consult workers’ organizations.", "actor", "trade-union"),
        ("with a worker organization", "actor", "trade-union"),
        ("Migrants detained by the police", "group", "detained-migrant-workers"),
        ("plans for all contingencies", "theme", "crisis-preparedness"),
        ("fishermen and fisherwomen", "group", "fishers"),
        ("salaries paid late", "theme", "wages"),
        ("families of migrant workers", "group", "families"),
        # spelling variants
        ("apply labor standards", "theme", "labour-standards"),
        ("migrant resource centers", "actor", "migrant-resource-centre"),
        ("legal counseling", "theme", "access-to-justice"),
        ("reintegration programs", "theme", "return-reintegration"),
        ("regularization of status", "theme", "immigration-status"),
        # hyphen, space and run-together variants
        ("job-matching services", "theme", "skills"),
        ("job matching services", "theme", "skills"),
        ("re-integration support", "theme", "return-reintegration"),
        ("healthcare for all", "theme", "health-care"),
        ("health-care for all", "theme", "health-care"),
        ("predeparture training", "theme", "labour-market-information"),
        ("help-desks in ports", "actor", "migrant-resource-centre"),
        # case, whitespace runs, line breaks
        ("SOCIAL   PROTECTION", "theme", "social-protection"),
        ("social\nprotection", "theme", "social-protection"),
        ("Ensure access to  justice", "theme", "access-to-justice"),
        # acronyms keep their case
        ("follow WHO guidance", "actor", "who"),
        ("through MRCs", "actor", "migrant-resource-centre"),
        ("apply CLS", "instrument", "ilo-core-labour-standards"),
        # other concepts, spot checks across the vocabularies
        ("ASEAN Member States should cooperate", "actor", "asean"),
        ("Employers should provide housing", "actor", "employer"),
        ("victims of trafficking in persons", "theme", "forced-labour-trafficking"),
        ("equal treatment with nationals", "theme", "non-discrimination"),
        ("support UN Women", "actor", "un-women"),
        ("migrant workers on their return", "group", "returnees"),
        ("regardless of their status", "group", "irregular-migrant-workers"),
        ("cross-border mobility", "theme", "safe-migration"),
    ],
)
def test_variants_are_found(vocab: Vocabulary, text: str, kind: str, slug: str) -> None:
    assert slug in slugs(text, vocab, kind), text


@pytest.mark.parametrize(
    ("text", "kind", "slug"),
    [
        ("In return for their work, ensure rights", "theme", "return-reintegration"),
        ("the right to return to work after illness", "theme", "return-reintegration"),
        ("share data with partners", "theme", "data"),
        ("workers who lose their jobs", "actor", "who"),
        ("Iloilo City and other ports", "actor", "ilo"),
        ("AMRC and CMRCs", "actor", "migrant-resource-centre"),
        ("the right to change employer", "actor", "employer"),
        ("adopt the employer pays principle", "actor", "employer"),
        ("migrant workers in ASEAN", "actor", "asean"),
        ("the ASEAN region", "actor", "asean"),
        ("support UN Women", "theme", "gender"),
        ("support UN Women", "group", "women-migrant-workers"),
        ("low-skilled workers", "theme", "skills"),
        ("unemployment in the region", "actor", "employer"),
        ("visage of the city", "theme", "immigration-status"),
        ("embankment works", "actor", "private-sector"),
        ("Ratify ILO Convention No. 189", "actor", "ilo"),
        ("the ASEAN Consensus", "actor", "asean"),
        ("social justice for all", "theme", "access-to-justice"),
        ("sexual orientation", "theme", "labour-market-information"),
        ("equal treatment of workers", "theme", "health-care"),
    ],
)
def test_no_false_hits(vocab: Vocabulary, text: str, kind: str, slug: str) -> None:
    assert slug not in slugs(text, vocab, kind), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ratify C189.", {"ilo-c189"}),
        ("Ratify C 189.", {"ilo-c189"}),
        ("Ratify C029 now", {"ilo-c29"}),
        ("Ratify Convention No. 189.", {"ilo-c189"}),
        ("Ratify ILO Convention 189.", {"ilo-c189"}),
        ("the ILO Convention No.189", {"ilo-c189"}),
        ("the Domestic Workers Convention, 2011 (No. 189)", {"ilo-c189"}),
        ("the Domestic Workers Convention", {"ilo-c189"}),
        ("the Work in Fishing Convention (C188)", {"ilo-c188"}),
        ("Promote ratification of C155 and C168 among ASEAN nations.", {"ilo-c155", "ilo-c168"}),
        ("ILO Conventions Nos. 87 and 98", {"ilo-c87", "ilo-c98"}),
        ("Conventions 97, 143 and 189", {"ilo-c97", "ilo-c143", "ilo-c189"}),
        ("Ratify C100 on equal remuneration", {"ilo-c100"}),
        ("Implement R205.", {"ilo-r205"}),
        ("ILO Recommendation No. 205", {"ilo-r205"}),
        ("Recommendation No. 201 on domestic work", {"ilo-r201"}),
        ("the Employment and Decent Work for Peace and Resilience Recommendation, 2017 (No. 205)", {"ilo-r205"}),
        ("Ratify P29.", {"ilo-p29"}),
        ("the Protocol of 2014 to the Forced Labour Convention", {"ilo-p29"}),
        ("SDG 8", {"sdg-8"}),
        ("SDG8 and SDG 10", {"sdg-8", "sdg-10"}),
        ("SDGs 8 and 10", {"sdg-8", "sdg-10"}),
        ("SDG 8 Decent work goals", {"sdg-8"}),
        ("Goal 8 on decent work", {"sdg-8"}),
        ("SDG target 8.8", {"sdg-8.8"}),
        ("SDG target 10.7.", {"sdg-10.7"}),
        ("Goal 10.7", {"sdg-10.7"}),
        ("SDG targets 8.7 and 8.8", {"sdg-8.7", "sdg-8.8"}),
        ("SDG 10.c on remittances", {"sdg-10.c"}),
        ("Target 10.7 of the 2030 Agenda", {"sdg-10.7", "agenda-2030"}),
        ("the Cebu Declaration", {"asean-declaration-migrant-workers"}),
        ("the ASEAN Consensus", {"asean-consensus"}),
        ("the ASEAN Declaration on Social Protection and Action Framework", {"asean-declaration-social-protection"}),
        ("the ASEAN Comprehensive Recovery Framework (ACRF)", {"asean-comprehensive-recovery-framework"}),
        ("the Global Compact for Migration (GCM)", {"gcm"}),
        ("core labour standards", {"ilo-core-labour-standards"}),
        ("ILO General Principles and Operational Guidelines for Fair Recruitment", {"ilo-fair-recruitment-guidelines"}),
    ],
)
def test_instruments_in_every_form(vocab: Vocabulary, text: str, expected: set[str]) -> None:
    assert slugs(text, vocab, "instrument") == expected


@pytest.mark.parametrize(
    "text",
    [
        "CEDAW General Recommendation No. 26 on women migrant workers",
        "as stated in Recommendation No. 5 of this document",
        "the 1990 Convention",
        "COVID-19 and C-19 measures",
        "growth of 8.8 per cent",
        "Goal 1: strengthen protection",
        "SDG indicator 10.7.1",
        "Section C 2020",
    ],
)
def test_no_false_instruments(vocab: Vocabulary, text: str) -> None:
    found = slugs(text, vocab, "instrument")
    assert not {s for s in found if s.startswith(("ilo-", "sdg-"))}, found


def test_one_mention_per_occurrence_and_merged_spans(vocab: Vocabulary) -> None:
    text = "Ratify the Domestic Workers Convention, 2011 (No. 189). C189 protects domestic workers."
    hits = [m for m in annotate(text, vocab) if m.kind == "instrument"]
    assert [m.evidence for m in hits] == ["Domestic Workers Convention, 2011 (No. 189)", "C189"]
    assert {m.concept for m in hits} == {vocab.iri("instrument", "ilo-c189")}
    assert [m.evidence for m in annotate(text, vocab) if m.kind == "group"] == ["Domestic Workers", "domestic workers"]


def test_longest_match_wins_within_a_kind(vocab: Vocabulary) -> None:
    hits = [m for m in annotate("portability of trade union membership", vocab) if m.kind == "theme"]
    assert [(m.evidence, m.concept.rsplit("/", 1)[1]) for m in hits] == [
        ("trade union membership", "freedom-of-association")
    ]


def test_kinds_overlap_but_names_compete(vocab: Vocabulary) -> None:
    found = {(m.kind, m.evidence) for m in annotate("violence against women migrant workers", vocab)}
    assert ("group", "women migrant workers") in found and ("theme", "violence against women") in found
    actors = slugs("Strengthen Occupational Safety and Health networks (OSH-NET)", vocab, "actor")
    assert actors == {"asean-osh-net"}
    assert slugs("the ILO Multilateral Framework on Labour Migration", vocab, "actor") == set()


def _seed_texts() -> list[str]:
    from aflm_graph.ingest.parse import parse_file

    return [r.text for p in sorted(SEEDS.glob("*.txt")) for r in parse_file(p).recommendations]


def test_offsets_and_order_on_the_seeds(vocab: Vocabulary) -> None:
    texts = _seed_texts()
    assert len(texts) == 47
    results = annotate_many(texts, vocab)
    assert results == [annotate(t, vocab) for t in texts]  # deterministic
    for text, mentions in zip(texts, results, strict=True):
        assert mentions == sorted(mentions)
        for m in mentions:
            assert text[m.start : m.end] == m.evidence
            assert m.kind in KINDS and m.concept.startswith(f"https://w3id.org/aflm/vocab/{m.kind}/")


def test_fast_mentions_are_mentions() -> None:
    from aflm_graph.enrich.annotate import _mention

    a, b = _mention(1, 5, "theme", "x", "abcd"), Mention(1, 5, "theme", "x", "abcd")
    assert (a == b, hash(a) == hash(b), repr(a) == repr(b), type(a)) == (True, True, True, Mention)
    assert sorted([Mention(2, 3, "a", "b", "c"), a]) == [a, Mention(2, 3, "a", "b", "c")]


def test_phrase_regex_is_documented_behaviour() -> None:
    import re

    rx = re.compile(phrase_regex("migrant worker resource centre"), re.IGNORECASE)
    for variant in (
        "Migrant Workers' Resource Centers",
        "migrant-worker resource-centres",
        "MIGRANT WORKER'S RESOURCE CENTRE",
    ):
        assert rx.fullmatch(variant), variant


# ----------------------------------------------------------------------------- property test

_VOCAB = load_vocabulary()
_TRIGGERS = sorted({t for c in _VOCAB for t in c.triggers} | {"C189", "SDG target 10.7", "in return for", "R205"})
_FILLER = st.text(alphabet=st.sampled_from(list("abcxyz ’'‘-–—\n\t.,;()éÉİß0123456789CRP")), max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_TRIGGERS), _FILLER), max_size=14))
def test_evidence_is_always_the_text_at_the_offsets(parts: list[str]) -> None:
    text = " ".join(parts)
    mentions = annotate(text, _VOCAB)
    assert mentions == sorted(mentions) == annotate(text, _VOCAB)
    for m in mentions:
        assert isinstance(m, Mention)
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.evidence
        assert m.kind in KINDS
    same = [(m.kind, m.concept) for m in mentions]
    for i, a in enumerate(mentions):
        for b in mentions[i + 1 :]:
            if (a.kind, a.concept) == (b.kind, b.concept):
                assert a.end <= b.start, (a, b)  # one concept's evidence spans never overlap
    assert len(same) == len(mentions)


# ----------------------------------------------------------------------------- many texts


def test_annotate_many_matches_annotate_text_by_text(vocab: Vocabulary) -> None:
    """The batch path (what the pipeline uses) gives exactly what annotating each text alone gives.

    Speed is measured by `make bench`, not asserted here.
    """
    import random

    words = " ".join(_seed_texts()).split()
    rng = random.Random(1)
    texts = [" ".join(words[s : s + 60]) for s in (rng.randrange(len(words) - 60) for _ in range(2000))]
    batch = annotate_many(texts, vocab)
    assert len(batch) == len(texts)
    assert sum(len(m) for m in batch) > 2000
    assert [list(m) for m in batch] == [annotate(t, vocab) for t in texts]


# --- issue 19: misses fixed in the vocabularies (Turtle), and the pandemic concept

@pytest.mark.parametrize(
    ("text", "kind", "slug"),
    [
        # Cambodia 1.3 and 1.8: the migrants who return home are the group
        ("covering support to stranded migrant workers and safe return to home communities", "group", "returnees"),
        ("Assist in return to communities of origin and implement reintegration programmes", "group", "returnees"),
        ("ensure their return to their country of origin", "group", "returnees"),
        # Cambodia 2.6: crisis as the scope of a duty
        ("agreements address responsibilities during crises", "theme", "crisis-preparedness"),
        ("agree on their roles in times of crisis", "theme", "crisis-preparedness"),
        # the pandemic concept, however COVID-19 is printed
        ("including those affected by COVID-19", "theme", "pandemic"),
        ("Provide Covid19 vaccines to all migrant workers", "theme", "pandemic"),
        ("the impact of the pandemic on migrant workers", "theme", "pandemic"),
    ],
)
def test_issue_19_misses_are_found(vocab: Vocabulary, text: str, kind: str, slug: str) -> None:
    assert slug in slugs(text, vocab, kind), text


@pytest.mark.parametrize(
    ("text", "kind", "slug"),
    [
        # a crisis named only as a reason or a time is not the theme (tests/data/gold/README.md)
        ("social services, given these are important in times of crisis", "theme", "crisis-preparedness"),
        ("accessible to all migrant workers, especially during crises", "theme", "crisis-preparedness"),
        # a pandemic named only as a time is not the theme; pandemic plans are crisis-preparedness
        ("zero recruitment fee for migrant workers, especially after the COVID-19", "theme", "pandemic"),
        ("support migrant workers during the pandemic", "theme", "pandemic"),
        ("ASEAN emergency and pandemic preparedness plans", "theme", "pandemic"),
        ("an ASEAN emergency and pandemic response plan", "theme", "pandemic"),
        # "return" that is not migrants going home
        ("the right to return to work after illness", "group", "returnees"),
        ("return to the in-person meeting", "group", "returnees"),
    ],
)
def test_issue_19_no_false_hits(vocab: Vocabulary, text: str, kind: str, slug: str) -> None:
    assert slug not in slugs(text, vocab, kind), text


def test_pandemic_plans_stay_crisis_preparedness(vocab: Vocabulary) -> None:
    assert "crisis-preparedness" in slugs("ASEAN emergency and pandemic preparedness plans", vocab, "theme")
    pandemic = vocab.by_slug("theme", "pandemic")
    assert pandemic.broader == (vocab.iri("theme", "crisis-preparedness"),)


def test_instruments_are_grouped_in_collections() -> None:
    from aflm_graph.terms.vocab import load_collections

    groups = {g.slug: g for g in load_collections()}
    assert {"ilo-conventions", "ilo-recommendations", "ilo-protocols", "sdgs", "asean-instruments"} <= set(groups)
    vocab = load_vocabulary()
    for group in groups.values():
        assert group.members and all(m in vocab.concepts for m in group.members), group.slug
    kinds = {vocab.concept(m).instrument_kind for m in groups["ilo-conventions"].members}
    assert kinds == {"convention"}
    assert vocab.iri("instrument", "ilo-c189") in groups["ilo-conventions"].members
    assert vocab.iri("instrument", "ilo-r201") in groups["ilo-recommendations"].members
    assert vocab.iri("instrument", "asean-consensus") in groups["asean-instruments"].members
    # every listed ILO convention is in the group (a new one must be added to it)
    listed = {c.iri for c in vocab.of_kind("instrument") if re.fullmatch(r"ilo-c\d+", c.slug)}
    assert listed == set(groups["ilo-conventions"].members)


# --- issue 19 item 7: trigger words in another sense (aflm:exclusionPattern and context patterns)

BLIND = Path(__file__).resolve().parent / "data" / "blind"


@pytest.mark.parametrize(
    ("text", "kind", "slug"),
    [
        # "lodging" a complaint or an appeal is a legal step, not housing
        ("Simplify the procedures for lodging an appeal against a deportation order", "theme", "housing"),
        ("free of charge, including the lodging of complaints and claims", "theme", "housing"),
        # "business" as a migrant's own enterprise, and a bank account, are not the private sector acting
        ("help returnees start their own businesses", "actor", "private-sector"),
        ("support returnees who set up small businesses", "actor", "private-sector"),
        ("business development services for returnees", "actor", "private-sector"),
        ("pay fishers' wages into bank accounts every month", "actor", "private-sector"),
        # the ILO as the author of what is cited, not an actor
        ("Ratify ILO Convention No. 189 on Domestic Workers", "actor", "ilo"),
        ("join the ILO's Fair Recruitment Initiative", "actor", "ilo"),
        ("the General Principles and Operational Guidelines for Fair Recruitment adopted by the ILO", "actor", "ilo"),
        ("Promote decent work in line with ILO standards", "actor", "ilo"),
        ("shore leave, as required by ILO maritime standards", "actor", "ilo"),
        ("the conventions of the ILO on migration", "actor", "ilo"),
        # ASEAN as the author of a named framework; the title of C181
        ("referencing to the ASEAN Qualifications Reference Framework", "actor", "asean"),
        ("Ratify ILO Convention No. 181 on Private Employment Agencies", "actor", "recruitment-agency"),
        # a pandemic named as a reason or a time
        ("migrant workers who come home because of the pandemic", "theme", "pandemic"),
        ("workers who lost their jobs during the COVID-19 pandemic", "theme", "pandemic"),
        ("services that closed due to COVID-19", "theme", "pandemic"),
        # skills shortages are labour demand; food handed out as relief is not living conditions
        ("vacancies and skills shortages in destination countries", "theme", "skills"),
        ("the distribution of food and emergency relief during lockdowns", "theme", "housing"),
        # inspectors of other services
        ("immigration inspectors at the border", "theme", "labour-standards"),
        # small businesses that employ migrant workers are employers, not entrepreneurship (held-out set)
        ("Support small businesses that employ migrant workers", "theme", "employment"),
        # a group's "detention of ..." leaves "children of migrant workers" free for the families
        ("End the detention of children of migrant workers", "group", "stranded-migrant-workers"),
    ],
)  # fmt: skip
def test_words_in_another_sense_do_not_fire(vocab: Vocabulary, text: str, kind: str, slug: str) -> None:
    assert slug not in slugs(text, vocab, kind), text


@pytest.mark.parametrize(
    ("text", "kind", "slug"),
    [
        # the true senses of the same words still fire
        ("Provide safe lodging and adequate food for migrant workers", "theme", "housing"),
        ("overcrowded lodgings of fishers", "theme", "housing"),
        ("The ILO should support national qualification frameworks", "actor", "ilo"),
        ("The ILO and IOM should continue to support the programme", "actor", "ilo"),
        ("with technical assistance from the ILO", "actor", "ilo"),
        ("the ILO's support to tripartite partners", "actor", "ilo"),
        ("ASEAN Member States should ratify the conventions", "actor", "asean"),
        ("ASEAN should develop a regional framework", "actor", "asean"),
        ("Regulate private employment agencies", "actor", "recruitment-agency"),
        ("Encourage banks to offer accounts without minimum balance", "actor", "private-sector"),
        ("Involve businesses and industry associations in training", "actor", "private-sector"),
        ("Provide COVID-19 vaccination free of charge", "theme", "pandemic"),
        ("the impact of the pandemic on migrant workers", "theme", "pandemic"),
        ("labour inspectors should check for such practices", "theme", "labour-standards"),
        # and the words now carry their sense into the right concept
        ("help returnees start their own business", "theme", "employment"),
        ("returnees and spouses who open family enterprises", "theme", "employment"),
        ("vacancies and skills shortages in destination countries", "theme", "labour-market-information"),
        ("the distribution of food and emergency relief during lockdowns", "theme", "social-protection"),
        ("Promote decent work in line with ILO standards", "theme", "labour-standards"),
        ("End the detention of children of migrant workers", "group", "families"),
        ("End the detention of children of migrant workers", "group", "detained-migrant-workers"),
        ("Businesses must not confiscate or retain the passports of workers", "theme", "forced-labour-trafficking"),
        # recall gaps the blind text showed
        ("lodge complaints after they have gone home", "group", "returnees"),
        ("so that their experience counts when they come back", "group", "returnees"),
        ("workers who are repatriated before their case is decided", "group", "returnees"),
        ("not reported to immigration authorities while the case is pending", "theme", "immigration-status"),
        ("Establish one-stop reintegration centres", "actor", "migrant-resource-centre"),
        ("workers who could not leave the country", "group", "stranded-migrant-workers"),
        ("Require vessel owners to pay wages monthly", "actor", "employer"),
        ("Coordinate among port states and flag states", "actor", "government"),
        ("Coordinate among port states and flag states", "theme", "regional-cooperation"),
        ("a regional database of fishing vessels", "theme", "data"),
        ("compensation for workplace injuries", "theme", "occupational-safety-health"),
        ("interpretation in the languages of migrant workers", "theme", "information-awareness"),
        ("joint monitoring of recruitment in the palm oil sector", "group", "agricultural-workers"),
    ],
)  # fmt: skip
def test_words_in_their_own_sense_fire(vocab: Vocabulary, text: str, kind: str, slug: str) -> None:
    assert slug in slugs(text, vocab, kind), text


def test_businesses_holding_passports_stay_private_sector(vocab: Vocabulary) -> None:
    # Decision (docs/design.md): a business that confiscates its workers' passports acts as their
    # employer, but nothing in the words says so; the vocabulary does not guess roles from verbs, so
    # "businesses" stays the private sector here (one known disagreement with the blind gold).
    text = "Businesses must not confiscate or retain the passports of migrant workers."
    assert "private-sector" in slugs(text, vocab, "actor")


def test_an_exclusion_drops_only_the_overlapping_match(vocab: Vocabulary) -> None:
    text = "Lodging an appeal is free; lodging for migrant workers must be decent."
    housing = [m for m in annotate(text, vocab) if m.concept == vocab.iri("theme", "housing")]
    assert [(m.start, m.evidence) for m in housing] == [(text.index("lodging for"), "lodging")]


# Measured on tests/data/blind (66 recommendations written before the vocabularies were tuned on
# them; docs/design.md): before the fixes P 0.881 R 0.776 F1 0.825, after P 0.949 R 0.941 F1 0.945.
# The floors leave a margin of about two concepts either way; reverting the fixes fails them.
BLIND_FLOOR = {"precision": 0.93, "recall": 0.92}


def test_precision_on_text_written_blind(vocab: Vocabulary) -> None:
    from aflm_graph.enrich.evaluate import evaluate

    scores = evaluate(sorted(BLIND.glob("*.gold.yaml")), vocab, documents_dir=BLIND)
    assert scores.recommendations >= 60
    assert scores.overall.precision >= BLIND_FLOOR["precision"], scores.overall
    assert scores.overall.recall >= BLIND_FLOOR["recall"], scores.overall
    # none of the wrong-sense false positives measured before the fixes is left
    measured = {("housing", "lodging"), ("ilo", "ILO"), ("ilo", "ILO's"), ("asean", "ASEAN"),
                ("recruitment-agency", "Private Employment Agencies"), ("pandemic", "pandemic"),
                ("private-sector", "bank"), ("skills", "skills"), ("housing", "food")}  # fmt: skip
    left = [d for d in scores.differences if d.error == "fp" and any((d.slug, e) in measured for e in d.evidence)]
    assert not left, left


def test_held_out_set_does_not_regress(vocab: Vocabulary) -> None:
    # tests/data/blind/holdout: written after the tuning, never tuned on (docs/design.md); measured
    # P 0.904 R 0.781 (0.890 / 0.760 with the vocabularies before issue 19 item 7)
    from aflm_graph.enrich.evaluate import evaluate

    folder = BLIND / "holdout"
    scores = evaluate(sorted(folder.glob("*.gold.yaml")), vocab, documents_dir=folder)
    assert scores.recommendations >= 30
    assert scores.overall.precision >= 0.88, scores.overall
    assert scores.overall.recall >= 0.75, scores.overall
