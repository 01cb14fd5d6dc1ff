"""The parser: seed structure from the real files, tricky layouts from small fixtures, bad inputs."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aflm_graph.ingest.parse import (
    MAX_FILE_BYTES,
    Document,
    DocumentMeta,
    ParseError,
    canonical_member_state,
    parse_file,
    parse_text,
    read_meta,
    sidecar_path,
    slugify,
)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_000 = SEEDS / "000_c29556925cd8fb24.txt"
SEED_002 = SEEDS / "002_71c0a65de23b0458.txt"
FIXTURES = Path(__file__).resolve().parent / "data" / "parse"
FIXTURE_FILES = sorted(FIXTURES.glob("*.txt"))


def parse(text: str, *, meta: DocumentMeta | None = None, name: str = "t.txt") -> Document:
    return parse_text(text, source_file=name, sha256="0" * 64, meta=meta)


def texts(doc: Document) -> list[str]:
    return [r.text for r in doc.recommendations]


def check_spans(doc: Document) -> None:
    """Each span starts at the printed label and ends on the item's last non-space character."""
    previous_end = 0
    for rec in doc.recommendations:
        start, end = rec.span.start, rec.span.end
        assert previous_end <= start < end <= len(doc.text), rec
        assert doc.text[start:end].lstrip("(").startswith(rec.label), (rec, doc.text[start : start + 10])
        assert not doc.text[end - 1].isspace(), rec
        assert doc.text[end:].split("\n", 1)[0].strip() == "" or doc.text[end] in "\r\n\f", rec
        previous_end = end


# --------------------------------------------------------------------------- the seeds


@pytest.fixture(scope="module")
def seed000() -> Document:
    return parse_file(SEED_000)


@pytest.fixture(scope="module")
def seed002() -> Document:
    return parse_file(SEED_002)


def test_seed_000_structure(seed000: Document) -> None:
    assert len(seed000.recommendations) == 26
    assert [(s.label, s.title) for s in seed000.subthemes] == [
        ("1", "Impact of COVID-19 on migrant workers and responses in ASEAN"),
        ("2", "Inclusive and responsive labour migration policy for future preparedness in ASEAN"),
    ]
    assert [(r.subtheme, r.label) for r in seed000.recommendations] == [("1", str(n)) for n in range(1, 12)] + [
        ("2", str(n)) for n in range(1, 16)
    ]
    assert [r.position for r in seed000.recommendations] == list(range(1, 27))
    assert all(s.preamble is None for s in seed000.subthemes)
    check_spans(seed000)


def test_seed_000_metadata(seed000: Document) -> None:
    d = seed000
    assert d.title == "Cambodia National Recommendations for the 13th ASEAN Forum on Migrant Labour"
    assert (d.date, d.member_state, d.issuer, d.forum_edition) == ("2020-09-14", "Cambodia", "Cambodia", 13)
    assert d.theme == "Supporting migrant workers during the pandemic for a Cohesive and Responsive ASEAN Community"
    # The closing line states place and mode ("... at Phnom Penh, Cambodia, and online").
    assert d.closing == ("The meeting was held on 14 September 2020 at Phnom Penh, Cambodia, and online.",)
    assert (d.place, d.mode) == ("Phnom Penh, Cambodia", "hybrid")
    assert d.source and "Cambodia" in d.source
    assert d.id == "000_c29556925cd8fb24"
    assert d.source_file == SEED_000.name
    assert d.sha256 == hashlib.sha256(SEED_000.read_bytes()).hexdigest()
    assert d.text == SEED_000.read_text(encoding="utf-8")
    assert d.source_format == "text"
    assert d.notes == ()


def test_seed_000_texts(seed000: Document) -> None:
    rec = {(r.subtheme, r.label): r.text for r in seed000.recommendations}
    assert rec[("1", "2")] == (
        "Disseminate information and awareness raising in the migrant language through methods that are "
        "accessible to all migrant workers, ensuring a \u2018firewall\u2019 between information services and "
        "immigration enforcement."
    )
    assert rec[("1", "1")].startswith("Extend affordable healthcare benefits, including free access to COVID -19 ")
    assert rec[("2", "1")].startswith("Collect and analyse comprehensive confidential and secure sex- and age-")
    assert rec[("2", "2")] == (
        "Ensure workplaces and employer-provided and -facilitated housing follow labour standards and OSH and "
        "WHO safety guidance, including for live-in domestic workers"
    )
    assert rec[("2", "9")] == (
        "Ensure access to justice, including cross-border mechanisms to ensure compensation for migrant "
        "workers, especially for non-payment of wage."
    )
    assert rec[("2", "10")] == (
        "Strengthen policies and programmes for return and repatriation, and reintegration programmes and services."
    )
    assert rec[("2", "11")] == (
        "Encourage private recruitment agencies and governments to take necessary steps to legislate and ensure "
        "implementation of fair recruitment including zero recruitment fee for migrant workers, especially "
        "after the COVID-19."
    )
    assert rec[("2", "12")] == (
        "Address physical and mental health risks of migrant workers, including those affected by COVID-19, "
        "and ensure migrant workers' access to medical services free of charge."
    )
    # Items 13-15 repeat items 9-11 word for word, under their own labels.
    for a, b in (("13", "9"), ("14", "10"), ("15", "11")):
        assert rec[("2", a)] == rec[("2", b)]
    assert rec[("2", "13")] == (
        "Ensure access to justice, including cross-border mechanisms to ensure compensation for migrant "
        "workers, especially for non-payment of wage."
    )
    assert all("The meeting was held" not in t for t in rec.values())


def test_seed_002_structure(seed002: Document) -> None:
    assert len(seed002.recommendations) == 21
    assert [(s.label, s.title) for s in seed002.subthemes] == [
        ("1", "Impact of COVID-19 on migrant workers and responses in ASEAN"),
        ("2", "Cohesive and responsive labour migration policy for future preparedness in ASEAN"),
    ]
    assert [(r.subtheme, r.label) for r in seed002.recommendations] == [("1", str(n)) for n in range(1, 14)] + [
        ("2", str(n)) for n in range(14, 22)
    ]
    preamble = "To address sub-theme 2, the following should be part of the responses, which should be time-bound."
    assert seed002.subthemes[0].preamble is None
    assert seed002.subthemes[1].preamble == preamble
    assert all("To address" not in t for t in texts(seed002))
    check_spans(seed002)


def test_seed_002_metadata(seed002: Document) -> None:
    d = seed002
    assert (d.date, d.mode, d.issuer, d.member_state, d.forum_edition) == ("2020-11-09", "online", "unknown", None, 13)
    assert d.title is None  # the text prints the forum theme, not a title; nothing is guessed
    assert d.theme == "Supporting migrant workers during the pandemic for a Cohesive and Responsive ASEAN Community"
    assert d.place is None
    assert d.closing == ("The meeting was held online on 9 November 2020.",)


def test_seed_002_texts(seed002: Document) -> None:
    rec = {r.label: r.text for r in seed002.recommendations}
    assert rec["4"] == (
        "Ensure migrant workers easy access to justice and legal remedy, welfare assistance, income support and "
        "other forms of assistance in both their host and home countries. Strengthen migrant workers\u2019 resource "
        "centers; establish accessible platform-based Help Desks; and capacitate and enable trade unions and civil "
        "society organizations to provide direct counselling and legal or other assistance to migrant workers "
        "through the resource centers."
    )
    assert rec["10"] == (
        "Ensure safety and security of workplaces. Formulate and implement holistic and gender-sensitive Safe "
        "Work and Safe Business Guidelines to prevent, minimize, contain, control and manage risks to workers\u2019 "
        "personal safety and health and avoid hostile working situation to prevent violence against women "
        "workers. These should cover humane and reasonable accommodations within or near work premises; safe "
        "public transport systems to ensure workers\u2019 mobility in going to and from their workplace; preventive "
        "and protective measures within workplaces including redesign of production or work processes consistent "
        "with all health protocols issued by the proper authorities; accessible, affordable and reliable medical, "
        "psycho-social and related interventions, including testing, contact tracing, counselling and management "
        "of mental stress and health issues"
    )
    # Sub-items whose bullet glyph was lost: joined to the lead-in with a space, to each other with "; ".
    assert rec["16"] == (
        "Accelerate, pursuant to the ASEAN Declaration on Social Protection and Action Framework, the effective "
        "realization of Universal Health Coverage (UHC) or health care systems accessible to all migrant workers "
        "by strengthening national capacities to assess and manage health systems to support UHC, as well as "
        "conduct of actual national assessments by experts with participation of stakeholders; implementing "
        "responsive and coordinated projects and activities toward UHC, with the involvement of other ASEAN "
        "sectoral bodies, including the ASEAN+3 Network on Universal Health Coverage"
    )
    # ... but no "; " after a sub-item that already ends in "and".
    assert rec["17"] == (
        "Accelerate, likewise pursuant to the ASEAN Declaration on Social Protection and Action Framework, the "
        "effective realization of social protection for all by building on the study on portability of social "
        "security rights in ASEAN Member States, and developing a framework on portable social security rights "
        "in ASEAN Member States through social dialogue and stakeholder participation"
    )
    assert rec["21"] == (
        "Strengthen governance of migrant workers and labour migration in the new normal, particularly using "
        "digital platforms."
    )
    assert rec["6"].startswith("Provide counselling and technical assistance on re-integration programs")


def test_seeds_no_words_invented() -> None:
    """Every word of every recommendation occurs in the source (nothing invented)."""
    for path in (SEED_000, SEED_002):
        doc = parse_file(path)
        source_words = set(re.findall(r"[\w’'+-]+", doc.text))
        for rec in doc.recommendations:
            for word in re.findall(r"[\w’'+-]+", rec.text):
                assert word in source_words or "-" in word, (path.name, rec.label, word)


def test_seed_sidecars_are_valid() -> None:
    sidecars = sorted(SEEDS.glob("*.meta.toml"))
    assert len(sidecars) >= 2
    meta = read_meta(SEED_002)
    assert (meta.issuer, meta.forum_edition, meta.date, meta.mode) == ("unknown", 13, None, None)
    assert read_meta(SEED_000).source is not None
    assert sidecar_path(SEED_000).name == "000_c29556925cd8fb24.txt.meta.toml"


# --------------------------------------------------------------------------- fixtures (glob-driven)


def test_fixtures_found() -> None:
    assert len(FIXTURE_FILES) > 0
    for path in FIXTURE_FILES:
        assert path.with_suffix(".expected.json").is_file(), path


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
def test_fixture(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    doc = parse_file(path)
    assert [{"subtheme": r.subtheme, "label": r.label, "text": r.text} for r in doc.recommendations] == expected[
        "recommendations"
    ]
    assert [{"label": s.label, "title": s.title, "preamble": s.preamble} for s in doc.subthemes] == expected[
        "subthemes"
    ]
    for key, value in expected["document"].items():
        got = getattr(doc, key)
        assert (list(got) if isinstance(got, tuple) else got) == value, key
    check_spans(doc)


def test_fixture_line_ends_are_what_they_claim() -> None:
    assert b"\r\n" in (FIXTURES / "crlf.txt").read_bytes()
    cr = (FIXTURES / "cr.txt").read_bytes()
    assert b"\r" in cr and b"\n" not in cr
    assert (FIXTURES / "bom.txt").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\f" in (FIXTURES / "page-furniture.txt").read_bytes()
    assert "\u00a0" in (FIXTURES / "nbsp-tabs.txt").read_text(encoding="utf-8")


def test_bom_is_not_in_text_and_spans_still_match() -> None:
    doc = parse_file(FIXTURES / "bom.txt")
    assert not doc.text.startswith("\ufeff")
    assert doc.text[doc.recommendations[0].span.start :].startswith("1. Ensure")


def test_crlf_spans_use_the_file_line_ends() -> None:
    doc = parse_file(FIXTURES / "crlf.txt")
    rec = doc.recommendations[0]
    assert doc.text[rec.span.start : rec.span.end] == "1. Ensure access to\r\nvaccines."


def test_utf16_with_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes("1. Ensure access to\nvaccines.\n".encode("utf-16"))
    assert texts(parse_file(path)) == ["Ensure access to vaccines."]


# --------------------------------------------------------------------------- layout rules


@pytest.mark.parametrize(
    ("printed", "iso"),
    [
        ("14 September 2020", "2020-09-14"),
        ("9 November 2020", "2020-11-09"),
        ("2020-09-14", "2020-09-14"),
        ("September 14, 2020", "2020-09-14"),
        ("14th September 2020", "2020-09-14"),
        ("Sept. 14, 2020", "2020-09-14"),
        ("31 February 2020", None),
    ],
)
def test_dates(printed: str, iso: str | None) -> None:
    assert parse(f"Viet Nam National Recommendations\n{printed}\n\n1. Do it.\n").date == iso


@pytest.mark.parametrize(
    ("title", "state"),
    [
        ("Cambodia National Recommendations", "Cambodia"),
        ("Viet Nam National Recommendations", "Viet Nam"),
        ("Vietnam's Recommendations to the 13th AFML", "Vietnam"),
        ("Recommendations of the Philippines", "Philippines"),
        ("Recommendations of the Government of Thailand", "Thailand"),
        ("Lao PDR National Recommendations", "Lao PDR"),
        ("Laos Country Report", "Laos"),
        ("Brunei Darussalam Statement", "Brunei Darussalam"),
        ("Recommendations of the 13th AFML hosted by Viet Nam", None),  # the forum's own: regional (issue 20)
        ("Recommendations for migrant workers in Malaysia", None),
        ("Recommendations of the National Preparatory Meeting of Indonesia", "Indonesia"),
        ("Viet Nam National Tripartite Workshop: Recommendations", "Viet Nam"),
        ("Recommendations of the National Consultation held in Vientiane, Lao PDR", "Lao PDR"),
        ("Recommendations, 10th ASEAN Forum on Migrant Labour, Manila, Philippines", None),
    ],
)
def test_member_state_as_issuer(title: str, state: str | None) -> None:
    doc = parse(f"{title}\n\n1. Do it.\n")
    assert doc.member_state == state
    regional = "AFML" in title or "ASEAN Forum" in title
    assert doc.issuer == (state or ("ASEAN Forum on Migrant Labour" if regional else "unknown"))
    assert doc.reading.issuer_reason


def test_canonical_member_state() -> None:
    assert canonical_member_state("Vietnam") == "Viet Nam"
    assert canonical_member_state("the Philippines") == "Philippines"
    assert canonical_member_state("Laos") == "Lao PDR"
    assert canonical_member_state("Atlantis") is None


@pytest.mark.parametrize(
    ("statement", "place", "mode"),
    [
        ("The meeting was held online on 9 November 2020.", None, "online"),
        (
            "The meeting was held on 14 September 2020 at Phnom Penh, Cambodia, and online.",
            "Phnom Penh, Cambodia",
            "hybrid",
        ),
        ("The meeting was held in Hanoi on 20 October 2020.", "Hanoi", "in person"),
        ("The forum was convened in a hybrid format on 20 October 2020.", None, "hybrid"),
    ],
)
def test_place_and_mode_from_closing_statement(statement: str, place: str | None, mode: str) -> None:
    doc = parse(f"1. Do it.\n\n{statement}\n")
    assert (doc.place, doc.mode) == (place, mode)
    assert doc.closing == (statement,)
    assert texts(doc) == ["Do it."]


def test_closing_statement_without_blank_line_after_a_sentence() -> None:
    doc = parse("1. Do it.\n2. Do that.\nThe meeting was held online on 9 November 2020.\n")
    assert texts(doc) == ["Do it.", "Do that."]
    assert doc.closing == ("The meeting was held online on 9 November 2020.",)
    assert (doc.date, doc.mode) == ("2020-11-09", "online")


def test_closing_statement_after_an_item_without_final_period() -> None:
    doc = parse("1. Do it\n2. Do that\n\nAdopted in Bangkok on 3 March 2021.\n")
    assert texts(doc) == ["Do it", "Do that"]
    assert doc.closing == ("Adopted in Bangkok on 3 March 2021.",)
    assert (doc.place, doc.date) == ("Bangkok", "2021-03-03")


def test_follow_on_paragraph_after_last_item_is_not_a_closing_statement() -> None:
    doc = parse("1. Do it.\n2. Do that.\n\nThese should cover all workers.\n")
    assert texts(doc) == ["Do it.", "Do that. These should cover all workers."]
    assert doc.closing == ()


def test_statement_in_the_middle_stays_in_its_item() -> None:
    doc = parse("1. Do it.\n\nThe meeting was held online.\n\n2. Do that.\n")
    assert texts(doc) == ["Do it. The meeting was held online.", "Do that."]
    assert doc.closing == ()


@pytest.mark.parametrize(
    ("broken", "joined"),
    [
        ("gender-\nsensitive", "gender-sensitive"),
        ("time-\nbound", "time-bound"),
        ("re-\nintegration", "re-integration"),
        ("recruit-\nment", "recruitment"),
        ("migra-\ntion", "migration"),
        ("train-\nings", "trainings"),
        ("COVID-\n19", "COVID-19"),
        ("ASEAN-\nJapan", "ASEAN-Japan"),
        ("recruit\u00ad\nment", "recruitment"),
        ("COVID -19", "COVID -19"),
        # neither fragment is a word on its own: a word broken at a syllable
        ("inspec-\ntorates", "inspectorates"),
        ("inclu-\nding", "including"),
        ("house-\nhold", "household"),
        ("inspec-\n\ntorates", "inspectorates"),  # blank-line noise between the lines
        # a fragment that forms compounds keeps the hyphen
        ("self-\nemployed", "self-employed"),
        ("well-\nbeing", "well-being"),
        ("evidence-\nbased", "evidence-based"),
        ("e-\nlearning", "e-learning"),
    ],
)
def test_hyphenation_rule(broken: str, joined: str) -> None:
    assert texts(parse(f"1. Support {broken} work.\n")) == [f"Support {joined} work."]


def test_hyphenation_follows_the_documents_own_spelling() -> None:
    doc = parse("1. Build a rights-based approach.\n2. Apply a rights-\nbased and people-\ncentred plan.\n")
    assert texts(doc)[1] == "Apply a rights-based and people-centred plan."
    doc = parse("1. Support partici-\npation of workers.\n2. Ensure participation.\n")
    assert texts(doc)[0] == "Support participation of workers."
    # Both spellings written elsewhere: ambiguous, the printed hyphen stays.
    doc = parse("1. Fund re-integration and reintegration.\n2. Plan re-\nintegration.\n")
    assert texts(doc)[1] == "Plan re-integration."


def test_a_fragment_the_document_writes_as_a_word_keeps_the_hyphen() -> None:
    doc = parse("1. Visit every house.\n2. Support house-\nhold workers.\n")
    assert texts(doc)[1] == "Support house-hold workers."  # ambiguous: the printed hyphen stays
    doc = parse("1. Hold talks.\n2. Support house-\nhold workers.\n")
    assert texts(doc)[1] == "Support house-hold workers."
    doc = parse("1. Support house-\nhold workers.\n2. Visit homes.\n")
    assert texts(doc)[0] == "Support household workers."


def test_running_header_repeated_three_times_without_form_feeds() -> None:
    header = "AFML 2020 | National Recommendations"
    body = "\n".join(
        [
            header,
            "1. Provide free testing",
            "to all workers.",
            header,
            "2. Ensure safe",
            header,
            "repatriation.",
            "3. Protect workers.",
        ]
    )
    doc = parse(body + "\n")
    assert texts(doc) == ["Provide free testing to all workers.", "Ensure safe repatriation.", "Protect workers."]


def test_header_on_two_pages_is_furniture_but_repeated_text_is_not() -> None:
    doc = parse("Header line\n1. Provide testing.\n2. Repatriate\n\fHeader line\nstranded workers.\n")
    assert texts(doc) == ["Provide testing.", "Repatriate stranded workers."]
    # The same line twice mid-page (not at a page edge) is content.
    doc = parse("1. Provide testing\nfor all.\n2. Repatriate workers\nfor all.\n")
    assert texts(doc) == ["Provide testing for all.", "Repatriate workers for all."]


def test_a_line_repeated_only_inside_items_is_text_not_a_running_header() -> None:
    line = "Allocate adequate resources and report on progress at the next ASEAN Forum on"
    body = "".join(
        f"{n}. {lead}\n{line}\nMigrant Labour{tail}.\n"
        for n, lead, tail in [
            (1, "Fund fair recruitment.", ""),
            (2, "Protect fishers.", ", without delay"),
            (3, "Extend social protection.", ", as a matter of priority"),
        ]
    )
    doc = parse("Recommendations of Cambodia\n\n" + body)
    assert all(line in text for text in texts(doc))
    # At the top of two of six pages it does not run through the document: still text.
    pages = [
        "1. Fund fair recruitment.\n",
        f"{line}\nMigrant Labour.\n2. Protect fishers.\n",
        "3. Hire inspectors.\n4. Extend social protection.\n",
        f"{line}\nMigrant Labour, without delay.\n5. Train officials.\n",
        "6. Fund shelters.\n",
        "7. Report yearly.\n",
    ]
    doc = parse("\f".join(pages))
    assert [line in text for text in texts(doc)] == [True, False, False, True, False, False, False]


def test_running_header_after_page_number_lines_without_form_feeds() -> None:
    doc = parse(
        "AFML 2020 | Thailand\n1. Provide free testing\nPage 1\nAFML 2020 | Thailand\nto all workers.\n"
        "2. Ensure safe\n- 2 -\nAFML 2020 | Thailand\nrepatriation.\n"
    )
    assert texts(doc) == ["Provide free testing to all workers.", "Ensure safe repatriation."]


def test_synthetic_fixture_marker_is_recorded_not_taken_for_the_title() -> None:
    marker = "SYNTHETIC TEST FIXTURE — generated by aflm-graph synth (seed 3)"
    doc = parse(f"{marker}\nNational statement of Malaysia\n\n1. Do it.\n")
    assert (doc.synthetic, doc.title, doc.preamble) == (True, "National statement of Malaysia", None)
    doc = parse(f"{marker}\n\nOutcome notes\n\n1. Do it.\n")
    assert (doc.synthetic, doc.title) == (True, "Outcome notes")
    doc = parse("Outcome notes\n\n1. Do it.\n")
    assert (doc.synthetic, doc.title) == (False, "Outcome notes")


def test_nested_roman_and_letter_i_sequences() -> None:
    doc = parse("1. Do the following:\ni) first;\nii) second.\n2. Next.\n")
    assert texts(doc) == ["Do the following: i) first; ii) second.", "Next."]
    letters = "abcdefghij"
    doc = parse("".join(f"{c}) Item {c}.\n" for c in letters))
    assert [r.label for r in doc.recommendations] == list(letters)


def test_lettered_list_with_nested_numbers() -> None:
    doc = parse("a) Ratify:\n1. C189;\n2. C190.\nb) Implement.\n")
    assert [(r.label, r.text) for r in doc.recommendations] == [("a", "Ratify: 1. C189; 2. C190."), ("b", "Implement.")]


def test_dash_bullets_join_with_semicolons() -> None:
    doc = parse("1. Provide:\n- health care\n- housing\n- legal aid\n2. Next.\n")
    assert texts(doc) == ["Provide: health care; housing; legal aid", "Next."]


def test_heading_alone_takes_title_from_next_line() -> None:
    doc = parse("Sub-theme 1:\nHealth and safety\n\n1. Do it.\n")
    assert [(s.label, s.title) for s in doc.subthemes] == [("1", "Health and safety")]


def test_wrapped_heading_then_preamble_without_blank_line() -> None:
    doc = parse(
        "Sub-theme 1: Inclusive and responsive labour migration policy for future preparedness in\n"
        "ASEAN\n"
        "The participants recommend the following measures.\n"
        "1. Do it.\n"
    )
    assert doc.subthemes[0].title == "Inclusive and responsive labour migration policy for future preparedness in ASEAN"
    assert doc.subthemes[0].preamble == "The participants recommend the following measures."


def test_subtheme_span_covers_heading_to_last_item() -> None:
    doc = parse_file(SEED_002)
    first, second = doc.subthemes
    assert first.span is not None and second.span is not None
    assert doc.text[first.span.start :].startswith("Sub-Theme 1:")
    assert first.span.end == doc.recommendations[12].span.end
    assert second.span.end == doc.recommendations[-1].span.end


def test_text_wins_over_sidecar_and_sidecar_fills_gaps() -> None:
    meta = DocumentMeta(
        id="my-doc", title="Curated title", date="2020-01-01", place="Jakarta", issuer="ASEAN Secretariat", source="x"
    )
    doc = parse("1. Do it.\n\nThe meeting was held online on 9 November 2020.\n", meta=meta)
    assert (doc.id, doc.title, doc.date, doc.place, doc.issuer, doc.mode) == (
        "my-doc",
        "Curated title",
        "2020-11-09",
        "Jakarta",
        "ASEAN Secretariat",
        "online",
    )
    assert doc.source == "x"
    assert any("date" in note for note in doc.notes)


def test_document_id_is_a_slug_of_the_file_stem() -> None:
    assert parse("1. Do it.\n", name="My Doc (v2).txt").id == "my-doc-v2"
    assert slugify("***") == "document"
    assert re.fullmatch(r"[a-z0-9_-]+", slugify("Recommandations_Été 2020"))


def test_ten_thousand_items_parse() -> None:
    text = "Sub-theme 1: Scale\n\n" + "".join(
        f"{n}. Ensure access to justice and legal remedy for migrant workers number {n}, in line with\n"
        f"the ASEAN Consensus and gender-\nsensitive plans.\n"
        for n in range(1, 10_001)
    )
    doc = parse(text)  # speed is measured by `make bench`, not asserted in unit tests
    assert len(doc.recommendations) == 10_000
    assert doc.recommendations[-1].text.endswith("ASEAN Consensus and gender-sensitive plans.")


def test_long_unlabelled_text_stays_in_its_item() -> None:
    text = "1. Start.\n" + "continued words without any label at all\n" * 50_000
    doc = parse(text)
    assert len(doc.recommendations) == 1
    assert doc.recommendations[0].text.count("continued words") == 50_000


def test_parse_module_does_not_import_rdf_libraries() -> None:
    code = "import sys, aflm_graph.ingest.parse; print([m for m in ('rdflib', 'pyoxigraph') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- bad inputs


def assert_error(exc: pytest.ExceptionInfo[ParseError], name: str, line: int, *fragments: str) -> None:
    message = str(exc.value)
    assert name in message, message
    assert f":{line}:" in message, message
    assert "expected" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_empty_file(tmp_path: Path) -> None:
    for content in (b"", b"  \n\n\t\n", b"\xef\xbb\xbf"):
        path = tmp_path / "empty.txt"
        path.write_bytes(content)
        with pytest.raises(ParseError) as exc:
            parse_file(path)
        assert_error(exc, "empty.txt", 1, "empty file")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"1. Fine\nline two\n\x00\x01\x02\x03")
    with pytest.raises(ParseError) as exc:
        parse_file(path)
    assert_error(exc, "blob.txt", 3, "binary", "byte offset 17")
    path.write_bytes(bytes(range(1, 32)) * 20)
    with pytest.raises(ParseError) as exc:
        parse_file(path)
    assert_error(exc, "blob.txt", 1, "binary")


def test_wrongly_encoded_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    data = "Sub-theme 1: Health\n1. Ensure access.\n2. Support labour attachés.\n".encode("latin-1")
    path.write_bytes(data)
    with pytest.raises(ParseError) as exc:
        parse_file(path)
    offset = data.index(b"\xe9")
    assert_error(exc, "latin1.txt", 3, "UTF-8", f"byte offset {offset}", "0xE9")


def test_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.write(b"1. Do it.\n")
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ParseError) as exc:
        parse_file(path)
    assert_error(exc, "huge.txt", 1, str(MAX_FILE_BYTES))
    small = tmp_path / "small.txt"
    small.write_bytes(b"1. Do it.\n" * 20)
    with pytest.raises(ParseError) as exc:
        parse_file(small, max_bytes=100)
    assert_error(exc, "small.txt", 1, "limit of 100 bytes")


def test_no_recommendation(tmp_path: Path) -> None:
    path = tmp_path / "prose.txt"
    path.write_text("\n\nA title\n\nSome prose without numbers.\n", encoding="utf-8")
    with pytest.raises(ParseError) as exc:
        parse_file(path)
    assert_error(exc, "prose.txt", 3, "no recognisable recommendation", "1. ...")


def test_duplicated_label_with_different_text(tmp_path: Path) -> None:
    path = tmp_path / "dup.txt"
    path.write_text("Sub-theme 1: Health\n1. Do it.\n2. Do that.\n2. Do something else.\n", encoding="utf-8")
    with pytest.raises(ParseError) as exc:
        parse_file(path)
    assert_error(exc, "dup.txt", 4, "label 2 in sub-theme 1 appears twice with different text (first at line 3)")
    with pytest.raises(ParseError, match=r"t\.txt:3: label 2 appears twice"):
        parse("1. Do it.\n2. Do that.\n2. Do something else.\n")


@pytest.mark.parametrize(
    ("sidecar", "line", "fragment"),
    [
        ('source = "x"\ncolour = "blue"\n', 2, "unknown key 'colour'"),
        ('forum_edition = "13"\n', 1, "positive integer"),
        ("forum_edition = true\n", 1, "positive integer"),
        ('\n\ndate = "14 September 2020"\n', 3, "ISO date"),
        ('mode = "virtual"\n', 1, "online, in person, hybrid"),
        ('id = "Not A Slug"\n', 1, "[a-z0-9_-]"),
        ("issuer = 3\n", 1, "non-empty string"),
        ('source = "x"\ntitle = \n', 2, "invalid TOML"),
        ('source = "x"\n[extra]\nkey = 1\n', 2, "unknown key 'extra'"),
    ],
)
def test_malformed_sidecar(tmp_path: Path, sidecar: str, line: int, fragment: str) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("1. Do it.\n", encoding="utf-8")
    sidecar_path(doc).write_text(sidecar, encoding="utf-8")
    with pytest.raises(ParseError) as exc:
        parse_file(doc)
    assert_error(exc, "doc.txt.meta.toml", line, fragment)


def test_sidecar_accepts_a_toml_date_and_all_keys(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("1. Do it.\n", encoding="utf-8")
    sidecar_path(doc).write_text(
        'id = "doc-1"\ntitle = "T"\nmember_state = "Viet Nam"\nissuer = "Viet Nam"\nforum_edition = 13\n'
        'date = 2020-10-01\nplace = "Hanoi"\nmode = "online"\nsource = "s"\nnotes = "n"\n',
        encoding="utf-8",
    )
    parsed = parse_file(doc)
    assert (parsed.id, parsed.date, parsed.member_state, parsed.forum_edition, parsed.mode) == (
        "doc-1",
        "2020-10-01",
        "Viet Nam",
        13,
        "online",
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"nope\.txt:1: cannot read file"):
        parse_file(tmp_path / "nope.txt")


# --------------------------------------------------------------------------- property


_FRAGMENTS = [
    "1. ", "2. ", "3) ", "(4) ", "a. ", "(b) ", "i) ", "ii. ", "I. ", "II. ", "Sub-theme 1: ", "Subtheme 2 - ",
    "\n", "\r\n", "\r", "\f", "\n\n", "\n \n", "Page 1 of 2", "- 3 -", " ", "\t", "\u00a0", "\ufeff", "\u00ad",
    "gender-", "ment", "-", "•", " strengthening", "The meeting was held online on 9 November 2020.",
    "14 September 2020", "Cambodia National Recommendations", "13th ASEAN Forum on Migrant Labour", "Ensure",
    "workers.", "x", ":", ".", "\x00", "\u2028", "Header",
]  # fmt: skip


@settings(max_examples=300, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300), st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=8), max_size=60).map("".join)
    )
)
def test_parse_text_returns_a_document_or_raises_parse_error(text: str) -> None:
    try:
        doc = parse(text)
    except ParseError as error:
        assert "t.txt" in str(error)
        return
    assert doc.recommendations
    for rec in doc.recommendations:
        assert 0 <= rec.span.start < rec.span.end <= len(doc.text)
        assert rec.text == rec.text.strip()
        assert "  " not in rec.text


def test_forum_edition_from_a_known_theme_and_theme_line() -> None:
    doc = parse(
        "Supporting migrant workers during the pandemic for a Cohesive and\nResponsive ASEAN Community\n\n1. Do it.\n"
    )
    assert (doc.forum_edition, doc.title) == (13, None)
    assert doc.theme == "Supporting migrant workers during the pandemic for a Cohesive and Responsive ASEAN Community"
    doc = parse("Outcome of the Consultation\nTheme: Decent work for domestic workers\n\n1. Do it.\n")
    assert (doc.title, doc.theme, doc.forum_edition) == (
        "Outcome of the Consultation",
        "Decent work for domestic workers",
        None,
    )


def test_title_skips_a_leading_line_that_names_no_document() -> None:
    doc = parse("Draft for discussion only\nRecommendations of Indonesia\n2020-10-05\n\n1. Do it.\n")
    assert (doc.title, doc.member_state, doc.date) == ("Recommendations of Indonesia", "Indonesia", "2020-10-05")
    assert doc.preamble == "Draft for discussion only"


def test_xml_noncharacters_are_dropped_at_ingest() -> None:
    # U+FFFE and U+FFFF cannot appear in XML (RDF/XML, SPARQL XML results): they are removed like other invisibles
    doc = parse("Recommendations\n\n1. Ensure \ufffe access\uffff for all.\n")
    assert doc.recommendations[0].text == "Ensure access for all."


# --------------------------------------------------------------------------- heading and numbering forms (issue 20)


@pytest.mark.parametrize(
    ("first", "second", "labels"),
    [
        ("Theme 1: Recruitment", "Theme 2: Return", ("1", "2")),
        ("Sub-theme I", "Sub-theme II", ("I", "II")),
        ("Thematic session 1 - Recruitment", "Thematic session 2 - Return", ("1", "2")),
        ("Session 1: Recruitment", "Session 2: Return", ("1", "2")),
        ("Part A: Recruitment", "Part B: Return", ("A", "B")),
        ("RECRUITMENT AND PLACEMENT", "RETURN AND REINTEGRATION", ("1", "2")),
    ],
)
def test_heading_forms(first: str, second: str, labels: tuple[str, str]) -> None:
    text = (f"Cambodia National Recommendations\n\n{first}\n\n1. Ban recruitment fees.\n2. Regulate agencies.\n\n"
            f"{second}\n\n1. Recognise skills.\n")
    doc = parse(text)
    assert [s.label for s in doc.subthemes] == list(labels)
    assert [(r.subtheme, r.label, r.text) for r in doc.recommendations] == [
        (labels[0], "1", "Ban recruitment fees."), (labels[0], "2", "Regulate agencies."),
        (labels[1], "1", "Recognise skills."),
    ]


@pytest.mark.parametrize(
    ("one", "two", "sub_a", "sub_b", "labels"),
    [("1.", "2.", "a)", "b)", ("1", "2")), ("1)", "2)", "(a)", "(b)", ("1", "2")),
     ("(1)", "(2)", "a.", "b.", ("1", "2")), ("i.", "ii.", "(a)", "(b)", ("i", "ii")),
     ("a.", "b.", "i)", "ii)", ("a", "b"))],
)
def test_numbering_forms_with_sub_items(one: str, two: str, sub_a: str, sub_b: str, labels: tuple[str, str]) -> None:
    doc = parse(f"{one} Protect workers by:\n{sub_a} ending fees;\n{sub_b} fair contracts.\n{two} Review laws.\n")
    assert [(r.label, r.text) for r in doc.recommendations] == [
        (labels[0], f"Protect workers by: {sub_a} ending fees; {sub_b} fair contracts."),
        (labels[1], "Review laws."),
    ]


def test_ligatures_full_width_and_a_date_range_in_text() -> None:
    doc = parse("Viet Nam National Recommendations\nHanoi, Viet Nam, 30 October - 1 November 2019\n\n"
                "1. Ensure beneﬁts for ｍigrant workers.\n")
    assert doc.recommendations[0].text == "Ensure benefits for migrant workers."
    assert (doc.date, doc.date_end, doc.place) == ("2019-10-30", "2019-11-01", "Hanoi, Viet Nam")


def test_footnote_glued_to_an_item_is_a_warning() -> None:
    doc = parse("1. Ratify the Domestic Workers Convention (No. 189).1\n")
    assert doc.reading.warnings == (
        "item 1 ends with text that looks like a footnote: 'Ratify the Domestic Workers Convention (No. 189).1'",
    )
