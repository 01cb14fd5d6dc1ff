"""The SKOS vocabularies: the published slugs, their descriptions, their triggers and the concept patterns."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from aflm_graph.terms.namespaces import AFLM, RDFS, SKOS
from aflm_graph.terms.resources import vocab_dir
from aflm_graph.terms.vocab import (
    KINDS,
    Vocabulary,
    VocabularyError,
    load_vocabulary,
    trigger_key,
)

# The public contract (docs: vocabulary.md): these slugs exist and never change.
CONTRACT: dict[str, tuple[str, ...]] = {
    "theme": (
        "health-care", "social-protection", "fair-recruitment", "access-to-justice", "wages",
        "return-reintegration", "skills", "employment", "labour-market-information", "information-awareness",
        "occupational-safety-health", "housing", "financial-inclusion", "detention", "immigration-status",
        "crisis-preparedness", "gender", "data", "regional-cooperation", "freedom-of-association", "digital",
        "safe-migration", "labour-standards",
    ),
    "actor": (
        "government", "diplomatic-mission", "asean", "trade-union", "employer", "private-sector",
        "recruitment-agency", "civil-society", "migrant-resource-centre", "international-organisation",
        "ilo", "iom", "who", "un-women", "acmw", "asean-biodiaspora-virtual-centre", "asean-osh-net",
        "asean-plus-three-uhc-network",
    ),
    "group": (
        "irregular-migrant-workers", "stranded-migrant-workers", "detained-migrant-workers", "returnees",
        "women-migrant-workers", "families", "domestic-workers", "fishers", "seafarers", "agricultural-workers",
        "informal-sector-workers", "care-workers", "construction-workers",
    ),
    "instrument": (
        "ilo-core-labour-standards", "ilo-fair-recruitment-guidelines", "gcm", "asean-declaration-migrant-workers",
        "asean-consensus", "asean-declaration-social-protection", "asean-comprehensive-recovery-framework",
        "asean-return-reintegration-guidelines", "sdg-8", "sdg-8.8", "sdg-10.7",
        "ilo-c97", "ilo-c143", "ilo-c155", "ilo-c181", "ilo-c187", "ilo-c188", "ilo-c189", "ilo-c190",
        "ilo-c168", "ilo-c102",
    ),
}  # fmt: skip

NAMED_ACTORS = {
    "ilo": "international-organisation",
    "iom": "international-organisation",
    "who": "international-organisation",
    "un-women": "international-organisation",
    "acmw": "asean",
    "asean-biodiaspora-virtual-centre": "asean",
    "asean-osh-net": "asean",
    "asean-plus-three-uhc-network": "asean",
}

CONVENTION_YEARS = {
    97: 1949, 143: 1975, 155: 1981, 181: 1997, 187: 2006, 188: 2007, 189: 2011, 190: 2019, 168: 1988, 102: 1952,
}  # fmt: skip

INSTRUMENT_KINDS = {
    "convention", "recommendation", "protocol", "goal", "target", "declaration", "framework", "guideline", "plan",
    "compact",
}  # fmt: skip

BASE = "https://w3id.org/aflm/vocab/"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def _turtle_files() -> list[Path]:
    return sorted(vocab_dir().glob("*.ttl"))


def test_the_four_schemes_are_loaded(vocab: Vocabulary) -> None:
    assert vocab.schemes == {kind: BASE + kind for kind in KINDS}
    assert {p.name for p in _turtle_files()} >= {"themes.ttl", "actors.ttl", "groups.ttl", "instruments.ttl"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_contract_slug_is_listed(vocab: Vocabulary, kind: str) -> None:
    missing = [s for s in CONTRACT[kind] if vocab.iri(kind, s) not in vocab.concepts]
    assert not missing, f"{kind}: missing {missing}"


def test_every_concept_is_described(vocab: Vocabulary) -> None:
    for c in vocab:
        assert c.pref_label.strip() and c.definition.strip(), c.iri
        assert len(c.definition) >= 40, f"{c.iri}: a definition should say what the concept covers"
        assert c.iri == f"{BASE}{c.kind}/{c.slug}"
        assert c.scheme == BASE + c.kind
        assert c.top_concept or c.broader, c.iri
        assert re.fullmatch(r"[a-z0-9]+(?:[-.][a-z0-9]+)*", c.slug), c.slug
        assert c.triggers or c.trigger_patterns or vocab._mintable(c.iri), f"{c.iri}: nothing finds it"


def test_every_concept_and_pattern_is_defined_by_its_scheme() -> None:
    for path in _turtle_files():
        triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        typed = {
            t.subject.value
            for t in triples
            if t.predicate.value.endswith("#type")
            and t.object.value in (SKOS.Concept, AFLM.ConceptPattern)
        }
        defined = {t.subject.value: t.object.value for t in triples if t.predicate.value == RDFS.isDefinedBy}
        for s in typed:
            scheme = defined.get(s)
            assert scheme is not None and s.startswith(scheme + "/"), f"{path.name}: <{s}> rdfs:isDefinedBy"


def test_files_parse_with_rdflib_too() -> None:
    for path in _turtle_files():
        g = rdflib.Graph().parse(path, format="turtle")
        assert len(g) > 50, path


def _natural(slug: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", slug)]


def test_subjects_are_in_slug_order() -> None:
    for path in _turtle_files():
        slugs = re.findall(r"^\w+:(\S+) a skos:Concept", path.read_text(encoding="utf-8"), flags=re.M)
        assert slugs and slugs == sorted(slugs, key=_natural), path.name


def test_pref_labels_are_not_repeated_as_other_labels(vocab: Vocabulary) -> None:
    # SKOS S13: prefLabel, altLabel and hiddenLabel are pairwise disjoint.
    for c in vocab:
        assert c.pref_label not in c.alt_labels + c.hidden_labels, c.iri
        assert not set(c.alt_labels) & set(c.hidden_labels), c.iri


def test_no_two_concepts_of_a_scheme_share_a_trigger(vocab: Vocabulary) -> None:
    for kind in KINDS:
        seen: dict[str, str] = {}
        for c in vocab.of_kind(kind):
            for phrase in c.triggers:
                key = trigger_key(phrase)
                assert key not in seen, f"{phrase!r} of {c.slug} and of {seen.get(key)}"
                seen[key] = c.slug


def test_every_regex_compiles(vocab: Vocabulary) -> None:
    for c in vocab:
        for p in c.trigger_patterns:
            re.compile(p, re.IGNORECASE)
    for cp in vocab.patterns:
        for p in cp.trigger_patterns:
            assert "n" in re.compile(p, re.IGNORECASE).groupindex


def test_named_actors_have_their_category_as_broader(vocab: Vocabulary) -> None:
    for slug, category in NAMED_ACTORS.items():
        actor = vocab.by_slug("actor", slug)
        assert actor.broader == (vocab.iri("actor", category),), slug
        assert not actor.top_concept


def test_sdg_concepts_match_the_un_sdg_kos(vocab: Vocabulary) -> None:
    sdgs = [c for c in vocab.of_kind("instrument") if c.slug.startswith("sdg-")]
    assert len(sdgs) >= 3
    for c in sdgs:
        assert c.exact_match == (f"http://metadata.un.org/sdg/{c.slug[4:]}",), c.slug
        assert c.instrument_kind == ("target" if "." in c.slug else "goal")
    assert vocab.by_slug("instrument", "sdg-8.8").broader == (vocab.iri("instrument", "sdg-8"),)


def test_listed_conventions_have_title_year_and_normlex(vocab: Vocabulary) -> None:
    for number, year in CONVENTION_YEARS.items():
        c = vocab.by_slug("instrument", f"ilo-c{number}")
        assert c.title and c.issued == str(year), c.slug
        assert c.instrument_kind == "convention"
        assert c.see_also == (
            f"https://normlex.ilo.org/dyn/normlex/en/f?p=NORMLEXPUB:12100:0::NO::P12100_ILO_CODE:C{number:03d}",
        )
    assert vocab.by_slug("instrument", "ilo-c189").title == "Domestic Workers Convention, 2011"


def test_instrument_kinds_are_from_the_list(vocab: Vocabulary) -> None:
    for c in vocab.of_kind("instrument"):
        assert c.instrument_kind in INSTRUMENT_KINDS, c.slug
    for cp in vocab.patterns:
        assert cp.instrument_kind in INSTRUMENT_KINDS, cp.iri
    for c in vocab:
        assert (c.instrument_kind is None) == (c.kind != "instrument"), c.iri


@pytest.mark.parametrize(
    ("slug", "label", "kind", "match", "see_also"),
    [
        ("ilo-c100", "ILO Convention No. 100", "convention", None, "C100"),
        ("ilo-c29", "Forced Labour Convention, 1930 (No. 29)", "convention", None, "C029"),
        ("ilo-r200", "ILO Recommendation No. 200", "recommendation", None, "R200"),
        ("ilo-p81", "Protocol to ILO Convention No. 81", "protocol", None, "P081"),
        ("sdg-16", "Sustainable Development Goal 16", "goal", "http://metadata.un.org/sdg/16", None),
        ("sdg-8.5", "SDG target 8.5", "target", "http://metadata.un.org/sdg/8.5", None),
        ("sdg-5.a", "SDG target 5.a", "target", "http://metadata.un.org/sdg/5.a", None),
    ],
)
def test_concepts_minted_by_patterns(
    vocab: Vocabulary, slug: str, label: str, kind: str, match: str | None, see_also: str | None
) -> None:
    iri = vocab.iri("instrument", slug)
    assert iri in vocab
    c = vocab.concept(iri)
    assert (c.iri, c.slug, c.kind, c.pref_label, c.instrument_kind) == (iri, slug, "instrument", label, kind)
    assert c.definition
    assert c.exact_match == ((match,) if match else ())
    if see_also:
        assert c.see_also == (
            f"https://normlex.ilo.org/dyn/normlex/en/f?p=NORMLEXPUB:12100:0::NO::P12100_ILO_CODE:{see_also}",
        )


def test_minting_refuses_what_no_pattern_makes(vocab: Vocabulary) -> None:
    for slug in ("ilo-x100", "sdg-99", "sdg-8.8.1", "ilo-c", "gcm2"):
        iri = vocab.iri("instrument", slug)
        assert iri not in vocab
        with pytest.raises(KeyError):
            vocab.concept(iri)
    assert vocab.iri("theme", "ilo-c100") not in vocab


# ----------------------------------------------------------------------------- errors, on small files

HEAD = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix aflm: <https://w3id.org/aflm/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix t: <https://w3id.org/aflm/vocab/theme/> .
@prefix g: <https://w3id.org/aflm/vocab/group/> .
<https://w3id.org/aflm/vocab/theme> a skos:ConceptScheme .
<https://w3id.org/aflm/vocab/group> a skos:ConceptScheme .
"""


def concept(
    slug: str,
    *,
    prefix: str = "t",
    scheme: str = "theme",
    label: str = "A",
    definition: str = "B",
    alt: str = '"alpha"',
    extra: str = "",
) -> str:
    """A small concept in Turtle (defaults: a valid theme with one trigger)."""
    parts = [
        f"{prefix}:{slug} a skos:Concept",
        f"skos:inScheme <{BASE}{scheme}>",
        f"skos:topConceptOf <{BASE}{scheme}>",
    ]
    if label:
        parts.append(f'skos:prefLabel "{label}"@en')
    if definition:
        parts.append(f'skos:definition "{definition}"@en')
    if alt:
        parts.append(f"skos:altLabel {alt}")
    if extra:
        parts.append(extra)
    return " ;\n    ".join(parts) + " .\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "v.ttl"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def test_a_small_valid_vocabulary_loads(tmp_path: Path) -> None:
    v = load_vocabulary([write(tmp_path, concept("x") + concept("y", alt='"beta"'))])
    assert [c.slug for c in v] == ["x", "y"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (concept("x", label=""), "no skos:prefLabel"),
        (concept("x", definition=""), "no skos:definition"),
        (concept("x", alt="", extra='aflm:triggerPattern "(unclosed"'), "invalid aflm:triggerPattern"),
        (concept("x", alt="", extra='aflm:triggerPattern "(?P<k>a)"'), "named groups"),
        (concept("x", alt="") , "no trigger"),
        (concept("x", alt='"job matching"') + concept("y", alt='"Job-Matching"'), "duplicated trigger"),
        (concept("x", alt='"same"', extra='skos:hiddenLabel "same"'), "duplicated trigger"),
        (concept("x", extra=f"skos:broader <{BASE}theme/nowhere>"), "is not a concept"),
        ("t:x a skos:Concept ; skos:prefLabel \"A\"@en ; skos:definition \"B\"@en ; skos:altLabel \"a\"@en .\n",
         "skos:inScheme"),
        ("<https://w3id.org/aflm/vocab/theme/p> a aflm:ConceptPattern ; skos:prefLabel \"P\"@en ; "
         "skos:definition \"D\"@en ; rdfs:isDefinedBy <https://w3id.org/aflm/vocab/theme> ; "
         "aflm:triggerPattern \"x(\\\\d+)\" ; aflm:slugTemplate \"x{n}\" ; aflm:labelTemplate \"X {n}\" .\n",
         "no named group"),
        ("t:x a skos:Concept ; this is not turtle", "cannot read"),
    ],
)  # fmt: skip
def test_errors_name_the_file_and_the_concept(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(VocabularyError) as info:
        load_vocabulary([path])
    text = str(info.value)
    assert message in text
    assert str(path) in text
    if "cannot read" not in message:
        assert "/theme/" in text


def test_schemes_may_share_a_trigger(tmp_path: Path) -> None:
    # "women" is both a theme (gender) and a target group: each scheme is matched on its own.
    body = concept("gender", alt='"women"') + concept("women", prefix="g", scheme="group", alt='"women"')
    v = load_vocabulary([write(tmp_path, body)])
    assert {c.kind for c in v} == {"theme", "group"}


# --- aflm:exclusionPattern (issue 19 item 7): read from Turtle, checked, applied per concept


def test_exclusion_patterns_are_read_from_turtle_and_applied(tmp_path: Path) -> None:
    from aflm_graph.enrich.annotate import annotate

    body = concept(
        "housing", alt='"lodging"', extra='aflm:exclusionPattern "lodg\\\\w*\\\\s+an?\\\\s+(?:appeal|complaint)s?"'
    ) + concept("stay", prefix="g", scheme="group", alt='"lodging"')
    v = load_vocabulary([write(tmp_path, body)])
    housing = v.by_slug("theme", "housing")
    assert housing.exclusion_patterns == ("lodg\\w*\\s+an?\\s+(?:appeal|complaint)s?",)
    assert v.by_slug("group", "stay").exclusion_patterns == ()

    def found(text: str) -> set[str]:
        return {m.concept.rsplit("/", 1)[1] for m in annotate(text, v)}

    assert found("safe lodging for workers") == {"housing", "stay"}
    # the theme's exclusion drops only the theme; the group, which has none, still fires
    assert found("lodging an appeal") == {"stay"}
    assert found("Lodging a complaint") == {"stay"}
    # an exclusion that does not overlap the trigger leaves it alone
    assert found("lodging, then an appeal") == {"housing", "stay"}


def test_the_vocabularies_declare_exclusion_patterns(vocab: Vocabulary) -> None:
    # the cases measured in issue 19 are answered in Turtle, not in Python
    for kind, slug in (("theme", "housing"), ("actor", "ilo"), ("actor", "private-sector"), ("theme", "pandemic")):
        assert vocab.by_slug(kind, slug).exclusion_patterns, slug
    for c in vocab:
        for p in c.exclusion_patterns:
            assert re.compile(p, re.IGNORECASE).match("") is None, (c.iri, p)
    text = (vocab_dir() / "actors.ttl").read_text(encoding="utf-8")
    assert "aflm:exclusionPattern" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('aflm:exclusionPattern "(unclosed"', "invalid aflm:exclusionPattern"),
        ('aflm:exclusionPattern "(?P<k>a)"', "aflm:exclusionPattern"),
        ('aflm:exclusionPattern "a*"', "matches the empty string"),
    ],
)
def test_bad_exclusion_patterns_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    path = write(tmp_path, concept("x", extra=extra))
    with pytest.raises(VocabularyError) as info:
        load_vocabulary([path])
    assert message in str(info.value)
    assert str(path) in str(info.value) and "/theme/x" in str(info.value)


def test_an_exclusion_pattern_needs_a_concept_with_triggers(tmp_path: Path) -> None:
    pattern = (
        '<https://w3id.org/aflm/vocab/theme/p> a aflm:ConceptPattern ; skos:prefLabel "P"@en ; '
        'skos:definition "D"@en ; rdfs:isDefinedBy <https://w3id.org/aflm/vocab/theme> ; '
        'aflm:triggerPattern "x(?P<n>\\\\d+)" ; aflm:slugTemplate "x{n}" ; aflm:labelTemplate "X {n}" ; '
        'aflm:exclusionPattern "x1" .\n'
    )
    with pytest.raises(VocabularyError, match="for concepts, not concept patterns"):
        load_vocabulary([write(tmp_path, pattern)])
    with pytest.raises(VocabularyError, match="without any trigger"):
        load_vocabulary([write(tmp_path, concept("x", alt="", extra='aflm:exclusionPattern "x"'))])
