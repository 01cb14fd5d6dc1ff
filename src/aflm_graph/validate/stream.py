"""SHACL core shapes compiled to Python checks and streamed over a build's sorted statements: validation that scales.

pySHACL walks an rdflib graph node by node, far too slow for a big build. The statements of a build
(statements.py) are sorted by subject, so one pass sees each focus node with all its values; the few
facts a check needs from elsewhere (the types of a linked resource for sh:class, the subjects of an
inverse path) come from one cheaper pass before. The findings are pySHACL's (focus node, path, value,
sh:message, severity, shape): `tests/test_validate_scale.py` compares the two. On Linux a big graph's
subjects are cut into ranges checked by this process and forked children; the findings are sorted, so
they do not depend on the cut (`tests/test_validate_fast.py`).

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

SHACL-SPARQL constraints (sh:sparql) and the `queries/*-violation.rq` queries run on an in-memory
pyoxigraph store of the whole build up to `FULL_QUERY_LIMIT` statements, and above that on a fixed
sample of documents (`sample_statements`): the report says so, and `aflm-graph validate` on the built
folder runs them on everything. Timings: docs/design.md.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..graph.statements import RDF_TYPE_TERM, iri_term, parse_literal, term_value
from ..terms.namespaces import DATA, GRAPH_DATA, OWL, RDF, RDFS, XSD
from ..terms.resources import queries_dir
from .shacl import (
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

    from ..graph.statements import Statements

PYSHACL_LIMIT = 20_000
"""Up to this many statements in the graphs the shapes read (the seeds have ~5,000), pySHACL checks the shapes."""
FULL_QUERY_LIMIT = 4_000_000
"""Up to this many statements the SPARQL checks run on all of them (an in-memory store, ~0.5 GB per million)."""
SAMPLE_SIZE = 1_000_000
"""Above FULL_QUERY_LIMIT, the SPARQL checks run on about this many statements of a fixed sample of documents."""

_TYPE = RDF_TYPE_TERM

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

_T = TypeVar("_T")
Props = dict[str, list[str]]  # predicate term -> object terms of one subject
Condition = Callable[[str, Props, str], bool]  # (value, the focus node's props, focus) -> conforms


class Unsupported(ValueError):
    """The shapes use a construct this compiler does not translate (pySHACL then does the work)."""


# --- terms (N-Triples syntax, as statements.py holds them)


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
    return _compare_parsed(_comparable(a), _comparable(b), op)


def _compare_parsed(left: tuple[str, object] | None, right: tuple[str, object] | None, op: str) -> bool:
    if left is None or right is None or left[0] != right[0]:
        return False
    x, y = left[1], right[1]
    if op == "<":
        return x < y  # type: ignore[operator]  # same kind of value (checked above): comparable
    if op == "<=":
        return x <= y  # type: ignore[operator]  # same kind of value (checked above): comparable
    if op == ">":
        return x > y  # type: ignore[operator]  # same kind of value (checked above): comparable
    return x >= y  # type: ignore[operator]  # same kind of value (checked above): comparable


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
}


def _bound_check(bound_term: str, op: str) -> Callable[[str], bool]:
    """`v op bound` with the bound parsed once, and xsd:integer values compared without parsing the literal."""
    bound = _comparable(bound_term)
    compare = _OPERATORS[op]
    integer = _LEXICAL[XSD.integer]
    cut = -len(_INTEGER_SUFFIX)
    if bound is None or bound[0] != "number":
        return lambda v: _compare_parsed(_comparable(v), bound, op)
    y = bound[1]

    def check(v: str) -> bool:
        if v.endswith(_INTEGER_SUFFIX):
            text = v[1:cut]
            return integer.fullmatch(text) is not None and compare(int(text), y)
        return _compare_parsed(_comparable(v), bound, op)

    return check


def _length(v: str) -> int:
    """STRLEN of a literal or IRI term (a simple literal without escapes is not parsed)."""
    if v[0] == '"' and v[-1] == '"' and "\\" not in v:
        return len(v) - 2
    return len(term_value(v))


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

    pure: list[Condition] = field(default_factory=list)  # conditions on the value alone
    impure: list[Condition] = field(default_factory=list)  # conditions that read the focus node (sh:lessThan)
    memo: dict[str, bool] | None = None  # value -> passes `pure` (when those cost more than a lookup)

    def __post_init__(self) -> None:
        self.at_least = max(self.min_count, default=0)
        self.at_most = min(self.max_count, default=math.inf)
        self.pure = [c for c in self.conditions if _is_pure(c)]
        self.impure = [c for c in self.conditions if not _is_pure(c)]
        if any(not getattr(c, "cheap", False) for c in self.pure):
            self.memo = {}


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
    plan: list[tuple[Any, ...]] = field(default_factory=list)  # the properties' fields as `_check_node` reads them

    def __post_init__(self) -> None:
        self.plan = [
            (p, p.predicate, p.inverse, p.pure, p.impure, p.memo,
             p.pure[0] if len(p.pure) == 1 and p.memo is None else None, p.at_least, p.at_most, p.unique_lang)
            for p in self.properties
        ]


def _sh(name: str) -> Any:
    from rdflib import URIRef

    return URIRef(SH + name)


def _local(iri: Any) -> str:
    text = str(iri)
    return text[len(SH):] if text.startswith(SH) else ""


def _items(shapes: Any, head: Any) -> list[Any]:
    from rdflib import URIRef

    out = []
    while head is not None and str(head) != RDF.nil:
        first = shapes.value(head, URIRef(RDF.first))
        if first is None:
            raise Unsupported("a malformed RDF list")
        out.append(first)
        head = shapes.value(head, URIRef(RDF.rest))
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
    instances: dict[str, set[str]] = field(default_factory=dict)  # class -> its instances, filled by the pre-pass
    subclasses: dict[str, frozenset[str]] = field(default_factory=dict)
    inverse: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _pure(condition: Condition, *, cheap: bool = False) -> Condition:
    """Mark a condition that looks at the value only (not the focus node): its outcome can be remembered
    (unless it is `cheap`, one set lookup or comparison: remembering would cost as much)."""
    condition.pure = True  # type: ignore[attr-defined]  # a marker attribute on the function
    condition.cheap = cheap  # type: ignore[attr-defined]  # a marker attribute on the function
    return condition


def _is_pure(condition: Condition) -> bool:
    return bool(getattr(condition, "pure", False))


class _Compiler:
    def __init__(self, shapes: Any) -> None:
        self.shapes = shapes
        self.compiled = Compiled([], set(), set())

    def _instance_of(self, cls: Any) -> Condition:
        term = _rdf_term(cls)
        self.compiled.class_constraints.add(term)
        instances = self.compiled.instances.setdefault(term, set())  # filled by the pre-pass
        return _pure(lambda v, props, focus: v in instances, cheap=True)

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
                if dt == RDF.langString:
                    return language is not None
                if language is not None:
                    return False
                if (datatype_ or XSD.string) != dt:
                    return False
                return lexical is None or lexical.fullmatch(text) is not None

            return _pure(datatype)
        if name == "nodeKind":
            kind = _NODE_KINDS.get(_local(value))
            if kind is None:
                raise Unsupported(f"sh:nodeKind {value}")
            return _pure(lambda v, props, focus: kind(v), cheap=True)
        if name == "class":
            return self._instance_of(value)
        if name == "in":
            members = frozenset(_rdf_term(m) for m in _items(self.shapes, value))
            return _pure(lambda v, props, focus: v in members, cheap=True)
        if name == "hasValue":
            term = _rdf_term(value)
            return _pure(lambda v, props, focus: v == term, cheap=True)
        if name in ("minLength", "maxLength"):
            n = int(value)
            if name == "minLength":
                return _pure(lambda v, props, focus: v[0] != "_" and _length(v) >= n)
            return _pure(lambda v, props, focus: v[0] != "_" and _length(v) <= n)
        if name == "pattern":
            flags = 0
            for f in params.get("flags", []):
                for letter in str(f):
                    if letter not in _FLAGS:
                        raise Unsupported(f"sh:flags {f}")
                    flags |= _FLAGS[letter]
            regex = re.compile(str(value), flags)
            return _pure(lambda v, props, focus: v[0] != "_" and regex.search(term_value(v)) is not None)
        if name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}[name]
            check = _bound_check(_rdf_term(value), op)
            return _pure(lambda v, props, focus: check(v))
        if name in ("lessThan", "lessThanOrEquals"):
            op = "<" if name == "lessThan" else "<="
            other = _rdf_term(value)
            compare = _OPERATORS[op]
            integer = _LEXICAL[XSD.integer]
            cut = -len(_INTEGER_SUFFIX)

            def less(v: str, props: Props, focus: str) -> bool:
                for w in props.get(other, ()):
                    if v.endswith(_INTEGER_SUFFIX) and w.endswith(_INTEGER_SUFFIX):  # two integers, no parsing
                        x, y = v[1:cut], w[1:cut]
                        if not (integer.fullmatch(x) and integer.fullmatch(y) and compare(int(x), int(y))):
                            return False
                    elif not _compare(v, w, op):
                        return False
                return True

            return less
        if name == "or":
            options: list[list[Condition]] = []
            for member in _items(self.shapes, value):
                inner = _parameters(self.shapes, member)
                if "path" in inner or "property" in inner:
                    raise Unsupported("sh:or of shapes with properties")
                options.append(self.conditions(inner, node_shape=True))

            def any_of(v: str, props: Props, focus: str) -> bool:
                return any(all(c(v, props, focus) for c in cs) for cs in options)

            return _pure(any_of) if all(_is_pure(c) for cs in options for c in cs) else any_of
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
        roots = set(shapes.subjects(URIRef(RDF.type), _sh("NodeShape"))) | set(
            shapes.subjects(URIRef(RDF.type), _sh("PropertyShape")))
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
            types = {str(t) for t in shapes.objects(shape, URIRef(RDF.type))}
            if isinstance(shape, URIRef) and types & {RDFS.Class, OWL.Class}:
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
            self.compiled.class_constraints.update(target["classes"])
            if "path" in params:  # a property shape with targets of its own
                self.compiled.checks.append(NodeCheck(
                    shape="", message="", severity="", conditions=[],
                    properties=[self.property_check(shape, params)], **target))  # type: ignore[arg-type]  # target: one keyword
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
                **target,  # type: ignore[arg-type]  # target holds one keyword argument
            ))
        return self.compiled


def compile_shapes(shapes: Any) -> Compiled:
    """The core constraints of a shapes graph (rdflib) as Python checks; Unsupported if it uses anything else."""
    return _Compiler(core_shapes(shapes)).compile()


# --- running them


def _prepass(compiled: Compiled, graphs: Sequence[Sequence[str]]) -> None:
    """Fill the instances of the classes sh:class names (subclasses included) and the inverse indexes.

    One split per statement; typed subjects wait, by class, until the subclass closure is known.
    """
    by_class: dict[str, list[str]] = {}
    edges: dict[str, set[str]] = {}
    inverse: dict[str, dict[str, list[str]]] = {p: {} for p in compiled.inverse_predicates}
    wanted = [(f"{p} ", index) for p, index in inverse.items()]
    type_ = f"{_TYPE} "
    cut = len(type_)
    for items in graphs:
        for statement in items:
            i = statement.index(" ") + 1  # the predicate starts here: compared in place, nothing sliced
            if statement.startswith(type_, i):
                o = statement[i + cut :]
                typed = by_class.get(o)
                if typed is None:
                    by_class[o] = [statement[: i - 1]]
                else:
                    typed.append(statement[: i - 1])
            elif statement.startswith(_SUBCLASS, i):
                s, p, o = statement.split(" ", 2)
                if p == _SUBCLASS:
                    edges.setdefault(o, set()).add(s)
            for p, index in wanted:
                if statement.startswith(p, i):
                    index.setdefault(statement[i + len(p) :], []).append(statement[: i - 1])
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
    for cls, instances in compiled.instances.items():
        instances.clear()
        for sub in closure.get(cls, (cls,)):
            instances.update(by_class.get(sub, ()))
    compiled.subclasses = closure
    compiled.inverse = inverse


_SUBCLASS = iri_term(RDFS.subClassOf)


def _subject_groups(
    largest: Sequence[str], extra: dict[str, Props], start: int, stop: int, low: str | None, high: str | None,
) -> Iterator[tuple[str, Props]]:
    """(subject, its props) for the statements [start, stop) of the biggest graph, the other graphs' statements
    merged in from `extra` (popped), then the subjects of `extra` in [low, high) that the biggest graph lacks.
    """
    previous = None
    props: Props = {}
    for statement in largest[start:stop]:
        s, p, o = statement.split(" ", 2)  # one split: faster than finding the spaces and slicing
        if s != previous:
            if previous is not None:
                yield previous, _merge(props, extra.pop(previous, None)) if extra else props
            previous = s
            props = {p: [o]}
            continue
        values = props.get(p)
        if values is None:
            props[p] = [o]
        else:
            values.append(o)
    if previous is not None:
        yield previous, _merge(props, extra.pop(previous, None)) if extra else props
    leftover = sorted(k for k in extra if (low is None or k >= low) and (high is None or k < high))
    for subject in leftover:
        yield subject, extra.pop(subject)


def _merge(props: Props, more: Props | None) -> Props:
    if more:
        for p, values in more.items():
            mine = props.setdefault(p, [])
            mine.extend(v for v in values if v not in mine)
    return props


def _extra(graphs: Sequence[Sequence[str]]) -> dict[str, Props]:
    """The statements of the smaller graphs by subject (deduplicated), to merge into the biggest one's groups."""
    extra: dict[str, Props] = {}
    for items in graphs:
        for statement in items:
            s, p, o = statement.split(" ", 2)
            values = extra.setdefault(s, {}).setdefault(p, [])
            if o not in values:
                values.append(o)
    return extra


def _conforms(conditions: list[Condition], v: str, props: Props, focus: str) -> bool:
    for condition in conditions:  # noqa: SIM110 -- a loop: no generator to make per value
        if not condition(v, props, focus):
            return False
    return True


_MEMO_SIZE = 50_000  # remembered outcomes per property shape (then forgotten: values repeat nearby)


def _check_node(check: NodeCheck, focus: str, props: Props, compiled: Compiled, out: list[Finding]) -> None:
    if check.conditions and not _conforms(check.conditions, focus, props, focus):
        out.append(Finding(check.severity, shown(focus), "", check.message, "shapes", check.shape, shown(focus)))
    for prop, predicate, inverse, pure, impure, memo, single, at_least, at_most, unique_lang in check.plan:
        if inverse:
            values = list(dict.fromkeys(compiled.inverse[predicate].get(focus, ())))
        else:
            values = props.get(predicate, _NONE)
        if values and (pure or impure):
            for v in values:
                if single is not None:
                    ok = single(v, props, focus)
                elif memo is None:
                    ok = _conforms(pure, v, props, focus)
                else:
                    ok = memo.get(v)
                    if ok is None:
                        ok = _conforms(pure, v, props, focus)
                        if len(memo) >= _MEMO_SIZE:
                            memo.clear()
                        memo[v] = ok
                if ok and impure:
                    ok = _conforms(impure, v, props, focus)
                if not ok:
                    out.append(Finding(prop.severity, shown(focus), prop.path, prop.message, "shapes", prop.shape,
                                       shown(v)))
        n = len(values)
        if n < at_least or n > at_most:
            out.append(Finding(prop.severity, shown(focus), prop.path, prop.message, "shapes", prop.shape, ""))
        if unique_lang:
            languages = [parts[2].lower() for v in values if (parts := _literal(v)) is not None and parts[2]]
            if len(languages) != len(set(languages)):
                out.append(Finding(prop.severity, shown(focus), prop.path, prop.message, "shapes", prop.shape, ""))


_NONE: list[str] = []


@dataclass
class _Plan:
    """Which checks apply to a subject: by its types, or by a target of their own (nodes, subjects of, objects of)."""

    compiled: Compiled
    by_class: dict[str, list[NodeCheck]] = field(default_factory=dict)
    by_node: list[NodeCheck] = field(default_factory=list)
    pending: set[str] = field(default_factory=set)  # targeted focus nodes (they may have no statement)
    by_types: dict[object, list[NodeCheck]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        compiled = self.compiled
        for check in compiled.checks:
            for cls in check.classes:
                for sub in compiled.subclasses.get(cls, frozenset((cls,))):
                    self.by_class.setdefault(sub, []).append(check)
        self.by_node = [c for c in compiled.checks if c.nodes or c.subjects_of or c.objects_of]
        self.pending = {n for c in compiled.checks for n in c.nodes}
        self.pending |= {o for c in compiled.checks for p in c.objects_of for o in compiled.inverse[p]}

    def applicable(self, subject: str, props: Props) -> list[NodeCheck]:
        types = props.get(_TYPE)
        key: object = () if not types else types[0] if len(types) == 1 else tuple(types)
        found = self.by_types.get(key)
        if found is None:
            found = []
            for cls in types or ():
                for check in self.by_class.get(cls, ()):
                    if check not in found:
                        found.append(check)
            self.by_types[key] = found
        if not self.by_node:
            return found
        inverse = self.compiled.inverse
        more = [check for check in self.by_node if check not in found and (
            subject in check.nodes or any(p in props for p in check.subjects_of)
            or any(subject in inverse[p] for p in check.objects_of))]
        return found + more if more else found


@dataclass
class _Part:
    """What one range of subjects gave: findings, and the targeted focus nodes it met."""

    findings: list[Finding]
    seen: set[str]


def _run_range(plan: _Plan, largest: Sequence[str], extra: dict[str, Props], bounds: tuple[int, int],
               limits: tuple[str | None, str | None]) -> _Part:
    out: list[Finding] = []
    seen: set[str] = set()
    compiled, pending = plan.compiled, plan.pending
    for subject, props in _subject_groups(largest, extra, *bounds, *limits):
        if pending and subject in pending:
            seen.add(subject)
        for check in plan.applicable(subject, props):
            _check_node(check, subject, props, compiled, out)
    return _Part(out, seen)


def _subject(statement: str) -> str:
    return statement[: statement.index(" ")]


def _ranges(largest: Sequence[str], n: int) -> list[tuple[tuple[int, int], tuple[str | None, str | None]]]:
    """`n` runs of about equal size of the biggest graph, cut between subjects, with the subject range each covers
    (the subjects of the other graphs fall in exactly one)."""
    cuts = [0]
    for k in range(1, n):
        i = max(len(largest) * k // n, cuts[-1])
        if 0 < i < len(largest):
            subject = _subject(largest[i - 1]) + " "
            while i < len(largest) and largest[i].startswith(subject):
                i += 1
        cuts.append(i)
    cuts.append(len(largest))
    out = []
    for a, b in itertools.pairwise(cuts):
        if a < b:
            low = _subject(largest[a]) if a > 0 else None
            high = _subject(largest[b]) if b < len(largest) else None
            out.append(((a, b), (low, high)))
    return out or [((0, len(largest)), (None, None))]


PARALLEL_MIN = 200_000
"""From this many statements in the biggest graph the shapes run in two processes (where fork exists)."""


def _workers(size: int) -> int:
    """Two processes on a machine with two cores or more (Linux fork: the statements are shared, not copied)."""
    if size < PARALLEL_MIN or not sys.platform.startswith("linux"):
        return 1
    return min(2, len(os.sched_getaffinity(0)))


_FAILED = object()


def _fork(job: Callable[[], object]) -> tuple[int, int] | None:
    """Run `job` in a forked child that pickles its result into a pipe; (pid, read end), or None if fork failed."""
    import gc
    import pickle
    import warnings

    read, write = os.pipe()
    try:
        with warnings.catch_warnings():  # a forked child runs only this module's Python code on strings
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: never returns to the caller
        code = 1
        try:
            os.close(read)
            gc.disable()  # no collection: nothing of the parent's (stores, threads) is finalised here
            data = pickle.dumps(job(), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(child: tuple[int, int], timeout: float) -> object:
    """The child's result, or _FAILED (it failed, or gave nothing in `timeout` seconds and was stopped)."""
    import pickle
    import select
    import signal

    pid, read = child
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    stopped = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                stopped = True
                break
            ready, _, _ = select.select([read], [], [], remaining)
            if ready:
                chunk = os.read(read, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    if stopped or status != 0 or not chunks:
        return _FAILED
    return pickle.loads(b"".join(chunks))


def _parallel(jobs: Sequence[Callable[[], _T]]) -> list[_T]:
    """jobs[0] here and the others in forked children, at once; a child that fails is redone here (same result)."""
    children = [_fork(job) for job in jobs[1:]]
    started = time.monotonic()
    try:
        results = [jobs[0]()]
    except BaseException:
        for child in children:
            if child is not None:
                _collect(child, 0)  # stopped: its work is moot
        raise
    timeout = 60 + 10 * (time.monotonic() - started)
    for child, job in zip(children, jobs[1:], strict=True):
        result = _FAILED if child is None else _collect(child, timeout)
        results.append(job() if result is _FAILED else result)  # type: ignore[arg-type]  # not _FAILED here
    return results


def stream_findings(statements: Statements, shapes: Any, graphs: Sequence[str] = SHACL_GRAPHS, *,
                    workers: int | None = None) -> list[Finding]:
    """What pySHACL reports for the core constraints of `shapes` on the union of `graphs` of `statements` (sorted).

    `workers`: processes (default: two on a big graph, where fork exists); the findings do not depend on it.
    """
    compiled = compile_shapes(shapes)
    named = [statements.graph(g) for g in graphs]
    _prepass(compiled, named)
    plan = _Plan(compiled)
    ordered = sorted(named, key=len, reverse=True)
    largest = ordered[0] if ordered else []
    extra = _extra(ordered[1:])
    ranges = _ranges(largest, workers or _workers(len(largest)))

    def job(bounds: tuple[int, int], limits: tuple[str | None, str | None]) -> _Part:
        return _run_range(plan, largest, extra, bounds, limits)

    parts = _parallel([functools.partial(job, bounds, limits) for bounds, limits in ranges])
    out = [f for part in parts for f in part.findings]
    seen = set().union(*(part.seen for part in parts))
    for focus in sorted(plan.pending - seen):  # focus nodes with no statement of their own
        for check in plan.by_node:
            if focus in check.nodes or any(focus in compiled.inverse[p] for p in check.objects_of):
                _check_node(check, focus, {}, compiled, out)
    return sorted(out)


# --- the SPARQL checks: on everything, or on a fixed sample of documents


def sample_statements(statements: Statements, size: int = SAMPLE_SIZE) -> tuple[Statements, int, int]:
    """The statements of a fixed sample of documents (chosen by a hash of their IRI, about `size` statements),
    everything that is not about one document (forum editions, sources, the static graphs), and the text
    links among the sampled recommendations. Returns (sample, sampled documents, documents)."""
    from ..graph.statements import Statements as _Statements

    prefix = f"<{DATA}document/"
    link_prefix = f"<{DATA}link/"
    data_items = statements.graph(GRAPH_DATA)

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
    graphs = {g: list(items) for g, items in statements.graphs.items() if g != GRAPH_DATA}
    graphs[GRAPH_DATA] = kept
    return _Statements(graphs), len(chosen), len(documents)



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
    sampled: tuple[int, int] | None = None  # (documents, of documents) the SPARQL checks saw, above FULL_QUERY_LIMIT


@dataclass
class ShapesChecked:
    """The first half of `validate_statements`: the core shapes checked on the statements; the SPARQL checks to go."""

    findings: list[Finding]
    shapes: Any  # the shapes graph (rdflib): its sh:sparql constraints run with the queries
    queries: dict[str, str]  # the violation queries (name -> text)
    size: int  # statements in the graphs the shapes read
    seconds: dict[str, float] = field(default_factory=dict)


def check_shapes(
    statements: Statements,
    *,
    shapes_path: Path | None = None,
    queries_folder: Path | None = None,
    pyshacl_limit: int | None = None,
    workers: int | None = None,
) -> ShapesChecked:
    """The core shapes on the statements (pySHACL up to `pyshacl_limit` statements in the graphs they read,
    the compiled checks of this module above); the statements are not needed after it (see `check_queries`)."""
    from . import shacl  # looked up at call time, so a caller (or a test) can swap the shapes loader

    pyshacl_limit = PYSHACL_LIMIT if pyshacl_limit is None else pyshacl_limit
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    shapes = shacl.load_shapes(shapes_path)
    queries = violation_queries(queries_folder)
    if not queries:
        raise ValidationError(f"{queries_folder or queries_dir()}: no *-violation.rq queries found")
    size = sum(len(statements.graph(g)) for g in SHACL_GRAPHS)
    seconds["load"] = time.perf_counter() - t

    t = time.perf_counter()
    findings: list[Finding] | None = None
    if size > pyshacl_limit:
        try:
            findings = stream_findings(statements, shapes, SHACL_GRAPHS, workers=workers)
        except Unsupported:
            findings = None
    if findings is None:
        findings = shacl_findings(_rdflib_data(statements, shape_predicates(shapes)), core_shapes(shapes))
    seconds["shacl"] = time.perf_counter() - t
    return ShapesChecked(findings, shapes, queries, size, seconds)


def query_checks(checked: ShapesChecked, store: ox.Store) -> list[Callable[[], list[Finding]]]:
    """The SPARQL checks of `check_queries` as separate jobs (the sh:sparql constraints, then each violation
    query), the costliest first: the pipeline shares them out between two threads. Each returns its findings."""
    jobs: list[Callable[[], list[Finding]]] = [functools.partial(sparql_findings, store, checked.shapes)]
    jobs += [functools.partial(query_findings, store, {name: text}) for name, text in checked.queries.items()]
    return jobs


def queries_report(checked: ShapesChecked, findings: list[Finding], seconds: float, *, where: str = "build",
                   sampled: tuple[int, int] | None = None) -> StatementsReport:
    """The report of `check_queries` from the findings of its jobs (`query_checks`), in any order: they are sorted."""
    from rdflib import RDF as RDFLIB  # lazy, as everywhere here: rdflib costs start-up time
    from rdflib import URIRef

    node_shapes = set(checked.shapes.subjects(RDFLIB.type, URIRef(SH + "NodeShape")))
    ordered = sorted(set(checked.findings + findings), key=lambda f: (
        SEVERITY_ORDER.get(f.severity, 3), f.focus, f.path, f.message, f.source))
    return StatementsReport(findings=ordered, triples=checked.size, shapes=len(node_shapes),
                            queries=len(checked.queries), seconds={**checked.seconds, "queries": seconds},
                            where=where, sampled=sampled)


def check_queries(checked: ShapesChecked, store: ox.Store, *, where: str = "build",
                  sampled: tuple[int, int] | None = None) -> StatementsReport:
    """The second half of `validate_statements`: the SPARQL checks (sh:sparql, queries/*-violation.rq) on
    `store` (pyoxigraph lets go of the GIL while they run, so a thread can run them beside other work)."""
    t = time.perf_counter()
    findings = [finding for job in query_checks(checked, store) for finding in job()]
    return queries_report(checked, findings, time.perf_counter() - t, where=where, sampled=sampled)


def validate_statements(
    statements: Statements,
    store: ox.Store | None = None,
    *,
    shapes_path: Path | None = None,
    queries_folder: Path | None = None,
    where: str = "build",
    pyshacl_limit: int | None = None,
    full_query_limit: int | None = None,
    workers: int | None = None,
) -> StatementsReport:
    """Validate a build from its statements: the shapes on everything, then the SPARQL checks.

    The core shapes: pySHACL up to `pyshacl_limit` statements in the graphs they read, the compiled
    checks of this module above (in `workers` processes: by default two on a big graph). The SPARQL
    checks (sh:sparql, queries/*-violation.rq) run on `store` when given (an in-memory store of all the
    statements), else on an in-memory store of all of them up to `full_query_limit` statements, else of
    a fixed sample of documents (`report.sampled`). (The pipeline runs the two halves, `check_shapes`
    and `check_queries`, itself, on the store it loads anyway.)
    """
    full_query_limit = FULL_QUERY_LIMIT if full_query_limit is None else full_query_limit
    checked = check_shapes(statements, shapes_path=shapes_path, queries_folder=queries_folder,
                           pyshacl_limit=pyshacl_limit, workers=workers)
    t = time.perf_counter()
    sampled = None
    if store is None:
        if len(statements) <= full_query_limit:
            store = query_store(statements)
        else:
            sample, chosen, total = sample_statements(statements)
            store = query_store(sample)
            sampled = (chosen, total)
    checked.seconds["store"] = time.perf_counter() - t
    return check_queries(checked, store, where=where, sampled=sampled)
