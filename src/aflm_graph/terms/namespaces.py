"""The one place Python reaches ontology terms and data IRIs.

The terms themselves are written once, in `ontology/aflm.ttl`; `tests/test_namespaces.py`
checks that the `AFLM` class below declares exactly the same set. Constants are plain `str`
IRIs so that this module imports in microseconds and serves pyoxigraph and rdflib alike
(`pyoxigraph.NamedNode(AFLM.text)`, `rdflib.URIRef(AFLM.text)`).
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import quote

BASE = "https://w3id.org/aflm/"
ONTOLOGY = BASE + "ontology"
DATA = BASE + "id/"
VOCAB = BASE + "vocab/"

GRAPH_DATA = BASE + "graph/data"
GRAPH_ONTOLOGY = BASE + "graph/ontology"
GRAPH_REFERENCE = BASE + "graph/reference"
GRAPH_VOCAB = BASE + "graph/vocab"

# The agent that creates and publishes the ontology, the vocabularies and the dataset (described in aflm.ttl).
DEVELOPERS = DATA + "agent/aflm-graph-developers"


class _Namespace:
    """Attribute access gives the full IRI; listing `terms()` gives every declared local name."""

    NS: ClassVar[str] = ""

    @classmethod
    def terms(cls) -> frozenset[str]:
        return frozenset(
            name for name, value in vars(cls).items() if isinstance(value, str) and value.startswith(cls.NS)
            and name != "NS"
        )


class AFLM(_Namespace):
    """Terms of the aflm ontology (`ontology/aflm.ttl`)."""

    NS = ONTOLOGY + "#"
    # classes
    ConceptMention = NS + "ConceptMention"
    ConceptPattern = NS + "ConceptPattern"
    ForumEdition = NS + "ForumEdition"
    MemberState = NS + "MemberState"
    ProgressReviewPaper = NS + "ProgressReviewPaper"
    Recommendation = NS + "Recommendation"
    RecommendationsDocument = NS + "RecommendationsDocument"
    RecurrenceLink = NS + "RecurrenceLink"
    SubTheme = NS + "SubTheme"
    TextLink = NS + "TextLink"
    # object properties
    addressesActor = NS + "addressesActor"
    citesInstrument = NS + "citesInstrument"
    duplicateOf = NS + "duplicateOf"
    forumEdition = NS + "forumEdition"
    hasTheme = NS + "hasTheme"
    hostCountry = NS + "hostCountry"
    inDocument = NS + "inDocument"
    inSubTheme = NS + "inSubTheme"
    issuedBy = NS + "issuedBy"
    linkSource = NS + "linkSource"
    linkTarget = NS + "linkTarget"
    memberState = NS + "memberState"
    mentionIn = NS + "mentionIn"
    mentionOf = NS + "mentionOf"
    presentedAt = NS + "presentedAt"
    reviewsForum = NS + "reviewsForum"
    sameCallAs = NS + "sameCallAs"
    sharedConcept = NS + "sharedConcept"
    similarTo = NS + "similarTo"
    subThemeOf = NS + "subThemeOf"
    targetsGroup = NS + "targetsGroup"
    # datatype and annotation properties
    adoptedRecommendations = NS + "adoptedRecommendations"
    evidence = NS + "evidence"
    evidenceEnd = NS + "evidenceEnd"
    evidenceStart = NS + "evidenceStart"
    exclusionPattern = NS + "exclusionPattern"
    forumNumber = NS + "forumNumber"
    forumSubTheme = NS + "forumSubTheme"
    forumTheme = NS + "forumTheme"
    hostCity = NS + "hostCity"
    instrumentKind = NS + "instrumentKind"
    labelTemplate = NS + "labelTemplate"
    matchTemplate = NS + "matchTemplate"
    meetingMode = NS + "meetingMode"
    meetingPlace = NS + "meetingPlace"
    mentionKind = NS + "mentionKind"
    position = NS + "position"
    preamble = NS + "preamble"
    printedLabel = NS + "printedLabel"
    relation = NS + "relation"
    score = NS + "score"
    seeAlsoTemplate = NS + "seeAlsoTemplate"
    sha256 = NS + "sha256"
    slugTemplate = NS + "slugTemplate"
    sourceEnd = NS + "sourceEnd"
    sourceFile = NS + "sourceFile"
    sourceFormat = NS + "sourceFormat"
    sourceStart = NS + "sourceStart"
    text = NS + "text"
    triggerPattern = NS + "triggerPattern"
    year = NS + "year"
    # individuals
    UnknownIssuer = NS + "UnknownIssuer"


class RDF(_Namespace):
    NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    type = NS + "type"
    langString = NS + "langString"
    first = NS + "first"
    rest = NS + "rest"
    nil = NS + "nil"


class RDFS(_Namespace):
    NS = "http://www.w3.org/2000/01/rdf-schema#"
    Class = NS + "Class"
    comment = NS + "comment"
    label = NS + "label"
    seeAlso = NS + "seeAlso"
    isDefinedBy = NS + "isDefinedBy"
    subClassOf = NS + "subClassOf"


class OWL(_Namespace):
    NS = "http://www.w3.org/2002/07/owl#"
    Class = NS + "Class"
    deprecated = NS + "deprecated"
    sameAs = NS + "sameAs"
    versionInfo = NS + "versionInfo"


class SH(_Namespace):
    """SHACL: the shapes' own vocabulary (validate.py, shacl_stream.py build the terms they read from NS)."""

    NS = "http://www.w3.org/ns/shacl#"


class XSD(_Namespace):
    NS = "http://www.w3.org/2001/XMLSchema#"
    string = NS + "string"
    integer = NS + "integer"
    decimal = NS + "decimal"
    date = NS + "date"
    gYear = NS + "gYear"
    boolean = NS + "boolean"
    double = NS + "double"


class SKOS(_Namespace):
    NS = "http://www.w3.org/2004/02/skos/core#"
    Concept = NS + "Concept"
    ConceptScheme = NS + "ConceptScheme"
    prefLabel = NS + "prefLabel"
    altLabel = NS + "altLabel"
    hiddenLabel = NS + "hiddenLabel"
    definition = NS + "definition"
    scopeNote = NS + "scopeNote"
    inScheme = NS + "inScheme"
    broader = NS + "broader"
    narrower = NS + "narrower"
    exactMatch = NS + "exactMatch"
    notation = NS + "notation"
    topConceptOf = NS + "topConceptOf"


class DCTERMS(_Namespace):
    NS = "http://purl.org/dc/terms/"
    title = NS + "title"
    date = NS + "date"
    identifier = NS + "identifier"
    issued = NS + "issued"
    license = NS + "license"
    source = NS + "source"
    description = NS + "description"


class PROV(_Namespace):
    NS = "http://www.w3.org/ns/prov#"
    Activity = NS + "Activity"
    Entity = NS + "Entity"
    SoftwareAgent = NS + "SoftwareAgent"
    wasDerivedFrom = NS + "wasDerivedFrom"
    wasGeneratedBy = NS + "wasGeneratedBy"
    wasAssociatedWith = NS + "wasAssociatedWith"
    used = NS + "used"


class SCHEMA(_Namespace):
    NS = "https://schema.org/"
    softwareVersion = NS + "softwareVersion"
    name = NS + "name"


# Vocabularies the dataset description (describe.py) writes in: terms are built from NS there.
class VOID(_Namespace):
    NS = "http://rdfs.org/ns/void#"


class DCAT(_Namespace):
    NS = "http://www.w3.org/ns/dcat#"


class FOAF(_Namespace):
    NS = "http://xmlns.com/foaf/0.1/"


class SPDX(_Namespace):
    NS = "http://spdx.org/rdf/terms#"


# Things outside the project that the dataset description names.
CC_BY_4 = "https://creativecommons.org/licenses/by/4.0/"
ENGLISH = "http://id.loc.gov/vocabulary/iso639-1/en"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
SD = "http://www.w3.org/ns/sparql-service-description#"  # SPARQL 1.1 Service Description
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
W3C_FORMATS = "http://www.w3.org/ns/formats/"  # IRIs of RDF syntaxes (VoID void:feature, DCAT dcterms:format)
# Datasets the link predicates point into, by IRI prefix of the object: (dataset IRI, title).
LINK_TARGETS: dict[str, tuple[str, str]] = {
    "http://www.wikidata.org/entity/": ("http://www.wikidata.org/", "Wikidata"),
    "https://www.wikidata.org/wiki/": ("http://www.wikidata.org/", "Wikidata"),
    "http://metadata.un.org/sdg/": ("http://metadata.un.org/sdg/", "UN SDG KOS"),
    "https://metadata.un.org/sdg/": ("http://metadata.un.org/sdg/", "UN SDG KOS"),
    "https://normlex.ilo.org/": ("https://normlex.ilo.org/", "ILO NORMLEX"),
    "http://www.ilo.org/": ("https://www.ilo.org/", "International Labour Organization"),
    "https://www.ilo.org/": ("https://www.ilo.org/", "International Labour Organization"),
}


PREFIXES: dict[str, str] = {
    "aflm": AFLM.NS,
    "dcterms": DCTERMS.NS,
    "owl": OWL.NS,
    "prov": PROV.NS,
    "rdf": RDF.NS,
    "rdfs": RDFS.NS,
    "schema": SCHEMA.NS,
    "skos": SKOS.NS,
    "xsd": XSD.NS,
    "oa": "http://www.w3.org/ns/oa#",
    "foaf": FOAF.NS,
    "vann": "http://purl.org/vocab/vann/",
    "wd": "http://www.wikidata.org/entity/",
    "id": DATA,
    "theme": VOCAB + "theme/",
    "actor": VOCAB + "actor/",
    "group": VOCAB + "group/",
    "instrument": VOCAB + "instrument/",
}

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def slug(text: str) -> str:
    """Lowercase ASCII slug: what a document id or a member-state key looks like in an IRI."""
    value = _UNSAFE.sub("-", text.strip().lower()).strip("-")
    return value or "x"


def _segment(label: str) -> str:
    # Printed labels ("1", "II", "a") are kept as printed; anything else is percent-encoded.
    return quote(label, safe="")


def document_iri(doc_id: str) -> str:
    return f"{DATA}document/{_segment(doc_id)}"


def subtheme_iri(doc_id: str, subtheme: str) -> str:
    return f"{document_iri(doc_id)}/subtheme/{_segment(subtheme)}"


def recommendation_iri(doc_id: str, subtheme: str | None, label: str, *, occurrence: int = 1) -> str:
    """From the document and the printed labels: adding a document never moves an existing IRI."""
    key = _segment(label) if subtheme is None else f"{_segment(subtheme)}.{_segment(label)}"
    if occurrence > 1:  # a verbatim repeat printed under the same label
        key += f"~{occurrence}"
    return f"{document_iri(doc_id)}/recommendation/{key}"


def mention_iri(recommendation: str, kind: str, concept_slug: str, start: int) -> str:
    return f"{recommendation}/mention/{kind}/{_segment(concept_slug)}/{start}"


def forum_iri(number: int) -> str:
    return f"{DATA}forum/{number}"


def member_state_iri(key: str) -> str:
    return f"{DATA}member-state/{slug(key)}"


def concept_iri(kind: str, concept_slug: str) -> str:
    return f"{VOCAB}{kind}/{concept_slug}"
