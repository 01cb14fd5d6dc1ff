"""Human-readable documentation of the ontology and the vocabularies: pyLODE pages, a class diagram, an index.

pyLODE (RDFLib's maintained documentation generator) writes one self-contained HTML page for the
ontology (its OntPub profile) and one per SKOS vocabulary (VocPub). The diagram of the main classes
and properties is drawn here as SVG from the ontology's domains and ranges, so it follows the
Turtle without a Graphviz install. Everything is deterministic: the same sources give the same bytes.
"""

from __future__ import annotations

import html
import importlib
import json
import logging
import re
import sys
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..fsutil import OutputError, atomic_write_bytes, check_output_folder, staged_directory
from ..terms.namespaces import AFLM, DATA, DCTERMS, ONTOLOGY, OWL, PREFIXES, RDF, RDFS, SCHEMA, SKOS, VOCAB
from ..terms.resources import ontology_dir, vocab_dir


class DocsError(ValueError):
    """Documentation could not be generated; names the source file and why."""


# Every namespace the documented Turtle uses, bound to a readable prefix: pyLODE names a namespace that has
# none `ns1` in its pages (the schemes' own IRIs, https://w3id.org/aflm/vocab/<kind>, and the agents' are in
# namespaces of their own).
DOC_PREFIXES = {**PREFIXES, "vocab": VOCAB, "agent": DATA + "agent/", "organisation": DATA + "organisation/"}


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """pyLODE logs its progress (INFO) on the root logger, and its import calls `logging.basicConfig(level=DEBUG)`:
    for the duration of the call, the root logger passes warnings only and nothing configures it; afterwards it is
    exactly as the caller had it (level and handlers), so a program that imports this module keeps its logging."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    root.setLevel(max(level, logging.WARNING))
    if not handlers:  # a handler stops logging.info() from calling basicConfig(); the last resort prints warnings
        root.addHandler(logging.lastResort or logging.NullHandler())
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def _pylode() -> Any:
    """Import pyLODE, working around its 3.4.1 wheel, whose version module reads a pyproject.toml that the wheel
    does not ship (RDFLib/pyLODE#256, #260; fixed upstream, not yet released)."""
    if "pylode.version" not in sys.modules:
        try:
            from importlib.metadata import version  # lazy, as everything here that only the docs need

            found = version("pylode")
        except Exception:  # pragma: no cover - metadata missing
            found = "unknown"
        shim = types.ModuleType("pylode.version")
        shim.__dict__["__version__"] = found
        sys.modules["pylode.version"] = shim
    try:
        with _quiet_root_logger():
            import pylode
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DocsError(f"pyLODE is not installed ({exc}); pip install pylode") from None
    return pylode


def ontology_sources() -> list[Path]:
    """The Turtle files that make up the ontology as documented: the terms and their alignments."""
    folder = ontology_dir()
    return [p for p in (folder / "aflm.ttl", folder / "alignments.ttl") if p.is_file()]


def _graph(paths: Iterable[Path]) -> Any:
    # lazy: rdflib takes ~60 ms to import and only the docs need it, while `aflm-graph export` and the bundle
    # import this module whatever they write (so do pyLODE and importlib.metadata)
    import rdflib

    graph = rdflib.Graph()
    for path in paths:
        try:
            graph.parse(path, format="turtle")
        except (OSError, SyntaxError, ValueError) as exc:
            raise DocsError(f"{path}: cannot read ({' '.join(str(exc).split())})") from None
    for prefix, namespace in DOC_PREFIXES.items():
        graph.bind(prefix, namespace, override=False)
    return graph


def ontology_html(paths: Iterable[Path] | None = None) -> str:
    """The ontology page (pyLODE OntPub) of aflm.ttl with its alignments."""
    sources = list(paths or ontology_sources())
    pylode = _pylode()
    try:
        with _quiet_root_logger():
            return _ordered_json_ld(str(pylode.OntPub(ontology=_graph(sources)).make_html()))
    except Exception as exc:  # pyLODE raises its own errors and plain ones alike
        raise DocsError(f"{sources[0]}: pyLODE could not document the ontology ({exc})") from None


def vocabulary_html(path: Path) -> str:
    """One SKOS vocabulary's page (pyLODE VocPub, its concepts listed by label with what triggers them)."""
    pylode = _pylode()
    try:
        graph = _graph([path])
        _add_agents(graph)
        with _quiet_root_logger():
            return _ordered_json_ld(str(_vocabulary_page(pylode)(ontology=graph).make_html()))
    except Exception as exc:
        raise DocsError(f"{path}: pyLODE could not document the vocabulary ({exc})") from None


_JSON_LD = re.compile(r'(<script[^>]*type="application/ld\+json"[^>]*>)(.*?)(</script>)', re.DOTALL)


def _ordered_json_ld(html: str) -> str:
    """The page with its embedded JSON-LD in one order: pyLODE writes the nodes (and the values of a property)
    in the order of a Python set, so the page changed with PYTHONHASHSEED. Unordered arrays are sorted; an
    `@list` keeps its order. `</` is escaped so that no text can close the script element."""

    def ordered(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (v if k == "@list" else ordered(v)) for k, v in value.items()}
        if isinstance(value, list):
            items = [ordered(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return value

    def rewrite(match: re.Match[str]) -> str:
        try:
            data = json.loads(match.group(2))
        except ValueError:
            return match.group(0)
        text = json.dumps(ordered(data), indent=2, ensure_ascii=False).replace("</", "<\\/")
        return f"{match.group(1)}\n{text}\n{match.group(3)}"

    return _JSON_LD.sub(rewrite, html)


def _add_agents(graph: Any) -> None:
    """Describe the creators and publishers a vocabulary names (by IRI) as aflm.ttl does, so that its page shows
    their names; an agent is described once, in aflm.ttl."""
    from rdflib import URIRef  # lazy, see _graph()

    agents = {o for p in ("creator", "publisher") for o in graph.objects(None, URIRef(DCTERMS.NS + p))
              if isinstance(o, URIRef)}
    if not agents:
        return
    ontology = _graph(ontology_sources()[:1])
    for agent in sorted(agents):
        for p, o in ontology.predicate_objects(agent):
            graph.add((agent, p, o))


_TRIGGERS_NOTE = (
    "Concepts are listed by label. A recommendation is tagged with a concept when its text contains one of the "
    "concept's trigger labels (skos:altLabel and skos:hiddenLabel phrases: case, plurals, British and American "
    "spellings and hyphens aside) or matches one of its trigger patterns (aflm:triggerPattern, Python regular "
    "expressions matched case-insensitively), unless the match overlaps one of the concept's exclusion patterns "
    "(aflm:exclusionPattern: the words used in another sense, as in \"lodging an appeal\"). The preferred label "
    "is for display only and does not trigger."
)


def _anchor(iri: str) -> str:
    """The HTML id of a concept: the scheme and the slug, as pyLODE writes it (group_families)."""
    return html.escape(iri.removeprefix(VOCAB).replace("/", "_"), quote=True)


def _texts(graph: Any, subject: Any, predicate: str) -> list[str]:
    """The English (or untagged) literal values, sorted: what terms/vocab.py reads."""
    from rdflib import Literal, URIRef  # lazy, see _graph()

    values = (str(o) for o in graph.objects(subject, URIRef(predicate))
              if isinstance(o, Literal) and (o.language or "en").lower().startswith("en"))
    return sorted(values, key=lambda v: (v.casefold(), v))


def _iris(graph: Any, subject: Any, predicate: str) -> list[str]:
    from rdflib import URIRef  # lazy, see _graph()

    return sorted(str(o) for o in graph.objects(subject, URIRef(predicate)) if isinstance(o, URIRef))


def _label(graph: Any, iri: str) -> str:
    from rdflib import URIRef  # lazy, see _graph()

    labels = _texts(graph, URIRef(iri), SKOS.prefLabel)
    return labels[0] if labels else iri.rsplit("/", 1)[-1]


def _by_label(graph: Any, iris: Iterable[str]) -> list[str]:
    return sorted(iris, key=lambda iri: (_label(graph, iri).casefold(), iri))


def _row(name: str, value: str, *, href: str | None = None) -> str:
    head = f'<a href="{html.escape(href, quote=True)}">{html.escape(name)}</a>' if href else html.escape(name)
    return f"<tr><td>{head}</td><td>{value}</td></tr>"


def _values(values: Iterable[str], *, wrap: str = "") -> str:
    items = [f"<{wrap}>{html.escape(v)}</{wrap}>" if wrap else html.escape(v) for v in values]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>" if len(items) > 1 else "".join(items)


def _field_rows(graph: Any, subject: Any, fields: Iterable[tuple[str, str, str]]) -> list[str]:
    """One table row per (name, predicate, wrap) field that `subject` has values for, in the given order."""
    rows = []
    for name, predicate, wrap in fields:
        values = _texts(graph, subject, predicate)
        if values:
            rows.append(_row(name, _values(values, wrap=wrap), href=predicate))
    return rows


def _links(graph: Any, iris: Iterable[str], *, local: bool) -> str:
    items = [f'<a href="#{_anchor(i)}">{html.escape(_label(graph, i))}</a>' if local
             else f'<a href="{html.escape(i, quote=True)}">{html.escape(i)}</a>' for i in iris]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>" if len(items) > 1 else "".join(items)


def _concepts(graph: Any, cls: str) -> list[str]:
    from rdflib import URIRef  # lazy, see _graph()

    return _by_label(graph, {str(s) for s in graph.subjects(URIRef(RDF.type), URIRef(cls)) if isinstance(s, URIRef)})


def concept_hierarchy_html(graph: Any) -> str:
    """The concept tree of a vocabulary graph, each level in label order, linking to the concepts' entries."""
    from rdflib import URIRef  # lazy, see _graph()

    concepts = _concepts(graph, SKOS.Concept)
    children: dict[str, list[str]] = {}
    roots = []
    for iri in concepts:
        broader = [b for b in _iris(graph, URIRef(iri), SKOS.broader) if b in concepts]
        for b in broader:
            children.setdefault(b, []).append(iri)
        if not broader:
            roots.append(iri)

    def tree(iris: list[str]) -> str:
        return "<ul>" + "".join(
            f'<li><a href="#{_anchor(i)}">{html.escape(_label(graph, i))}</a>{tree(children.get(i, []))}</li>'
            for i in iris
        ) + "</ul>" if iris else ""

    return f'<div id="concept-hierarchy"><h2>Concept Hierarchy</h2>{tree(roots)}</div>'


def concepts_html(graph: Any) -> str:
    """Every concept of a vocabulary graph in label order, with its slug, definition and the triggers that tag a
    recommendation with it; then the concept patterns that mint numbered concepts."""
    from rdflib import URIRef  # lazy, see _graph()

    out = [f'<div id="concepts"><h2>Concepts</h2><p>{html.escape(_TRIGGERS_NOTE)}</p>']
    for iri in _concepts(graph, SKOS.Concept):
        s = URIRef(iri)
        scheme = iri.rsplit("/", 1)[0]
        rows = [f'<tr><td style="width:250px;"><strong>IRI</strong></td><td><code>{html.escape(iri)}</code></td></tr>',
                _row("Slug", f"<code>{html.escape(iri[len(scheme) + 1:])}</code>")]
        rows += _field_rows(graph, s, (("Definition", SKOS.definition, ""), ("Scope note", SKOS.scopeNote, ""),
                                       ("Trigger labels (alternative)", SKOS.altLabel, ""),
                                       ("Trigger labels (hidden)", SKOS.hiddenLabel, ""),
                                       ("Trigger patterns", AFLM.triggerPattern, "code"),
                                       ("Exclusion patterns", AFLM.exclusionPattern, "code"),
                                       ("Instrument kind", AFLM.instrumentKind, "")))
        if not any(_texts(graph, s, p) for p in (SKOS.altLabel, SKOS.hiddenLabel, AFLM.triggerPattern)):
            rows.append(_row("Triggers", "none of its own (minted by a concept pattern below, or retired)"))
        for name, predicate in (("Broader", SKOS.broader), ("Narrower", SKOS.narrower)):
            related = _by_label(graph, _iris(graph, s, predicate))
            if related:
                rows.append(_row(name, _links(graph, related, local=True), href=predicate))
        narrower = _by_label(graph, {str(n) for n in graph.subjects(URIRef(SKOS.broader), s)})
        if narrower and not _iris(graph, s, SKOS.narrower):
            rows.append(_row("Narrower", _links(graph, narrower, local=True), href=SKOS.narrower))
        for name, predicate in (("Exact match", SKOS.exactMatch), ("See also", RDFS.seeAlso),
                                ("Focus", "http://xmlns.com/foaf/0.1/focus")):
            targets = _iris(graph, s, predicate)
            if targets:
                rows.append(_row(name, _links(graph, targets, local=False), href=predicate))
        out.append(f'<div class="entity"><h3 id="{_anchor(iri)}">{html.escape(_label(graph, iri))}</h3>'
                   f'<table>{"".join(rows)}</table></div>')
    out.append("</div>")
    patterns = _concepts(graph, AFLM.ConceptPattern)
    if patterns:
        out.append('<div id="concept-patterns"><h2>Concept patterns</h2><p>Each pattern tags a recommendation with '
                   "a numbered concept (listed above or not) whenever its text matches one of the trigger patterns; "
                   "the named group n is the number that fills the templates.</p>")
        for iri in patterns:
            s = URIRef(iri)
            rows = [f'<tr><td style="width:250px;"><strong>IRI</strong></td><td><code>{html.escape(iri)}</code></td>'
                    "</tr>"]
            rows += _field_rows(graph, s, (("Definition", SKOS.definition, ""),
                                           ("Trigger patterns", AFLM.triggerPattern, "code"),
                                           ("Slug template", AFLM.slugTemplate, "code"),
                                           ("Label template", AFLM.labelTemplate, ""),
                                           ("Match template", AFLM.matchTemplate, "code"),
                                           ("See-also template", AFLM.seeAlsoTemplate, "code"),
                                           ("Instrument kind", AFLM.instrumentKind, "")))
            out.append(f'<div class="entity"><h3 id="{_anchor(iri)}">{html.escape(_label(graph, iri))}</h3>'
                       f'<table>{"".join(rows)}</table></div>')
        out.append("</div>")
    return "".join(out)


@cache
def _vocabulary_page(pylode: Any) -> Any:
    """pyLODE's VocPub with our concept hierarchy and concept list: VocPub 3.4 lists concepts in IRI (slug) order,
    shows one alternative label of several, and neither hidden labels, trigger patterns nor concept patterns."""
    raw = importlib.import_module("dominate.util").raw

    class VocabularyPage(pylode.VocPub):
        def _make_concept_hierarchy(self) -> None:
            with self.content:
                raw(concept_hierarchy_html(self.ont))

        def _make_main_sections(self) -> None:
            with self.content:
                raw(concepts_html(self.ont))

    return VocabularyPage


# --- the class diagram


@dataclass
class _Box:
    iri: str
    name: str
    parents: list[str]
    attributes: list[str]
    x: float
    y: float
    width: float = 250
    height: float = 0

    def __post_init__(self) -> None:
        self.height = 44 + 15 * len(self.attributes) + (14 if self.parents else 0)
        longest = max([len(self.name) * 1.1, len(", ".join(self.parents)) + 2, *map(len, self.attributes)])
        self.width = max(self.width, 6.3 * longest + 24)

    def border(self, tx: float, ty: float) -> tuple[float, float]:
        """Where the line from this box's centre towards (tx, ty) leaves the box."""
        dx, dy = tx - self.x, ty - self.y
        if dx == 0 and dy == 0:
            return self.x, self.y
        sx = (self.width / 2) / abs(dx) if dx else float("inf")
        sy = (self.height / 2) / abs(dy) if dy else float("inf")
        s = min(sx, sy)
        return self.x + dx * s, self.y + dy * s


# centre of each main class on the canvas (column, row); classes added later go to a row of their own
_LAYOUT = {
    AFLM.MemberState: (180, 70),
    AFLM.RecommendationsDocument: (620, 90),
    "http://www.w3.org/ns/prov#Agent": (1030, 70),
    AFLM.ForumEdition: (180, 270),
    AFLM.SubTheme: (180, 470),
    AFLM.Recommendation: (620, 470),
    AFLM.TextLink: (1030, 290),
    "http://www.w3.org/ns/prov#Entity": (1030, 570),
    OWL.NS + "Thing": (620, 900),  # the properties declared without a domain
    AFLM.ConceptMention: (180, 720),
    SKOS.Concept: (620, 740),
    AFLM.ConceptPattern: (1030, 740),
}


def _short(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return iri[len(ns):] if prefix == "aflm" else f"{prefix}:{iri[len(ns):]}"
    return iri


def class_diagram(paths: Iterable[Path] | None = None) -> str:
    """An SVG of the main classes (boxes with their datatype properties) and the object properties between them.

    A property with no rdfs:domain is drawn on owl:Thing (it may describe anything); a property of another
    vocabulary that the ontology documents (dcterms:title ...) is drawn where schema:domainIncludes says it is used.
    Annotation properties (the vocabularies' triggers and templates) are not drawn."""
    graph = _graph(list(paths or ontology_sources()))
    from rdflib import URIRef  # lazy, see _graph()

    def objects(s: str, p: str) -> list[str]:
        return sorted(str(o) for o in graph.objects(URIRef(s), URIRef(p)))

    classes = sorted(
        str(s) for s in graph.subjects(URIRef(RDF.type), URIRef(OWL.NS + "Class")) if str(s).startswith(AFLM.NS)
    )
    includes = SCHEMA.NS + "domainIncludes"
    properties = sorted({str(s) for s in graph.subjects(URIRef(RDF.type), None) if str(s).startswith(AFLM.NS)}
                        | {str(s) for s in graph.subjects(URIRef(includes), None)})
    attributes: dict[str, list[str]] = {}
    edges: dict[tuple[str, str], list[str]] = {}
    for prop in properties:
        kinds = objects(prop, RDF.type)
        domains = objects(prop, RDFS.NS + "domain") or objects(prop, includes) or [OWL.NS + "Thing"]
        ranges = objects(prop, RDFS.NS + "range") or objects(prop, SCHEMA.NS + "rangeIncludes") or [""]
        for domain in domains:
            for rng in ranges:
                if OWL.NS + "ObjectProperty" in kinds and rng:
                    edges.setdefault((domain, rng), []).append(_short(prop))
                elif OWL.NS + "DatatypeProperty" in kinds or RDF.NS + "Property" in kinds:
                    attributes.setdefault(domain, []).append(f"{_short(prop)}: {_short(rng) if rng else 'literal'}")
    drawn = {d for (d, _) in edges} | set(attributes) | {r for (_, r) in edges}
    nodes = list(classes) + sorted((drawn - set(classes)) & set(_LAYOUT))
    boxes: dict[str, _Box] = {}
    extra = 0
    for iri in nodes:
        if iri in _LAYOUT:
            x, y = _LAYOUT[iri]
        else:
            x, y = 180 + 390 * (extra % 3), 960 + 200 * (extra // 3)
            extra += 1
        parents = [_short(p) for p in objects(iri, RDFS.NS + "subClassOf")]
        name = "owl:Thing (no domain)" if iri == OWL.NS + "Thing" else _short(iri)
        boxes[iri] = _Box(iri, name, parents, attributes.get(iri, []), x, y)
    width = 1220
    height = max(b.y + b.height / 2 for b in boxes.values()) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" width="{width}" '
        f'height="{height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img" '
        'aria-labelledby="diagram-title">',
        '<title id="diagram-title">Main classes and properties of the aflm ontology</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>',
        f'<rect width="{width}" height="{height:.0f}" fill="#fff"/>',
    ]
    labels: list[tuple[float, float, str, str]] = []  # x, y, text, text-anchor
    for (domain, rng), names in sorted(edges.items()):
        a, b = boxes.get(domain), boxes.get(rng)
        if a is None or b is None:
            continue
        text = ", ".join(names)
        if a is b:  # a property from a class to itself: a loop on the box's right side
            x0, y0 = a.x + a.width / 2, a.y
            out.append(
                f'<path d="M{x0:.0f},{y0 - 12:.0f} C{x0 + 70:.0f},{y0 - 50:.0f} {x0 + 70:.0f},{y0 + 50:.0f} '
                f'{x0:.0f},{y0 + 12:.0f}" fill="none" stroke="#444" marker-end="url(#arrow)"/>'
            )
            labels.append((x0 + 58, y0 + 4, text, "start"))
            continue
        x1, y1 = a.border(b.x, b.y)
        x2, y2 = b.border(a.x, a.y)
        out.append(
            f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#444" marker-end="url(#arrow)"/>'
        )
        labels.append(((x1 + x2) / 2, (y1 + y2) / 2, text, "middle"))
    for box in boxes.values():
        left, top = box.x - box.width / 2, box.y - box.height / 2
        colour = "#e8f0fb" if box.iri.startswith(AFLM.NS) else "#f3f3f3"
        out.append(
            f'<g><rect x="{left:.0f}" y="{top:.0f}" width="{box.width:.0f}" height="{box.height:.0f}" rx="6" '
            f'fill="{colour}" stroke="#36c"/>'
        )
        out.append(
            f'<text x="{box.x:.0f}" y="{top + 18:.0f}" text-anchor="middle" font-weight="bold" font-size="13">'
            f"{html.escape(box.name)}</text>"
        )
        line = top + 18
        if box.parents:
            line += 14
            out.append(
                f'<text x="{box.x:.0f}" y="{line:.0f}" text-anchor="middle" font-style="italic" fill="#555" '
                f'font-size="11">⊂ {html.escape(", ".join(box.parents))}</text>'
            )
        if box.attributes:
            out.append(
                f'<line x1="{left:.0f}" y1="{line + 8:.0f}" x2="{left + box.width:.0f}" y2="{line + 8:.0f}" '
                'stroke="#36c"/>'
            )
        for i, attribute in enumerate(box.attributes):
            out.append(
                f'<text x="{left + 8:.0f}" y="{line + 23 + 15 * i:.0f}" font-size="11">{html.escape(attribute)}</text>'
            )
        out.append("</g>")
    for lx, ly, text, anchor in labels:
        chars = len(text)
        w = 6.4 * chars + 8
        left = lx - w / 2 if anchor == "middle" else lx - 4
        out.append(f'<rect x="{left:.0f}" y="{ly - 11:.0f}" width="{w:.0f}" height="15" fill="#fff" opacity="0.9"/>')
        out.append(f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="{anchor}" fill="#224">{html.escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- the whole documentation folder


def _index(vocabularies: list[tuple[str, str]], diagram: str, title: str) -> str:
    items = "\n".join(
        f'      <li><a href="vocab/{html.escape(name)}.html">{html.escape(label)}</a></li>'
        for name, label in vocabularies
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)}: documentation</title>
  <style>
    body {{ font-family: Helvetica, Arial, sans-serif; max-width: 1260px; margin: 2em auto; padding: 0 1em; }}
    svg {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}
    code {{ background: #f4f4f4; padding: 0 .2em; }}
  </style>
</head>
<body>
  <h1>{html.escape(title)}</h1>
  <p>Documentation of the ontology <code>{html.escape(ONTOLOGY)}</code> (prefix <code>aflm:</code>) and of the
  controlled vocabularies that recommendations are annotated with. Generated by <code>aflm-graph docs</code>
  with pyLODE from the Turtle sources in <code>ontology/</code>.</p>
  <ul>
    <li><a href="ontology.html">The ontology: classes, properties and alignments</a></li>
    <li>Vocabularies:
      <ul>
{items}
      </ul>
    </li>
    <li><a href="diagram.svg">Class diagram (SVG)</a></li>
  </ul>
  <h2>Main classes and properties</h2>
  <p>Boxes are classes with their datatype properties; arrows are object properties from domain to range.
  Properties declared without a domain are in the <code>owl:Thing</code> box; the Dublin Core properties every
  document carries are shown where they are used (<code>schema:domainIncludes</code>).</p>
{diagram}
</body>
</html>
"""


def _vocabulary_label(path: Path) -> str:
    graph = _graph([path])
    from rdflib import URIRef  # lazy, see _graph()

    for scheme in sorted(graph.subjects(URIRef(RDF.type), URIRef(SKOS.ConceptScheme))):
        for predicate in (SKOS.prefLabel, "http://purl.org/dc/terms/title", RDFS.label):
            label = graph.value(scheme, URIRef(predicate))
            if label is not None:
                return str(label)
    return path.stem


def is_docs(folder: Path) -> bool:
    """Whether `folder` holds documentation that `aflm-graph docs` wrote (its index page says so)."""
    index = folder / "index.html"
    try:
        if not index.is_file() or index.stat().st_size > 16 * 1024 * 1024:
            return False
        return "Generated by <code>aflm-graph docs</code>" in index.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def write_docs(out: Path, *, vocabularies: Iterable[Path] | None = None, force: bool = False) -> list[Path]:
    """Write index.html, ontology.html, diagram.svg and vocab/<name>.html into `out` (replaced atomically).

    `out` is replaced only when it is new, empty or earlier docs (with `force`, a folder of other files too;
    never the home folder, `/` or the current folder): see fsutil.check_output_folder.
    """
    try:
        check_output_folder(out, is_previous=is_docs, what="docs", force=force)
    except OutputError as exc:
        raise DocsError(str(exc)) from None

    vocab_files = sorted(vocabularies if vocabularies is not None else vocab_dir().glob("*.ttl"))
    title = "AFML recommendations ontology"
    pages: dict[str, str] = {"ontology.html": ontology_html()}
    listed = []
    for path in vocab_files:
        pages[f"vocab/{path.stem}.html"] = vocabulary_html(path)
        listed.append((path.stem, _vocabulary_label(path)))
    diagram = class_diagram()
    pages["diagram.svg"] = diagram
    pages["index.html"] = _index(listed, diagram, title)
    written = []
    with staged_directory(Path(out)) as stage:
        for name, text in sorted(pages.items()):
            atomic_write_bytes(stage / name, text.encode("utf-8"))
            written.append(Path(out) / name)
    return written
