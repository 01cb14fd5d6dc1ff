"""Where the edited sources (ontology, vocabularies, queries) live, in a checkout or an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # aflm_graph/ (this module lives in aflm_graph/terms/)


@cache
def _root(name: str) -> Path:
    # A source checkout (editable install) keeps them at the top level; a wheel ships them as package data.
    checkout = _PACKAGE.parents[1] / name
    if checkout.is_dir():
        return checkout
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    raise FileNotFoundError(f"cannot find the {name}/ folder next to the package or inside it")


def ontology_dir() -> Path:
    return _root("ontology")


def vocab_dir() -> Path:
    return _root("ontology") / "vocab"


def queries_dir() -> Path:
    return _root("queries")
