"""SHACL core shapes compiled to Python checks and streamed over a build's sorted statements: validation that scales.

pySHACL walks an rdflib graph node by node, about 0.3 ms per triple here: 45 s for a 100-document
build, hours for millions of triples. The statements of a build (statements.py) are sorted by
subject, so one pass sees each focus node with all its values together; the few facts a check
needs from elsewhere (the types of a linked resource for sh:class, the subjects of an inverse
path) come from one cheaper pass before. The result is what pySHACL reports: the same focus node,
path, value, message (the shape's sh:message), severity and shape name.
`tests/test_validate_scale.py` runs both on every shapes fixture and on a seed build broken in
every way the shapes can see, and requires the same findings.

Supported, as SHACL 1.0 defines them: targets sh:targetClass (with rdfs:subClassOf), sh:targetNode,
sh:targetSubjectsOf, sh:targetObjectsOf and implicit class targets; property shapes whose sh:path
is an IRI or an inverse path; sh:minCount, sh:maxCount, sh:datatype (ill-typed literals of
xsd:integer, decimal, boolean, date and gYear fail, as pySHACL has rdflib judge them), sh:nodeKind,
sh:class, sh:in, sh:hasValue, sh:minLength, sh:maxLength, sh:pattern (with sh:flags; Python regular
expressions, as in pySHACL), sh:minInclusive, sh:maxInclusive, sh:minExclusive, sh:maxExclusive,
sh:lessThan, sh:lessThanOrEquals, sh:uniqueLang, and sh:or of shapes made of these value
constraints, on property shapes and (where SHACL allows it) on node shapes. Every constraint needs
an sh:message (pySHACL's generated messages are not reproduced). Shapes that use anything else
raise `Unsupported`; `validate_statements` then runs pySHACL on the whole graph: slower, never wrong.

SHACL-SPARQL constraints (sh:sparql) and the `queries/*-violation.rq` queries need a SPARQL engine:
they run on an in-memory pyoxigraph store of the whole build up to `FULL_QUERY_LIMIT` statements
(the on-disk store answers them about ten times slower), and above that on the statements of a
fixed sample of documents (`sample_statements`): the report says so, and `aflm-graph validate` on
the built folder runs them on everything.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .namespaces import DATA, XSD
from .statements import parse_literal
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
"""Up to this many statements in the graphs the shapes read (the seeds have ~5,000), pySHACL checks the shapes."""
FULL_QUERY_LIMIT = 4_000_000
"""Up to this many statements the SPARQL checks run on all of them (an in-memory store, ~0.5 GB per million)."""
SAMPLE_SIZE = 1_000_000
"""Above FULL_QUERY_LIMIT, the SPARQL checks run on about this many statements of a fixed sample of documents."""

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDFS_CLASS = "http://www.w3.org/2000/01/rdf-schema#Class"
OWL_CLASS = "http://www.w3.org/2002/07/owl#Class"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
_TYPE = f"<{RDF_TYPE}>"

# Lexical forms of the XSD datatypes whose ill-typed literals pySHACL rejects (through rdflib).
_LEXICAL = {
    XSD.integer: re.compile(r"[+-]?[0-9]+"),
    XSD.decimal: re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"),
    XSD.boolean: re.compile(r"true|false|1|0"),
    XSD.date: re.compile(r"-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-][0-9]{2}:[0-9]{2})?"),
    XSD.gYear: re.compile(r"-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?"),
}
_NUMERIC = {
    XSD.NS + t
    for t in ("integer", "decimal", "double", "float", "long", "int", "short", "byte", "nonNegativeInteger",
              "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
              "unsignedShort", "unsignedByte")
}
_NODE_KINDS: dict[str, Callable[[str], bool]] = {
    "IRI": lambda v: v[0] == "<" and not v.startswith("<<"),
    "BlankNode": lambda v: v[0] == "_",
    "Literal": lambda v: v[0] == '"',
    "BlankNodeOrIRI": lambda v: v[0] == "_" or (v[0] == "<" and not v.startswith("<<")),
    "BlankNodeOrLiteral": lambda v: v[0] in '_"',
    "IRIOrLiteral": lambda v: v[0] == '"' or (v[0] == "<" and not v.startswith("<<")),
}
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
# Parameters a shape may carry that constrain nothing here (or are handled elsewhere).
_NEUTRAL = {
    "message", "severity", "deactivated", "name", "description", "order", "group", "defaultValue", "path",
    "property", "sparql", "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "declare", "prefixes",
}
_VALUE_PARAMETERS = {
    "datatype", "nodeKind", "class", "in", "hasValue", "minLength", "maxLength", "pattern", "flags",
    "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "lessThan", "lessThanOrEquals", "or",
}
_COUNTS = {"minCount", "maxCount", "uniqueLang"}
_PROPERTY_ONLY = {"minCount", "maxCount", "uniqueLang", "lessThan", "lessThanOrEquals"}

Props = dict[str, list[str]]  # predicate term -> object terms of one subject
Condition = Callable[[str, Props, str], bool]  # (value, the focus node's props, focus) -> conforms


class Unsupported(ValueError):
    """The shapes use a construct this compiler does not translate (pySHACL then does the work)."""


# --- terms (N-Triples syntax, as statements.py holds them)


def _value(term: str) -> str:
    """STR() of a term: the IRI, the blank node label or the literal's lexical form."""
    if term[0] == "<":
        return term[1:-1]
    if term[0] == "_":
        return term[2:]
    return parse_literal(term)[0]


def _literal(term: str) -> tuple[str, str | None, str | None] | None:
    if term[0] != '"':
        return None
    return parse_literal(term)


def shown(term: str) -> str:
    """A term as findings show it (what `validate._term` makes of the same rdflib term)."""
    if term[0] == "<" and not term.startswith("<<"):
        return compact(term[1:-1])
    if term[0] == "_":
        return term
    parts = _literal(term)
    if parts is None:
        return term
    text, datatype, language = parts
    text = text if len(text) <= 60 else text[:59] + "…"
    if language is not None:
        return f'"{text}"@{language}'
    return f'"{text}"' + ("" if datatype is None else f"^^{compact(datatype)}")


def _rdf_term(node: Any) -> str:
    """An rdflib term of the shapes graph as an N-Triples term (by way of pyoxigraph, as the statements are)."""
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


_INTEGER_SUFFIX = f'"^^<{XSD.integer}>'


def _comparable(term: str) -> tuple[str, object] | None:
    """(kind, value) to compare a literal with, or None (an IRI, a blank node, an ill-typed number)."""
    if term.endswith(_INTEGER_SUFFIX):  # the common case, without parsing
        text = term[1 : -len(_INTEGER_SUFFIX)]
        return ("number", int(text)) if _LEXICAL[XSD.integer].fullmatch(text) else None
    parts = _literal(term)
    if parts is None:
        return None
    text, datatype, language = parts
    if language is not None:
        return None
    if datatype in _NUMERIC:
        try:
            return "number", Decimal(text.strip())
        except InvalidOperation:
            return None
    return datatype or XSD.string, text


def _compare(a: str, b: str, op: str) -> bool:
    """`a op b` for two literal terms; False when they cannot be compared (pySHACL reports those)."""
    left, right = _comparable(a), _comparable(b)
    if left is None or right is None or left[0] != right[0]:
        return False
    x, y = left[1], right[1]
    if op == "<":
        return x < y  # type: ignore[operator]
    if op == "<=":
        return x <= y  # type: ignore[operator]
    if op == ">":
        return x > y  # type: ignore[operator]
    return x >= y  # type: ignore[operator]


# --- the compiled shapes


@dataclass
class PropertyCheck:
    shape: str
    path: str  # as findings show it: compact IRI, or ^IRI for an inverse path
    message: str
    severity: str
    predicate: str  # N-Triples term
    inverse: bool
    conditions: list[Condition]
    min_count: list[int] = field(default_factory=list)
    max_count: list[int] = field(default_factory=list)
    unique_lang: bool = False
    at_least: int = 0  # the strictest sh:minCount
    at_most: float = math.inf  # the strictest sh:maxCount

    def __post_init__(self) -> None:
        self.at_least = max(self.min_count, default=0)
        self.at_most = min(self.max_count, default=math.inf)


@dataclass
class NodeCheck:
    shape: str
    message: str
    severity: str
    classes: frozenset[str]  # target classes (with their subclasses), as terms
    nodes: frozenset[str]  # sh:targetNode terms
    subjects_of: tuple[str, ...]
    objects_of: tuple[str, ...]
    conditions: list[Condition]
    properties: list[PropertyCheck]


def _sh(name: str) -> Any:
    from rdflib import URIRef

    return URIRef(SH + name)


def _local(iri: Any) -> str:
    text = str(iri)
    return text[len(SH):] if text.startswith(SH) else ""


def _items(shapes: Any, head: Any) -> list[Any]:
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


def _deactivated(params: dict[str, list[Any]]) -> bool:
    return bool(params.get("deactivated")) and str(params["deactivated"][0]).lower() == "true"


@dataclass
class Compiled:
    """The checks, and what the pre-pass must collect for them."""

    checks: list[NodeCheck]
    class_constraints: set[str]  # classes named by sh:class (terms)
    inverse_predicates: set[str]  # predicates read backwards (inverse paths, sh:targetObjectsOf)
    types: dict[str, frozenset[str]] = field(default_factory=dict)  # filled by the pre-pass
    subclasses: dict[str, frozenset[str]] = field(default_factory=dict)
    inverse: dict[str, dict[str, list[str]]] = field(default_factory=dict)


class _Compiler:
    def __init__(self, shapes: Any) -> None:
        self.shapes = shapes
        self.compiled = Compiled([], set(), set())

    def _instance_of(self, cls: Any) -> Condition:
        term = _rdf_term(cls)
        self.compiled.class_constraints.add(term)
        compiled = self.compiled

        def ok(v: str, props: Props, focus: str) -> bool:
            types = compiled.types.get(v)
            return bool(types) and not types.isdisjoint(compiled.subclasses.get(term, (term,)))  # type: ignore[union-attr]

        return ok

    def conditions(self, params: dict[str, list[Any]], *, node_shape: bool) -> list[Condition]:
        out: list[Condition] = []
        for name, values in params.items():
            if name in _NEUTRAL or name in _COUNTS:
                continue
            if name not in _VALUE_PARAMETERS:
                raise Unsupported(f"sh:{name}")
            if node_shape and name in _PROPERTY_ONLY:
                raise Unsupported(f"sh:{name} on a node shape")
            for value in values:
                if name != "flags":
                    out.append(self._condition(name, value, params))
        return out

    def _condition(self, name: str, value: Any, params: dict[str, list[Any]]) -> Condition:
        if name == "datatype":
            dt = str(value)
            lexical = _LEXICAL.get(dt)
            suffix = f'"^^<{dt}>'

            def datatype(v: str, props: Props, focus: str) -> bool:
                if v.endswith(suffix) and "\\" not in v:  # typed as asked, no escape: only the lexical form to check
                    return lexical is None or lexical.fullmatch(v[1 : -len(suffix)]) is not None
                if dt == XSD.string and v[-1] == '"' and v[0] == '"' and "\\" not in v:
                    return True
                parts = _literal(v)
                if parts is None:
                    return False
                text, datatype_, language = parts
                if dt == RDF_LANGSTRING:
                    return language is not None
                if language is not None:
                    return False
                if (datatype_ or XSD.string) != dt:
                    return False
                return lexical is None or lexical.fullmatch(text) is not None

            return datatype
        if name == "nodeKind":
            kind = _NODE_KINDS.get(_local(value))
            if kind is None:
                raise Unsupported(f"sh:nodeKind {value}")
            return lambda v, props, focus: kind(v)
        if name == "class":
            return self._instance_of(value)
        if name == "in":
            members = frozenset(_rdf_term(m) for m in _items(self.shapes, value))
            return lambda v, props, focus: v in members
        if name == "hasValue":
            term = _rdf_term(value)
            return lambda v, props, focus: v == term
        if name in ("minLength", "maxLength"):
            n = int(value)
            if name == "minLength":
                return lambda v, props, focus: v[0] != "_" and len(_value(v)) >= n
            return lambda v, props, focus: v[0] != "_" and len(_value(v)) <= n
        if name == "pattern":
            flags = 0
            for f in params.get("flags", []):
                for letter in str(f):
                    if letter not in _FLAGS:
                        raise Unsupported(f"sh:flags {f}")
                    flags |= _FLAGS[letter]
            regex = re.compile(str(value), flags)
            return lambda v, props, focus: v[0] != "_" and regex.search(_value(v)) is not None
        if name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}[name]
            bound = _rdf_term(value)
            return lambda v, props, focus: _compare(v, bound, op)
        if name in ("lessThan", "lessThanOrEquals"):
            op = "<" if name == "lessThan" else "<="
            other = _rdf_term(value)
            return lambda v, props, focus: all(_compare(v, w, op) for w in props.get(other, ()))
        if name == "or":
            options: list[list[Condition]] = []
            for member in _items(self.shapes, value):
                inner = _parameters(self.shapes, member)
                if "path" in inner or "property" in inner:
                    raise Unsupported("sh:or of shapes with properties")
                options.append(self.conditions(inner, node_shape=True))
            return lambda v, props, focus: any(all(c(v, props, focus) for c in cs) for cs in options)
        raise Unsupported(f"sh:{name}")

    def path(self, node: Any) -> tuple[str, bool, str]:
        """(predicate term, inverse?, the path as findings show it)."""
        from rdflib import BNode, URIRef

        if isinstance(node, URIRef):
            return _rdf_term(node), False, compact(str(node))
        if isinstance(node, BNode):
            inverse = self.shapes.value(node, _sh("inversePath"))
            if isinstance(inverse, URIRef) and len(list(self.shapes.predicate_objects(node))) == 1:
                self.compiled.inverse_predicates.add(_rdf_term(inverse))
                return _rdf_term(inverse), True, "^" + compact(str(inverse))
        raise Unsupported("a complex sh:path")

    def property_check(self, prop: Any, params: dict[str, list[Any]]) -> PropertyCheck:
        if len(params.get("path", [])) != 1:
            raise Unsupported("a property shape without exactly one sh:path")
        for p in params:
            if p not in _NEUTRAL and p not in _VALUE_PARAMETERS and p not in _PROPERTY_ONLY:
                raise Unsupported(f"sh:{p}")
        predicate, inverse, path = self.path(params["path"][0])
        return PropertyCheck(
            shape=_shape_name(self.shapes, prop),
            path=path,
            message=_message(self.shapes, prop),
            severity=_severity(self.shapes, prop),
            predicate=predicate,
            inverse=inverse,
            conditions=self.conditions(params, node_shape=False),
            min_count=[int(n) for n in params.get("minCount", [])],
            max_count=[int(n) for n in params.get("maxCount", [])],
            unique_lang=any(str(u).lower() == "true" for u in params.get("uniqueLang", [])),
        )

    def compile(self) -> Compiled:
        from rdflib import URIRef

        shapes = self.shapes
        roots = set(shapes.subjects(URIRef(RDF_TYPE), _sh("NodeShape"))) | set(
            shapes.subjects(URIRef(RDF_TYPE), _sh("PropertyShape")))
        for p in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"):
            roots |= set(shapes.subjects(_sh(p), None))
        for shape in sorted(roots, key=str):
            params = _parameters(shapes, shape)
            if _deactivated(params):
                continue
            for p in ("node", "and", "not", "xone", "closed", "qualifiedValueShape", "equals", "disjoint",
                      "languageIn"):
                if p in params:
                    raise Unsupported(f"sh:{p}")
            classes = [c for c in params.get("targetClass", [])]
            types = {str(t) for t in shapes.objects(shape, URIRef(RDF_TYPE))}
            if isinstance(shape, URIRef) and types & {RDFS_CLASS, OWL_CLASS}:
                classes.append(shape)  # an implicit class target
            objects_of = tuple(_rdf_term(p) for p in params.get("targetObjectsOf", []))
            self.compiled.inverse_predicates.update(objects_of)
            target = dict(
                classes=frozenset(_rdf_term(c) for c in classes),
                nodes=frozenset(_rdf_term(n) for n in params.get("targetNode", [])),
                subjects_of=tuple(_rdf_term(p) for p in params.get("targetSubjectsOf", [])),
                objects_of=objects_of,
            )
            if not any(target.values()):
                continue
            self.compiled.class_constraints.update(target["classes"])  # type: ignore[arg-type]
            if "path" in params:  # a property shape with targets of its own
                self.compiled.checks.append(NodeCheck(
                    shape="", message="", severity="", conditions=[],
                    properties=[self.property_check(shape, params)], **target))  # type: ignore[arg-type]
                continue
            conditions = self.conditions(params, node_shape=True)
            properties = []
            for prop in params.get("property", []):
                inner = _parameters(shapes, prop)
                if not _deactivated(inner):
                    properties.append(self.property_check(prop, inner))
            if not conditions and not properties:
                continue
            self.compiled.checks.append(NodeCheck(
                shape=_shape_name(shapes, shape),
                message=_message(shapes, shape) if conditions else "",
                severity=_severity(shapes, shape),
                conditions=conditions,
                properties=properties,
                **target,  # type: ignore[arg-type]
            ))
        return self.compiled


def compile_shapes(shapes: Any) -> Compiled:
    """The core constraints of a shapes graph (rdflib) as Python checks; Unsupported if it uses anything else."""
    return _Compiler(core_shapes(shapes)).compile()


# --- running them


def _prepass(compiled: Compiled, graphs: Sequence[Sequence[str]]) -> None:
    """Collect the types of the resources sh:class looks at, the subclass closure and the inverse indexes."""
    type_mid = f" {_TYPE} "
    subclass_mid = f" <{RDFS_SUBCLASS}> "
    edges: dict[str, set[str]] = {}
    wanted_inverse = {p: f" {p} " for p in compiled.inverse_predicates}
    inverse: dict[str, dict[str, list[str]]] = {p: {} for p in compiled.inverse_predicates}
    typed: list[tuple[str, str]] = []
    for items in graphs:
        for statement in items:
            if type_mid in statement:
                s, _, o = statement.split(" ", 2)
                typed.append((s, o))
            elif subclass_mid in statement:
                s, _, o = statement.split(" ", 2)
                edges.setdefault(o, set()).add(s)
            if wanted_inverse:
                for p, mid in wanted_inverse.items():
                    if mid in statement:
                        s, p2, o = statement.split(" ", 2)
                        if p2 == p:
                            inverse[p].setdefault(o, []).append(s)
    # C's subclasses (rdfs:subClassOf*, C included), for every class a check names
    closure: dict[str, frozenset[str]] = {}
    for cls in compiled.class_constraints:
        seen = {cls}
        stack = [cls]
        while stack:
            for sub in edges.get(stack.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    stack.append(sub)
        closure[cls] = frozenset(seen)
    relevant = set().union(*closure.values()) if closure else set()
    types: dict[str, set[str]] = {}
    for s, o in typed:
        if o in relevant:
            types.setdefault(s, set()).add(o)
    shared: dict[frozenset[str], frozenset[str]] = {}
    compiled.types = {s: shared.setdefault(frozenset(v), frozenset(v)) for s, v in types.items()}
    compiled.subclasses = closure
    compiled.inverse = inverse


def _subject_groups(graphs: Sequence[Sequence[str]]) -> Iterable[tuple[str, Props]]:
    """(subject, its props) over the union of the graphs: the biggest graph streamed, the others merged in."""
    ordered = sorted(graphs, key=len, reverse=True)
    extra: dict[str, Props] = {}
    for items in ordered[1:]:
        for statement in items:
            s, p, o = statement.split(" ", 2)
            values = extra.setdefault(s, {}).setdefault(p, [])
            if o not in values:
                values.append(o)
    previous = None
    props: Props = {}
    for statement in ordered[0] if ordered else ():
        i = statement.index(" ")
        s = statement[:i]
        if s != previous:
            if previous is not None:
                yield previous, _merge(props, extra.pop(previous, None))
            previous = s
            props = {}
        j = statement.index(" ", i + 1)
        p = statement[i + 1 : j]
        values = props.get(p)
        if values is None:
            props[p] = [statement[j + 1 :]]
        else:
            values.append(statement[j + 1 :])
    if previous is not None:
        yield previous, _merge(props, extra.pop(previous, None))
    yield from sorted(extra.items())


def _merge(props: Props, more: Props | None) -> Props:
    if more:
        for p, values in more.items():
            mine = props.setdefault(p, [])
            mine.extend(v for v in values if v not in mine)
    return props


def _conforms(conditions: list[Condition], v: str, props: Props, focus: str) -> bool:
    for condition in conditions:  # noqa: SIM110 -- a loop: no generator to make per value
        if not condition(v, props, focus):
            return False
    return True


def _check_node(check: NodeCheck, focus: str, props: Props, compiled: Compiled, out: list[Finding]) -> None:
    if check.conditions and not _conforms(check.conditions, focus, props, focus):
        out.append(Finding(check.severity, shown(focus), "", check.message, "shapes", check.shape, shown(focus)))
    for prop in check.properties:
        if prop.inverse:
            values = list(dict.fromkeys(compiled.inverse[prop.predicate].get(focus, ())))
        else:
            values = props.get(prop.predicate, _NONE)
        conditions = prop.conditions
        if conditions:
            for v in values:
                if not _conforms(conditions, v, props, focus):
                    out.append(Finding(prop.severity, shown(focus), prop.path, prop.message, "shapes", prop.shape,
                                       shown(v)))
        n = len(values)
        if n < prop.at_least or n > prop.at_most:
            out.append(Finding(prop.severity, shown(focus), prop.path, prop.message, "shapes", prop.shape, ""))
        if prop.unique_lang:
            languages = [parts[2].lower() for v in values if (parts := _literal(v)) is not None and parts[2]]
            if len(languages) != len(set(languages)):
                out.append(Finding(prop.severity, shown(focus), prop.path, prop.message, "shapes", prop.shape, ""))


_NONE: list[str] = []


def stream_findings(statements: Statements, shapes: Any, graphs: Sequence[str] = SHACL_GRAPHS) -> list[Finding]:
    """What pySHACL reports for the core constraints of `shapes` on the union of `graphs` of `statements`."""
    compiled = compile_shapes(shapes)
    items = [statements.graph(g) for g in graphs]
    _prepass(compiled, items)
    by_class: dict[str, list[NodeCheck]] = {}
    for check in compiled.checks:
        for cls in check.classes:
            for sub in compiled.subclasses.get(cls, frozenset((cls,))):
                by_class.setdefault(sub, []).append(check)
    by_node = [c for c in compiled.checks if c.nodes or c.subjects_of or c.objects_of]
    pending = {n for c in compiled.checks for n in c.nodes}
    pending |= {o for c in compiled.checks for p in c.objects_of for o in compiled.inverse[p]}
    out: list[Finding] = []
    for subject, props in _subject_groups(items):
        pending.discard(subject)
        applicable: list[NodeCheck] = []
        for cls in props.get(_TYPE, ()):
            for check in by_class.get(cls, ()):
                if check not in applicable:
                    applicable.append(check)
        for check in by_node:
            if check not in applicable and (
                subject in check.nodes or any(p in props for p in check.subjects_of)
                or any(subject in compiled.inverse[p] for p in check.objects_of)
            ):
                applicable.append(check)
        for check in applicable:
            _check_node(check, subject, props, compiled, out)
    for focus in sorted(pending):  # focus nodes with no statement of their own
        for check in by_node:
            if focus in check.nodes or any(focus in compiled.inverse[p] for p in check.objects_of):
                _check_node(check, focus, {}, compiled, out)
    return out


# --- the SPARQL checks: on everything, or on a fixed sample of documents


def sample_statements(statements: Statements, size: int = SAMPLE_SIZE) -> tuple[Statements, int, int]:
    """The statements of a fixed sample of documents (chosen by a hash of their IRI, about `size` statements),
    everything that is not about one document (forum editions, sources, the static graphs), and the text
    links among the sampled recommendations. Returns (sample, sampled documents, documents)."""
    from .statements import Statements as _Statements

    prefix = f"<{DATA}document/"
    link_prefix = f"<{DATA}link/"
    data_items = statements.graph(_DATA_GRAPH)

    def root(term: str) -> str:
        """`<.../document/x` for any term under a document's IRI."""
        cut = term.find("/", len(prefix))
        return term[:cut] if cut >= 0 else term[:-1]

    documents = sorted({root(s) for s in (st[: st.index(" ")] for st in data_items) if s.startswith(prefix)})
    keep_ratio = min(1.0, size / max(1, len(statements)))
    chosen = {d for d in documents if zlib.crc32(d.encode()) / 2**32 < keep_ratio} or set(documents[:1])
    roots = chosen
    kept: list[str] = []
    group: list[str] = []
    group_subject = None

    def in_sample(term: str) -> bool:
        if not term.startswith(prefix):
            return True
        return root(term) in roots

    def close_link() -> None:
        objects = [st.split(" ", 2)[2] for st in group]
        if all(in_sample(o) for o in objects if o.startswith(prefix)):
            kept.extend(group)

    for statement in data_items:
        s = statement[: statement.index(" ")]
        if s.startswith(link_prefix):
            if s != group_subject:
                if group:
                    close_link()
                group, group_subject = [], s
            group.append(statement)
            continue
        if in_sample(s):
            o = statement.split(" ", 2)[2]
            if not (o.startswith(prefix) and not in_sample(o)):
                kept.append(statement)
    if group:
        close_link()
    graphs = {g: list(items) for g, items in statements.graphs.items() if g != _DATA_GRAPH}
    graphs[_DATA_GRAPH] = kept
    return _Statements(graphs), len(chosen), len(documents)


_DATA_GRAPH = "https://w3id.org/aflm/graph/data"


def query_store(statements: Statements, nquads: Path | None = None) -> ox.Store:
    """An in-memory store of `statements` (from the N-Quads file of the same statements, when there is one)."""
    import pyoxigraph as ox

    store = ox.Store()
    if nquads is not None:
        store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    else:
        store.bulk_load(input=statements.nquads(), format=ox.RdfFormat.N_QUADS)
    return store


# --- the entry point


def _rdflib_data(statements: Statements, predicates: set[str]) -> Any:
    """The graphs the shapes read, cut to the predicates they name, as an rdflib Graph (via N-Triples)."""
    import rdflib

    wanted = {f"<{p}>" for p in predicates}
    lines = [st for g in SHACL_GRAPHS for st in statements.graph(g) if st.split(" ", 2)[1] in wanted]
    graph = rdflib.Graph()
    if lines:
        graph.parse(data=" .\n".join(lines) + " .\n", format="nt")
    return graph


@dataclass
class StatementsReport(ValidationReport):
    sampled: tuple[int, int] | None = None  # (documents, of documents) the SPARQL checks saw, when sampled


def validate_statements(
    statements: Statements,
    store: ox.Store | None = None,
    *,
    shapes_path: Path | None = None,
    queries_folder: Path | None = None,
    where: str = "build",
    pyshacl_limit: int | None = None,
    full_query_limit: int | None = None,
) -> StatementsReport:
    """Validate a build from its statements: the shapes on everything, then the SPARQL checks.

    The core shapes: pySHACL up to `pyshacl_limit` statements in the graphs they read, the compiled
    checks of this module above. The SPARQL checks (sh:sparql, queries/*-violation.rq): on `store`
    when given (an in-memory store of all the statements), else on an in-memory store of all of them
    up to `full_query_limit` statements, else of a fixed sample of documents (`report.sampled`).
    """
    from . import validate  # looked up at call time, so a caller (or a test) can swap the shapes loader

    pyshacl_limit = PYSHACL_LIMIT if pyshacl_limit is None else pyshacl_limit
    full_query_limit = FULL_QUERY_LIMIT if full_query_limit is None else full_query_limit
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    shapes = validate.load_shapes(shapes_path)
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
            findings = stream_findings(statements, shapes)
        except Unsupported:
            findings = None
    if findings is None:
        findings = shacl_findings(_rdflib_data(statements, shape_predicates(shapes)), core_shapes(shapes))
    seconds["shacl"] = time.perf_counter() - t

    t = time.perf_counter()
    sampled = None
    if store is None:
        if len(statements) <= full_query_limit:
            store = query_store(statements)
        else:
            sample, chosen, total = sample_statements(statements)
            store = query_store(sample)
            sampled = (chosen, total)
    findings += sparql_findings(store, shapes)
    findings += query_findings(store, queries)
    seconds["queries"] = time.perf_counter() - t

    from rdflib import RDF, URIRef

    node_shapes = set(shapes.subjects(RDF.type, URIRef(SH + "NodeShape")))
    findings = sorted(set(findings), key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.focus, f.path, f.message,
                                                    f.source))
    return StatementsReport(findings=findings, triples=size, shapes=len(node_shapes), queries=len(queries),
                            seconds=seconds, where=where, sampled=sampled)
