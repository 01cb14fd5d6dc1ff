"""SHACL core shapes compiled to SPARQL and run on pyoxigraph: shape validation that scales.

pySHACL walks an rdflib graph node by node: about 0.3 ms per triple here, so 45 s for a
100-document build and hours for millions of triples. The constraints `ontology/shapes.ttl` uses
are each one set-at-a-time SPARQL query over the build's store instead (a few seconds in all for
millions of triples), reporting exactly what pySHACL reports: the same focus node, path, value,
message (the shape's sh:message), severity and shape. `tests/test_validate_scale.py` runs both on
every shapes fixture and on the seed build and requires the same findings.

Supported, as SHACL 1.0 defines them: targets sh:targetClass (with rdfs:subClassOf), sh:targetNode,
sh:targetSubjectsOf, sh:targetObjectsOf and implicit class targets; property shapes whose sh:path
is an IRI or an inverse path; sh:minCount, sh:maxCount, sh:datatype (with the XSD lexical rules for
integers, decimals, dates, years and booleans, where pySHACL asks rdflib whether a literal is
ill-typed), sh:nodeKind, sh:class, sh:in, sh:hasValue, sh:minLength, sh:maxLength, sh:pattern
(with sh:flags), sh:minInclusive, sh:maxInclusive, sh:minExclusive, sh:maxExclusive, sh:lessThan,
sh:lessThanOrEquals, sh:uniqueLang and sh:or of shapes made of these value constraints, on property
shapes and (where SHACL allows it) on node shapes. Every constraint needs an sh:message (pySHACL's
generated messages are not reproduced). Shapes that use anything else raise `Unsupported`, and
`validate_statements` then runs pySHACL on the whole graph as before: slower, never wrong.
SHACL-SPARQL constraints (sh:sparql) run in `validate.sparql_findings` either way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .namespaces import XSD
from .validate import (
    SEVERITY_ORDER,
    SH,
    SHACL_GRAPHS,
    Finding,
    ValidationError,
    ValidationReport,
    _shape_name,
    compact,
    core_shapes,
    load_shapes,
    query_findings,
    shacl_findings,
    shape_predicates,
    sparql_findings,
    violation_queries,
)

if TYPE_CHECKING:
    import pyoxigraph as ox

    from .statements import Statements

PYSHACL_LIMIT = 20_000
"""Above this many statements in the graphs the shapes read, a build validates with the compiled shapes."""

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDFS_CLASS = "http://www.w3.org/2000/01/rdf-schema#Class"
OWL_CLASS = "http://www.w3.org/2002/07/owl#Class"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"

# Lexical forms of the XSD datatypes whose ill-typed literals pySHACL rejects (through rdflib).
_LEXICAL = {
    XSD.integer: r"^[+-]?[0-9]+$",
    XSD.decimal: r"^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$",
    XSD.boolean: r"^(true|false|1|0)$",
    XSD.date: r"^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-][0-9]{2}:[0-9]{2})?$",
    XSD.gYear: r"^-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?$",
}
_NODE_KINDS = {
    "IRI": "isIRI({v})",
    "BlankNode": "isBlank({v})",
    "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "(isBlank({v}) || isIRI({v}))",
    "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
# Parameters a shape may carry that do not constrain anything (or are handled elsewhere).
_NEUTRAL = {
    "message", "severity", "deactivated", "name", "description", "order", "group", "defaultValue", "path",
    "property", "sparql", "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "declare", "prefixes",
}
_VALUE_PARAMETERS = {
    "datatype", "nodeKind", "class", "in", "hasValue", "minLength", "maxLength", "pattern", "flags",
    "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "lessThan", "lessThanOrEquals", "or",
}
_PROPERTY_ONLY = {"minCount", "maxCount", "uniqueLang", "lessThan", "lessThanOrEquals"}


class Unsupported(ValueError):
    """The shapes use a construct this compiler does not translate (pySHACL then does the work)."""


@dataclass(frozen=True)
class Check:
    """One query: its rows are results of one shape (`value`: the rows carry ?v, the value node)."""

    shape: str  # the shape's name in findings
    path: str  # compact path, "" for a node shape
    message: str
    severity: str
    query: str
    value: bool


def _sh(name: str) -> Any:
    from rdflib import URIRef

    return URIRef(SH + name)


def _local(iri: Any) -> str:
    text = str(iri)
    return text[len(SH):] if text.startswith(SH) else ""


def _sparql_term(node: Any) -> str:
    """An rdflib term in SPARQL syntax (by way of pyoxigraph, whose N-Triples form SPARQL reads)."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    if isinstance(node, URIRef):
        return str(ox.NamedNode(str(node)))
    if isinstance(node, Literal):
        if node.language:
            return str(ox.Literal(str(node), language=node.language))
        return str(ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype or XSD.string))))
    if isinstance(node, BNode):
        raise Unsupported("a blank node as a constraint value")
    raise Unsupported(f"{node!r} as a constraint value")


def _items(shapes: Any, head: Any) -> list[Any]:
    """The members of an RDF list in the shapes graph."""
    from rdflib import URIRef

    out = []
    while head is not None and str(head) != RDF_NIL:
        first = shapes.value(head, URIRef(RDF_FIRST))
        if first is None:
            raise Unsupported("a malformed RDF list")
        out.append(first)
        head = shapes.value(head, URIRef(RDF_REST))
    return out


def _message(shapes: Any, shape: Any) -> str:
    messages = sorted(shapes.objects(shape, _sh("message")), key=lambda m: (getattr(m, "language", None) != "en", m))
    if not messages:
        raise Unsupported(f"{shape}: a constraint without sh:message (pySHACL would generate one)")
    return " ".join(str(messages[0]).split())


def _severity(shapes: Any, shape: Any) -> str:
    return str(shapes.value(shape, _sh("severity")) or SH + "Violation").rsplit("#", 1)[-1]


def _parameters(shapes: Any, shape: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for p, o in shapes.predicate_objects(shape):
        name = _local(p)
        if name:
            found.setdefault(name, []).append(o)
    return found


class _Compiler:
    def __init__(self, shapes: Any, classes: Any) -> None:
        self.shapes = shapes
        self.subclasses = classes  # class IRI -> itself and its subclasses (in the data), as SPARQL terms

    # --- value conditions: SPARQL expressions true when value {v} violates a constraint

    def _instance_of(self, v: str, cls: Any) -> str:
        members = self.subclasses(str(cls))
        if len(members) == 1:
            return f"EXISTS {{ {v} <{RDF_TYPE}> {members[0]} }}"
        return f"EXISTS {{ {v} <{RDF_TYPE}> ?__k FILTER (?__k IN ({', '.join(members)})) }}"

    def conforms(self, params: dict[str, list[Any]], v: str, this: str, *, node_shape: bool) -> list[str]:
        """Expressions that hold when `v` meets each value constraint of a shape (one per constraint)."""
        ok: list[str] = []
        for name, values in params.items():
            if name in _NEUTRAL or name == "minCount" or name == "maxCount" or name == "uniqueLang":
                continue
            if name not in _VALUE_PARAMETERS:
                raise Unsupported(f"sh:{name}")
            if node_shape and name in _PROPERTY_ONLY:
                raise Unsupported(f"sh:{name} on a node shape")
            for value in values:
                if name == "flags":
                    continue
                ok.append(self._condition(name, value, params, v, this))
        return ok

    def _condition(self, name: str, value: Any, params: dict[str, list[Any]], v: str, this: str) -> str:
        shapes = self.shapes
        if name == "datatype":
            dt = str(value)
            if dt == RDF_LANGSTRING:
                return f'(isLiteral({v}) && LANG({v}) != "")'
            cond = f"(isLiteral({v}) && DATATYPE({v}) = <{dt}>"
            if dt in _LEXICAL:
                cond += f' && REGEX(STR({v}), "{_LEXICAL[dt]}")'
            return cond + ")"
        if name == "nodeKind":
            kind = _local(value)
            if kind not in _NODE_KINDS:
                raise Unsupported(f"sh:nodeKind {value}")
            return _NODE_KINDS[kind].format(v=v)
        if name == "class":
            return self._instance_of(v, value)
        if name == "in":
            members = [_sparql_term(m) for m in _items(shapes, value)]
            return "(" + " || ".join(f"sameTerm({v}, {m})" for m in members) + ")" if members else "false"
        if name == "hasValue":
            return f"sameTerm({v}, {_sparql_term(value)})"
        if name in ("minLength", "maxLength"):
            op = ">=" if name == "minLength" else "<="
            return f"(!isBlank({v}) && STRLEN(STR({v})) {op} {int(value)})"
        if name == "pattern":
            flags = [str(f) for f in params.get("flags", [])]
            args = f"STR({v}), {_string(str(value))}" + (f", {_string(flags[0])}" if flags else "")
            return f"(!isBlank({v}) && REGEX({args}))"
        if name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}[name]
            return f"COALESCE({v} {op} {_sparql_term(value)}, false)"
        if name in ("lessThan", "lessThanOrEquals"):
            op = "<" if name == "lessThan" else "<="
            return f"NOT EXISTS {{ {this} <{value}> ?__w FILTER (!COALESCE({v} {op} ?__w, false)) }}"
        if name == "or":
            options = []
            for member in _items(shapes, value):
                inner = _parameters(shapes, member)
                if "path" in inner or "property" in inner:
                    raise Unsupported("sh:or of shapes with properties")
                conditions = self.conforms(inner, v, this, node_shape=True)
                options.append("(" + " && ".join(conditions) + ")" if conditions else "true")
            return "(" + " || ".join(options) + ")" if options else "false"
        raise Unsupported(f"sh:{name}")

    # --- targets

    def focus(self, shape: Any, params: dict[str, list[Any]]) -> str | None:
        from rdflib import URIRef

        parts = []
        classes = [str(c) for c in params.get("targetClass", [])]
        types = {str(t) for t in self.shapes.objects(shape, URIRef(RDF_TYPE))}
        if isinstance(shape, URIRef) and types & {RDFS_CLASS, OWL_CLASS}:
            classes.append(str(shape))  # an implicit class target
        members = sorted({m for c in classes for m in self.subclasses(c)})
        if members:
            parts.append(f"{{ ?this <{RDF_TYPE}> ?__c VALUES ?__c {{ {' '.join(members)} }} }}")
        nodes = [_sparql_term(n) for n in params.get("targetNode", [])]
        if nodes:
            parts.append(f"{{ VALUES ?this {{ {' '.join(nodes)} }} }}")
        for p in params.get("targetSubjectsOf", []):
            parts.append(f"{{ SELECT DISTINCT ?this WHERE {{ ?this <{p}> ?__o }} }}")
        for p in params.get("targetObjectsOf", []):
            parts.append(f"{{ SELECT DISTINCT ?this WHERE {{ ?__s <{p}> ?this }} }}")
        return " UNION ".join(parts) if parts else None

    def path(self, node: Any) -> tuple[str, str]:
        """(SPARQL path from ?this to ?v, compact name as pySHACL reports it)."""
        from rdflib import BNode, URIRef

        if isinstance(node, URIRef):
            return f"?this <{node}> ?v", compact(str(node))
        if isinstance(node, BNode):
            inverse = self.shapes.value(node, _sh("inversePath"))
            if isinstance(inverse, URIRef) and len(list(self.shapes.predicate_objects(node))) == 1:
                return f"?v <{inverse}> ?this", "^" + compact(str(inverse))
        raise Unsupported("a complex sh:path")

    # --- checks

    def checks(self) -> list[Check]:
        from rdflib import URIRef

        shapes = self.shapes
        out: list[Check] = []
        roots = set(shapes.subjects(URIRef(RDF_TYPE), _sh("NodeShape"))) | set(
            shapes.subjects(URIRef(RDF_TYPE), _sh("PropertyShape")))
        for p in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"):
            roots |= set(shapes.subjects(_sh(p), None))
        for shape in sorted(roots, key=str):
            params = _parameters(shapes, shape)
            if params.get("deactivated") and str(params["deactivated"][0]).lower() == "true":
                continue
            focus = self.focus(shape, params)
            if focus is None:
                continue
            if "path" in params:  # a property shape with targets of its own
                out += self._property_checks(shape, focus, params)
                continue
            name = _shape_name(shapes, shape)
            conditions = self.conforms(params, "?this", "?this", node_shape=True)
            if conditions:
                out.append(Check(name, "", _message(shapes, shape), _severity(shapes, shape),
                                 f"SELECT DISTINCT ?this (?this AS ?v) WHERE {{ {{ {focus} }} "
                                 f"FILTER (!({' && '.join(conditions)})) }}", True))
            for prop in params.get("property", []):
                inner = _parameters(shapes, prop)
                if inner.get("deactivated") and str(inner["deactivated"][0]).lower() == "true":
                    continue
                out += self._property_checks(prop, focus, inner)
            for p in ("node", "and", "not", "xone", "closed", "qualifiedValueShape", "equals", "disjoint",
                      "languageIn"):
                if p in params:
                    raise Unsupported(f"sh:{p}")
        return out

    def _property_checks(self, prop: Any, focus: str, params: dict[str, list[Any]]) -> list[Check]:
        if len(params.get("path", [])) != 1:
            raise Unsupported("a property shape without exactly one sh:path")
        for p in params:
            if p not in _NEUTRAL and p not in _VALUE_PARAMETERS and p not in _PROPERTY_ONLY:
                raise Unsupported(f"sh:{p}")
        pattern, path = self.path(params["path"][0])
        name = _shape_name(self.shapes, prop)
        message, severity = _message(self.shapes, prop), _severity(self.shapes, prop)
        checks = []
        head = f"{{ {focus} }}"
        conditions = self.conforms(params, "?v", "?this", node_shape=False)
        if conditions:
            checks.append(Check(name, path, message, severity,
                                f"SELECT DISTINCT ?this ?v WHERE {{ {head} {pattern} . "
                                f"FILTER (!({' && '.join(conditions)})) }}", True))
        for low in params.get("minCount", []):
            n = int(low)
            if n == 1:
                query = f"SELECT DISTINCT ?this WHERE {{ {head} FILTER NOT EXISTS {{ {pattern} }} }}"
            elif n > 1:
                query = (f"SELECT ?this WHERE {{ {head} OPTIONAL {{ {pattern} }} }} GROUP BY ?this "
                         f"HAVING (COUNT(DISTINCT ?v) < {n})")
            else:
                continue
            checks.append(Check(name, path, message, severity, query, False))
        for high in params.get("maxCount", []):
            n = int(high)
            if n == 0:
                query = f"SELECT DISTINCT ?this WHERE {{ {head} {pattern} }}"
            elif n == 1:
                other = pattern.replace("?v", "?__v2")
                query = (f"SELECT DISTINCT ?this WHERE {{ {head} {pattern} . {other} . "
                         "FILTER (!sameTerm(?v, ?__v2)) }")
            else:
                query = (f"SELECT ?this WHERE {{ {head} {pattern} }} GROUP BY ?this "
                         f"HAVING (COUNT(DISTINCT ?v) > {n})")
            checks.append(Check(name, path, message, severity, query, False))
        for unique in params.get("uniqueLang", []):
            if str(unique).lower() == "true":
                other = pattern.replace("?v", "?__v2")
                checks.append(Check(name, path, message, severity,
                                    f"SELECT DISTINCT ?this WHERE {{ {head} {pattern} . {other} . "
                                    'FILTER (!sameTerm(?v, ?__v2) && LANG(?v) != "" '
                                    "&& LCASE(LANG(?v)) = LCASE(LANG(?__v2))) }", False))
        return checks


def _string(text: str) -> str:
    import pyoxigraph as ox

    return str(ox.Literal(text))


def compile_checks(shapes: Any, store: ox.Store, graphs: Sequence[str] = SHACL_GRAPHS) -> list[Check]:
    """The shapes graph as queries; raises Unsupported for a construct outside the supported set."""
    import pyoxigraph as ox

    default_graph = [ox.NamedNode(g) for g in graphs]
    cache: dict[str, list[str]] = {}

    def subclasses(cls: str) -> list[str]:
        found = cache.get(cls)
        if found is None:
            rows = store.query(
                f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS_SUBCLASS}>* <{cls}> }}", default_graph=default_graph
            )
            found = sorted({str(row["c"]) for row in rows} | {f"<{cls}>"})  # type: ignore[index]
            cache[cls] = found
        return found

    return _Compiler(core_shapes(shapes), subclasses).checks()


def _shown(term: Any) -> str:
    """A term as findings show it (what `validate._term` makes of the rdflib term)."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        text = term.value
        shown = text if len(text) <= 60 else text[:59] + "…"
        if term.language:
            return f'"{shown}"@{term.language}'
        datatype = term.datatype.value
        return f'"{shown}"' + ("" if datatype == XSD.string else f"^^{compact(datatype)}")
    return str(term)


def compiled_findings(store: ox.Store, shapes: Any, graphs: Sequence[str] = SHACL_GRAPHS) -> list[Finding]:
    """What pySHACL reports for the core constraints of `shapes` on the store's `graphs`, by SPARQL."""
    import pyoxigraph as ox

    default_graph = [ox.NamedNode(g) for g in graphs]
    findings = []
    for check in compile_checks(shapes, store, graphs):
        try:
            rows = store.query(check.query, default_graph=default_graph)
        except (SyntaxError, OSError, RuntimeError) as exc:
            raise ValidationError(f"{check.shape}: the compiled shape does not run ({exc})") from None
        for row in rows:  # type: ignore[union-attr]
            findings.append(Finding(
                severity=check.severity,
                focus=_shown(row["this"]),  # type: ignore[index]
                path=check.path,
                message=check.message,
                source="shapes",
                shape=check.shape,
                value=_shown(row["v"]) if check.value else "",  # type: ignore[index]
            ))
    return findings


def _rdflib_data(statements: Statements, predicates: set[str]) -> Any:
    """The graphs the shapes read, cut to the predicates they name, as an rdflib Graph (via N-Triples)."""
    import rdflib

    wanted = {f"<{p}>" for p in predicates}
    lines = [st for g in SHACL_GRAPHS for st in statements.graph(g) if st.split(" ", 2)[1] in wanted]
    graph = rdflib.Graph()
    if lines:
        graph.parse(data=" .\n".join(lines) + " .\n", format="nt")
    return graph


def validate_statements(
    statements: Statements,
    store: ox.Store,
    *,
    shapes_path: Path | None = None,
    queries_folder: Path | None = None,
    where: str = "build",
    pyshacl_limit: int = PYSHACL_LIMIT,
) -> ValidationReport:
    """Validate a build from its statements and its store (already loaded): shapes, then violation queries.

    Up to `pyshacl_limit` statements in the graphs the shapes read (the seeds have ~5,000), pySHACL
    checks the core constraints, as `validate.validate_quads` does; above, the compiled queries of
    this module do, unless the shapes use something they do not support.
    """
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    shapes = load_shapes(shapes_path)
    queries = violation_queries(queries_folder)
    if not queries:
        from .resources import queries_dir

        raise ValidationError(f"{queries_folder or queries_dir()}: no *-violation.rq queries found")
    size = sum(len(statements.graph(g)) for g in SHACL_GRAPHS)
    seconds["load"] = time.perf_counter() - t

    t = time.perf_counter()
    findings: list[Finding] | None = None
    if size > pyshacl_limit:
        try:
            findings = compiled_findings(store, shapes)
        except Unsupported:
            findings = None
    if findings is None:
        findings = shacl_findings(_rdflib_data(statements, shape_predicates(shapes)), core_shapes(shapes))
    seconds["shacl"] = time.perf_counter() - t

    t = time.perf_counter()
    findings += sparql_findings(store, shapes)
    findings += query_findings(store, queries)
    seconds["queries"] = time.perf_counter() - t

    from rdflib import RDF, URIRef

    node_shapes = set(shapes.subjects(RDF.type, URIRef(SH + "NodeShape")))
    findings = sorted(set(findings), key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.focus, f.path, f.message,
                                                    f.source))
    return ValidationReport(findings=findings, triples=size, shapes=len(node_shapes), queries=len(queries),
                            seconds=seconds, where=where)
