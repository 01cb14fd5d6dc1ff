"""Find vocabulary concepts (themes, actors, target groups, instruments) in recommendation text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from ..terms.vocab import Concept, ConceptPattern, Vocabulary, fold


@dataclass(frozen=True, order=True)
class Mention:
    """One concept found in one recommendation text, with the words that justify it."""

    start: int  # offset of the evidence in the recommendation text (code points)
    end: int  # exclusive
    kind: str  # "theme" | "actor" | "group" | "instrument"
    concept: str  # concept IRI
    evidence: str  # == text[start:end]


# ---------------------------------------------------------------------------------------------
# How triggers match (the rules a vocabulary curator can rely on)
#
# Text is folded first without changing its length (curly quotes -> ', dashes -> -, odd spaces ->
# space, accented Latin letters -> ASCII), so offsets in the folded text are offsets in the text.
# Every match starts at the beginning of a word (a letter or digit) and ends at the end of one: no
# hit inside another word ("MRC" is not found in "AMRC", "ILO" not in "Iloilo").
#
# A phrase (skos:altLabel / skos:hiddenLabel) is matched case-insensitively, word by word:
#   - words are separated by any run of spaces, line breaks or hyphens, or by nothing
#     ("job matching" = "job-matching" = "jobmatching", "health care" = "healthcare");
#   - each word takes its plural and simple verb forms ("agency" -> "agencies", "wage" -> "wages",
#     "detain" -> "detained", "plan" -> "planning", "crisis" -> "crises", "fisherman" -> "fishermen")
#     and a possessive ("worker" -> "workers'", "worker's");
#   - British spellings also match their American variants ("organisation" -> "organization",
#     "labour" -> "labor", "centre" -> "center", "programme" -> "program", "counselling" ->
#     "counseling", "analyse" -> "analyze", "licence" -> "license", "dialogue" -> "dialog");
#   - a word starting with re-, co-, pre-, non-, post-, inter-, multi-, cross-, sub- or self- also
#     matches with a hyphen after the prefix ("reintegration" -> "re-integration");
#   - "and" also matches "&"; commas and full stops in a label are optional;
#   - an all-capitals word of two to four letters is an acronym and matches with that exact case
#     (plus a plural s or a possessive 's): "WHO" is not "who", "CLS" not "cls"; longer acronyms
#     ("ASEAN") ignore case.
# Write labels in the singular and in British spelling; the forms above come for free. Irregular
# forms ("child"/"children") need their own label.
#
# An aflm:triggerPattern is a Python `re` regex matched case-insensitively (use (?-i:...) for
# case-sensitive parts) against the folded text, at the start of a word and up to the end of
# one; context that is not evidence goes in lookarounds ((?<=in ), (?=...)). A concept's own
# patterns may not use named groups. Concept patterns (aflm:ConceptPattern) capture
# their key in the named group n (further keys of a list in n2, n3, ...: "Conventions Nos. 87 and
# 98" gives both concepts, each with the whole list as evidence).
#
# An aflm:exclusionPattern of a concept (same syntax, also matched from the start to the end of
# words in the folded text) marks words used in another sense: a match of one of the concept's
# triggers that overlaps a match of one of its exclusion patterns is dropped ("lodging" is housing,
# but not in "lodging an appeal"; "ILO" addresses the ILO, but not in "adopted by the ILO").
# An exclusion match may start up to EXCLUSION_REACH (120) characters before the trigger match.
# Exclusions are read before overlaps are settled, so a dropped match beats nothing; but within a
# kind the matcher still skips the words a dropped match covered (write the trigger, not the
# exclusion, when a longer phrase should win there). Trigger words, their senses and their
# exclusions all live in the vocabularies, never in this module.
#
# Overlaps: each kind is matched on its own (a theme and a group may share words: "women migrant
# workers" is both gender and women-migrant-workers). Within a kind the longest match wins
# ("trade union membership" is freedom-of-association, not two hits), and overlapping hits of the
# same concept merge into one evidence span. Actors and instruments are names and compete
# with each other: "ILO" inside "ILO Convention No. 189" or "ASEAN" inside "ASEAN Consensus" is
# not an actor; themes and groups inside a name stay (a cited instrument's subject is part of what
# the recommendation is about).
#
# Every occurrence gives a Mention (one per distinct evidence span); the graph links the
# recommendation to each concept once and keeps every occurrence as evidence.
# ---------------------------------------------------------------------------------------------

_NAMED_KINDS = frozenset({"actor", "instrument"})
"""Kinds whose triggers are names of things; overlapping names compete (see the rules above)."""

_AFTER = r"(?![^\W_])"  # not followed by a letter or digit
_SEP = r"[\s\-]*"  # between two words of a phrase
_POSSESSIVE = r"(?:'s|(?<=s)')?"  # worker's, workers'
_PREFIX = re.compile(r"^(re|co|pre|non|post|inter|multi|cross|sub|self)(?=[a-z]{3})")
_SPELLING = re.compile(
    r"i[sz](?=ation|ing|ed|er|$)"  # organise/organize, organisation/organization
    r"|(?<=[a-z]{3})our(?=$|s|er|ed|ing|able)"  # labour/labor
    r"|ll(?=ing|ed|or|er)"  # counselling/counseling
    r"|(?<=[a-z])y[sz]$"  # analyse/analyze (stem before the e)
)
_SPELLING_SUB = {"is": "i[sz]", "iz": "i[sz]", "our": "ou?r", "ll": "ll?", "ys": "y[sz]", "yz": "y[sz]"}
_VOWELS = frozenset("aeiou")
_LABEL_TOKEN = re.compile(r"[^\W_]+|[\s\-]+|'|.", re.DOTALL)


def _spell(stem: str) -> str:
    return _SPELLING.sub(lambda m: _SPELLING_SUB[m.group(0)], stem)


def _word_regex(word: str) -> str:
    """A label word as a regex for its inflections and spelling variants (see the rules above)."""
    if word.isupper() and word.isalpha() and 2 <= len(word) <= 4:
        return f"(?-i:{word})(?:s|'s)?"
    w = word.lower()
    if not w.isalpha() or len(w) < 3 or word.isupper():
        return re.escape(w) + ("s?" if word.isupper() else "")
    if w == "and":
        return "(?:and|&)"
    prefix = ""
    m = _PREFIX.match(w)
    if m:
        prefix, w = m.group(1) + "-?", w[m.end() :]
    if w.endswith("tre"):
        body = _spell(w[:-3]) + "t(?:re|er)s?"
    elif w.endswith("mme"):
        body = _spell(w[:-3]) + "m(?:me)?s?"
    elif w.endswith("ogue"):
        body = _spell(w[:-4]) + "og(?:ue)?s?"
    elif w.endswith("ence"):
        body = _spell(w[:-4]) + "en[cs](?:e[sd]?|ing)"
    elif w.endswith("man") and len(w) >= 5:
        body = _spell(w[:-3]) + "m[ae]n"
    elif w.endswith("is") and len(w) >= 5:
        body = _spell(w[:-2]) + "(?:is|es)"
    elif w[-1] == "y" and w[-2] not in _VOWELS:
        body = _spell(w[:-1]) + "(?:y|ies|ied|ying)"
    elif w[-1] == "e" and w[-2] != "e":
        body = _spell(w[:-1]) + "(?:e[sd]?|ing)"
    elif w.endswith(("s", "x", "z", "ch", "sh")):
        body = _spell(w) + "(?:es|ed|ing)?"
    elif w[-1] not in _VOWELS and w[-1] not in "wy":
        body = _spell(w) + f"(?:s|es|ed|ing|{w[-1]}(?:ed|ing))?"
    else:
        body = _spell(w) + "(?:s|es|ed|ing)?"
    return prefix + body + _POSSESSIVE


def phrase_units(label: str) -> tuple[str, ...]:
    """A label as a sequence of regex units (one per word, with its leading separator or punctuation)."""
    units: list[str] = []
    pending = ""  # what joins the next word to the previous one
    for tok in _LABEL_TOKEN.findall(fold(label).strip()):
        if tok[0].isalnum():
            units.append((pending if units else "") + _word_regex(tok))
            pending = _SEP
        elif tok.isspace() or set(tok) == {"-"} or tok == "'":
            continue
        elif tok in ",.":
            pending = r"\s*" + re.escape(tok) + "?" + _SEP
        else:
            pending = r"\s*" + re.escape(tok) + r"\s*"
            if not units:  # a label that starts with punctuation
                units.append(re.escape(tok) + r"\s*")
                pending = ""
    return tuple(units)


def phrase_regex(label: str) -> str:
    """The regex (without boundaries) that a label compiles to; see the rules above."""
    return "".join(phrase_units(label))


class _Trie:
    """Phrases sharing their first words share a prefix of the regex, so one alternation stays fast."""

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.marker: str | None = None

    def add(self, units: Sequence[str], marker: str) -> str | None:
        node = self
        for u in units:
            node = node.children.setdefault(u, _Trie())
        if node.marker is not None:
            return node.marker
        node.marker = marker
        return None

    def regex(self) -> str:
        # Longer alternatives first so that, at one position, the longest phrase wins.
        branches = [
            u + child.regex() for u, child in sorted(self.children.items(), key=lambda kv: (-len(kv[0]), kv[0]))
        ]
        if self.marker is not None:
            branches.append(f"(?P<{self.marker}>)")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"


_WORD = re.compile(r"[^\W_]+")
_WORD_KEY = re.compile(r"([^\W_]{1,3})[^\W_]*")  # a word, with its dispatch key (see _word_key) as group 1

# Python's own regex parser (private, 3.11+), read by _prefixes: re imports it itself, so this costs nothing.
# Were a later Python to move it, _prefixes would answer None ("try at every word"): only speed depends on it.
try:
    from re import _constants as _re_constants  # type: ignore[attr-defined]  # private: typeshed has no stub
    from re import _parser as _re_parser  # type: ignore[attr-defined]  # private: typeshed has no stub
except ImportError:  # pragma: no cover - a Python whose re has no _parser
    _re_constants = _re_parser = None

_MAX_PREFIXES = 4096


def _prefixes(pattern: str, k: int = 3) -> frozenset[str] | None:
    """The strings of k characters (exact case) that a match of `pattern` can start with; None when unknown.

    A string shorter than k means the match can end there (or continue with a non-letter); only
    speed depends on this, because a regex trigger is tried at the words that start with one of
    these strings. Anything the analysis does not understand gives None ("try it at every word").
    It reads the parse tree of Python's own regex parser (re._parser, Python 3.11+), matched with
    IGNORECASE as the annotator does, so (?-i:...) parts narrow the set to their exact case.
    """
    if _re_parser is None:  # pragma: no cover
        return None
    c = _re_constants
    try:
        tree = _re_parser.parse(pattern, re.IGNORECASE)
    except Exception:  # a private module that may change: fall back to "any word"
        return None

    class Unknown(Exception):
        pass

    def cased(ch: str, ignore: bool) -> set[str]:
        return {ch.lower(), ch.upper()} if ignore else {ch}

    def chars_of_set(items: list[tuple[Any, Any]], ignore: bool) -> set[str]:
        out: set[str] = set()
        for op, av in items:
            if op is c.LITERAL:
                out |= cased(chr(av), ignore)
            elif op is c.RANGE:
                lo, hi = av
                if hi - lo > 64:
                    raise Unknown
                for x in range(lo, hi + 1):
                    out |= cased(chr(x), ignore)
            elif op is c.CATEGORY and av is c.CATEGORY_DIGIT:
                out.update("0123456789")
            elif op is c.CATEGORY and av is c.CATEGORY_SPACE:
                out.update(" \t\n\r\f\v")
            else:
                raise Unknown
        return out

    def concat(heads: set[str], tail: list[tuple[Any, Any]], n: int, ignore: bool) -> set[str]:
        out: set[str] = set()
        for h in heads:
            if len(h) >= n:
                out.add(h[:n])
            else:
                out |= {h + x for x in seq(tail, n - len(h), ignore)}
            if len(out) > _MAX_PREFIXES:
                raise Unknown
        return out

    def item(op: Any, av: Any, n: int, ignore: bool) -> set[str]:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return {""}  # zero-width: it only restricts
        if op is c.LITERAL:
            return cased(chr(av), ignore)
        if op is c.IN:
            return chars_of_set(av, ignore)
        if op is c.SUBPATTERN:
            _group, add, delete, sub = av
            flag = (ignore or bool(add & re.IGNORECASE)) and not delete & re.IGNORECASE
            return seq(list(sub), n, flag)
        if op is c.BRANCH:
            out: set[str] = set()
            for alt in av[1]:
                out |= seq(list(alt), n, ignore)
            return out
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            sub = list(sub)
            out = {""} if lo == 0 else set()
            current = {""}
            for count in range(1, min(hi, n) + 1):
                current = concat(current, sub, n, ignore)
                if count >= lo:
                    out |= current
            return out
        raise Unknown

    def seq(items: list[tuple[Any, Any]], n: int, ignore: bool) -> set[str]:
        if n <= 0 or not items:
            return {""}
        (op, av), rest = items[0], items[1:]
        return concat(item(op, av, n, ignore), rest, n, ignore)

    try:
        found = seq(list(tree), k, True)
    except (Unknown, RecursionError):
        return None
    if "" in found:
        return None  # can start with nothing: unknown
    return frozenset(found)


_KEY = 3  # a word's dispatch key: its first three characters (exact case), or the whole word when shorter


def _word_key(word: str) -> str:
    return word[:_KEY]


def _keys(prefixes: frozenset[str] | None) -> set[str] | None:
    """Dispatch keys for a set of match prefixes (see _prefixes): the text words a match can start in."""
    if prefixes is None:
        return None
    keys: set[str] = set()
    for s in prefixes:
        run = _WORD.match(s)
        if run is None or not run.group().isascii():
            continue  # a trigger starts at a word: other starts never match there
        keys.add(_word_key(run.group()))
    return keys


class Matcher:
    """The compiled form of a vocabulary, organised for speed.

    Every trigger starts at the beginning of a word (a letter or digit), so the text is walked
    word by word and, at each word, only the few small regexes whose triggers can start in a
    word beginning with those three characters are tried: one dictionary lookup per word instead of one
    huge alternation tried at every character. Each kind (theme, actor, group, instrument) is
    one "channel" whose hits do not overlap, as is each concept-pattern regex; _resolve then
    settles the overlaps between channels.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._targets: dict[str, str] = {}  # marker group -> concept IRI
        # channel -> (kind, concept pattern or None, key group names)
        self._channels: list[tuple[str, ConceptPattern | None, tuple[str, ...]]] = []
        # word key -> channel -> regex branches; a key is a word's first three characters (exact case)
        self._branches: dict[str, dict[int, list[str]]] = {}
        self._anywhere: dict[int, list[str]] = {}  # branches to try at every word (prefix unknown)
        for kind in sorted({c.kind for c in vocabulary}):
            self._add_kind(kind, [c for c in vocabulary if c.kind == kind and not c.deprecated])
        for cp in vocabulary.patterns:
            for p in cp.trigger_patterns:
                channel = len(self._channels)
                names = re.compile(p).groupindex
                self._channels.append(
                    (cp.kind, cp, tuple(sorted((n for n in names if n[0] == "n"), key=lambda n: (len(n), n))))
                )
                self._register(channel, p, _keys(_prefixes(p)))
        self._compiled: dict[str, re.Pattern[str]] = {}
        self._table: dict[str, tuple[tuple[int, re.Pattern[str]], ...]] = {}
        self._fallback = self._entries({})
        self._gate = self._gate_regex()
        # concept IRI -> its exclusion patterns as one regex (aflm:exclusionPattern), word-bounded
        self._exclusions: dict[str, re.Pattern[str]] = {
            c.iri: re.compile(
                "(?<![^\\W_])(?:" + "|".join(f"(?:{x})" for x in c.exclusion_patterns) + ")" + _AFTER, re.IGNORECASE
            )
            for c in vocabulary
            if c.exclusion_patterns and not c.deprecated
        }
        self._minted: dict[tuple[str, str], str] = {}
        self._n_channels = len(self._channels)
        # Hits compete within a group: each kind alone, actors and instruments together (_resolve).
        groups = sorted({_group(kind) for kind, _cp, _keys in self._channels})
        self._group_of = [groups.index(_group(kind)) for kind, _cp, _keys in self._channels]
        self._n_groups = len(groups)

    def _gate_regex(self) -> re.Pattern[str]:
        """Finds, in C, the words whose key has candidates (most words have none): group 1 is the key."""
        if self._anywhere:
            return _WORD_KEY
        root: dict[str, dict] = {}
        for key in self._branches:
            node = root
            for ch in key:
                node = node.setdefault(ch, {})
            node[""] = {}  # the key may end here: a word of len(key) < 3 letters ends, one of 3 goes on

        def emit(node: dict[str, dict], depth: int) -> str:
            alts = [re.escape(ch) + emit(child, depth + 1) for ch, child in sorted(node.items()) if ch]
            if "" in node:
                alts.append("" if depth == _KEY else r"(?![^\W_])")
            return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

        return re.compile(r"(?<![^\W_])(" + emit(root, 0) + ")")

    def _register(self, channel: int, branch: str, keys: set[str] | None) -> None:
        if keys is None:
            self._anywhere.setdefault(channel, []).append(branch)
            return
        for key in keys:
            self._branches.setdefault(key, {}).setdefault(channel, []).append(branch)

    def _add_kind(self, kind: str, concepts: Sequence[Concept]) -> None:
        channel = len(self._channels)
        self._channels.append((kind, None, ()))
        tries: dict[str, _Trie] = {}  # word key -> trie of the phrases that can start in such a word
        seen: dict[tuple[str, ...], str] = {}
        for c in concepts:
            for phrase in c.triggers:
                units = phrase_units(phrase)
                if not units:
                    continue
                clash = seen.get(units)
                if clash is not None:  # two labels compile alike: one marker serves both
                    if self._targets[clash] != c.iri:
                        raise ValueError(
                            f"trigger {phrase!r} of <{c.iri}> compiles like a trigger of <{self._targets[clash]}>"
                        )
                    continue
                marker = f"g{len(self._targets)}"
                self._targets[marker] = c.iri
                seen[units] = marker
                # The words a match can start in: "reintegration" also starts in "re-integration"
                # ("re"), "health care" in "healthcare", "WHO" only in "WHO" (exact case).
                keys = _keys(_prefixes("".join(units)))
                if keys is None:
                    self._register(channel, "".join(units) + f"(?P<{marker}>)", None)
                    continue
                for key in keys:
                    tries.setdefault(key, _Trie()).add(units, marker)
            for p in c.trigger_patterns:
                marker = f"g{len(self._targets)}"
                self._targets[marker] = c.iri
                self._register(channel, f"(?:{p})(?P<{marker}>)", _keys(_prefixes(p)))
        for key, trie in sorted(tries.items()):
            # Phrases first, so that at one position a phrase beats a regex trigger.
            self._branches.setdefault(key, {}).setdefault(channel, []).insert(0, trie.regex())

    def _entries(self, by_channel: dict[int, list[str]]) -> tuple[tuple[int, re.Pattern[str]], ...]:
        out = []
        for channel in sorted(set(by_channel) | set(self._anywhere)):
            branches = by_channel.get(channel, []) + self._anywhere.get(channel, [])
            source = "(?:" + "|".join(branches) + ")" + _AFTER
            rx = self._compiled.get(source)
            if rx is None:
                rx = self._compiled[source] = re.compile(source, re.IGNORECASE)
            out.append((channel, rx))
        return tuple(out)

    def _lookup(self, key: str) -> tuple[tuple[int, re.Pattern[str]], ...]:
        """The (channel, regex) pairs to try at a word with this key, compiled on first use."""
        entries = self._table.get(key)
        if entries is None:
            by_channel = self._branches.get(key)
            entries = self._fallback if by_channel is None else self._entries(by_channel)
            self._table[key] = entries
        return entries

    def _pattern_iri(self, cp: ConceptPattern, raw: str) -> str:
        key = (cp.iri, raw)
        iri = self._minted.get(key)
        if iri is None:
            iri = self._minted[key] = cp.concept_iri(raw)
        return iri

    def _drop_excluded(self, folded: str, found: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
        """The hits that no exclusion pattern of their concept overlaps."""
        kept: list[tuple[int, int, str, str]] = []
        exclusions = self._exclusions
        for hit in found:
            rx = exclusions.get(hit[3])
            if rx is not None and _overlapped(rx, folded, hit[0], hit[1]):
                continue
            kept.append(hit)
        return kept

    def annotate(self, text: str) -> list[Mention]:
        folded = fold(text)
        found: list[tuple[int, int, str, str]] = []
        free = [0] * self._n_channels  # per channel: where its last hit ended (hits do not overlap)
        group_end = [0] * self._n_groups  # per group: where its hits end so far (hits come in start order)
        overlaps = False  # whether two hits of one group overlap (rare: then _resolve settles them)
        table_get, channels, targets, group_of = self._table.get, self._channels, self._targets, self._group_of
        for w in self._gate.finditer(folded):
            entries = table_get(w.group(1))
            if entries is None:
                entries = self._lookup(w.group(1))
            if not entries:
                continue
            p = w.start()
            for channel, rx in entries:
                if p < free[channel]:
                    continue
                m = rx.match(folded, p)
                if m is None:
                    continue
                end = free[channel] = m.end()
                group = group_of[channel]
                if p < group_end[group]:
                    overlaps = True
                if end > group_end[group]:
                    group_end[group] = end
                kind, cp, keys = channels[channel]
                if cp is None:
                    found.append((p, end, kind, targets[m.lastgroup or ""]))
                else:
                    for name in keys:
                        raw = m.group(name)
                        if raw:
                            found.append((p, end, kind, self._pattern_iri(cp, raw)))
        if not found:
            return []
        if self._exclusions:
            found = self._drop_excluded(folded, found)
            if not found:
                return []
        if overlaps:
            found = _resolve(found)
        else:
            found.sort()
        return [_mention(s, e, kind, iri, text[s:e]) for s, e, kind, iri in found]


EXCLUSION_REACH = 120
"""How far (in characters) before a trigger match an exclusion match may start and still drop it."""


def _overlapped(rx: re.Pattern[str], folded: str, start: int, end: int) -> bool:
    """Whether a match of `rx` overlaps folded[start:end], looking from EXCLUSION_REACH characters before it.

    The scan starts there (lookbehinds still see the text before) and stops at the first match
    past the trigger, so only the neighbourhood of the trigger is read.
    """
    for m in rx.finditer(folded, max(0, start - EXCLUSION_REACH)):
        if m.start() >= end:
            return False
        if m.end() > start:
            return True
    return False


def _mention_fast(start: int, end: int, kind: str, concept: str, evidence: str) -> Mention:
    """Mention(...) without the frozen dataclass's per-field __setattr__ (a third of the cost at 200k mentions)."""
    m = object.__new__(Mention)
    object.__setattr__(
        m, "__dict__", {"start": start, "end": end, "kind": kind, "concept": concept, "evidence": evidence}
    )
    return m


_mention = Mention if hasattr(Mention, "__slots__") else _mention_fast


def _group(kind: str) -> str:
    return "name" if kind in _NAMED_KINDS else kind


def _resolve(found: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Merge overlapping hits of one concept, then let longer hits beat overlapping shorter ones.

    Hits compete only within their group: each kind on its own, except actors and instruments,
    which compete together (see the rules at the top of this module).
    """
    groups: dict[str, list[tuple[int, int, str, str]]] = {}
    for f in found:
        groups.setdefault(_group(f[2]), []).append(f)
    out: list[tuple[int, int, str, str]] = []
    for hits in groups.values():
        hits.sort()
        if all(hits[i][1] <= hits[i + 1][0] for i in range(len(hits) - 1)):
            out += hits  # nothing overlaps: the common case
            continue
        out += _settle(hits)
    out.sort()
    return out


def _settle(hits: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    hits.sort(key=lambda f: (f[2], f[3], f[0], f[1]))
    merged: list[tuple[int, int, str, str]] = []
    for f in hits:
        if merged and merged[-1][2:] == f[2:] and f[0] < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], f[1]), f[2], f[3])
        else:
            merged.append(f)
    kept: list[tuple[int, int, str, str]] = []
    for f in sorted(merged, key=lambda f: (f[0] - f[1], f[0], f[2], f[3])):
        length = f[1] - f[0]
        if not any(k[0] < f[1] and f[0] < k[1] and k[1] - k[0] > length and k[3] != f[3] for k in kept):
            kept.append(f)
    return kept


_MATCHERS: WeakKeyDictionary[Vocabulary, Matcher] = WeakKeyDictionary()


def matcher(vocabulary: Vocabulary) -> Matcher:
    """The compiled matcher of a vocabulary, built once and cached for as long as the vocabulary lives."""
    m = _MATCHERS.get(vocabulary)
    if m is None:
        m = _MATCHERS[vocabulary] = Matcher(vocabulary)
    return m


def annotate(text: str, vocabulary: Vocabulary) -> list[Mention]:
    """Every mention of a vocabulary concept in `text`, sorted by position (deterministic)."""
    return matcher(vocabulary).annotate(text)


def annotate_many(texts: Iterable[str], vocabulary: Vocabulary) -> list[list[Mention]]:
    """`annotate` over many texts, compiling the vocabulary once."""
    m = matcher(vocabulary)
    return [m.annotate(t) for t in texts]
