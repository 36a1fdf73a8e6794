"""Bigram tokens for Chinese full-text search, the same on SQLite and PostgreSQL.

Neither database splits Chinese into words, and a trigram index cannot find a two-character
term (整改, 督办). So the text is indexed as tokens made here: each run of CJK characters becomes
its overlapping bigrams (整改措施 → 整改 改措 措施; a run of one character stays one token), each
run of letters and digits one lower-case word (NFKC first: full-width ２０２４ is 2024). A query
term is the same tokens as a phrase: every substring of two characters or more of a CJK run is
found, a word is found by its beginning (priv finds PRIVATE).

SQLite's FTS5 (unicode61) and PostgreSQL's tsvector (cast from its literal form, so no text
search parser or locale is involved) then only match the tokens given to them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: CJK ideographs (with extensions A and the compatibility block), kana and hangul
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")

#: A query of more terms, or a term of more characters, is refused with a message.
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
#: A word longer than this is indexed by its beginning (PostgreSQL keeps lexemes of at most
#: 2047 bytes; 200 characters are at most 800). A query term is shorter still, so it finds it.
MAX_WORD = 200


def _runs(text: str) -> list[str]:
    return _RUN.findall(unicodedata.normalize("NFKC", text).lower())


def _run_tokens(run: str) -> list[str]:
    if _IS_CJK.match(run) and len(run) > 1:
        return [run[i : i + 2] for i in range(len(run) - 1)]
    return [run[:MAX_WORD]]


def tokens(text: str) -> list[str]:
    """The tokens of a document's text, in order."""
    return [token for run in _runs(text) for token in _run_tokens(run)]


def document(text: str) -> str:
    """The text as the index stores it: its tokens, separated by spaces."""
    return " ".join(tokens(text))


@dataclass(frozen=True)
class Phrase:
    """Tokens that must follow each other; the last one may be a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Term:
    """One term of a query as typed, and the phrases that find it (all of them must match)."""

    text: str
    phrases: tuple[Phrase, ...]


class QueryProblem(ValueError):
    """A query that cannot be searched for; the message says why (see views)."""

    def __init__(self, kind: str, **args) -> None:
        super().__init__(kind)
        self.kind, self.args_ = kind, args


def _term(text: str) -> Term | None:
    runs = _runs(text)
    if not runs:
        return None
    if len(runs) == 1 and _IS_CJK.match(runs[0]) and len(runs[0]) == 1:
        raise QueryProblem("too_short", term=text)
    phrases: list[Phrase] = []
    current: list[str] = []
    for run in runs:
        if _IS_CJK.match(run) and len(run) == 1:
            # one character: the beginning of a bigram or a run of its own, so a prefix; a
            # phrase can end with a prefix only, so the phrase ends here
            phrases.append(Phrase((*current, run), prefix=True))
            current = []
        else:
            current += _run_tokens(run)
    if current:
        # a word at the end is found by its beginning; a CJK run is whole bigrams already
        phrases.append(Phrase(tuple(current), prefix=not _IS_CJK.match(runs[-1])))
    return Term(text, tuple(phrases))


def parse(query: str) -> list[Term]:
    """The terms of a query (split at white space; quotes are just characters). Raises
    QueryProblem for a term of a single CJK character, too many terms or too long a term."""
    words = query.split()
    if len(words) > MAX_TERMS:
        raise QueryProblem("too_many", limit=MAX_TERMS)
    terms = []
    for word in words:
        if len(word) > MAX_TERM_LENGTH:
            raise QueryProblem("too_long", limit=MAX_TERM_LENGTH)
        term = _term(word)
        if term is not None and term not in terms:
            terms.append(term)
    return terms


def fts5_match(phrase: Phrase) -> str:
    """The phrase in FTS5's query syntax (tokens are letters and digits only: no quoting)."""
    return '"' + " ".join(phrase.tokens) + '"' + (" *" if phrase.prefix else "")


def tsquery(phrase: Phrase) -> str:
    """The phrase as a tsquery literal (`'整改' <-> '改措'`, `'priv':*`)."""
    quoted = [f"'{t}'" for t in phrase.tokens]
    if phrase.prefix:
        quoted[-1] += ":*"
    return " <-> ".join(quoted)


def tsvector(text: str) -> str:
    """The text's tokens as a tsvector literal with their positions (1 … 16383, the most
    PostgreSQL keeps: later ones share the last)."""
    return " ".join(f"'{t}':{min(i, 16383)}" for i, t in enumerate(tokens(text), start=1))


def _needles(term: Term) -> list[str]:
    """What to mark in a snippet for `term`: its runs as typed (normalised)."""
    return [run for run in _runs(term.text)]


def marks(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Where the terms' runs occur in `text` (start, end), merged, for highlighting. Matched on
    the NFKC lower-case form, which keeps the length of every CJK and ASCII character."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):
        folded = text.lower()
    spans = []
    for term in terms:
        for needle in _needles(term):
            start = folded.find(needle)
            while start != -1:
                spans.append((start, start + len(needle)))
                start = folded.find(needle, start + len(needle))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, terms: list[Term], width: int = 80) -> list[tuple[str, bool]]:
    """A window of `text` around its first match, as (piece, marked) pairs, with an ellipsis
    where the text was cut."""
    spans = marks(text, terms)
    if not spans:
        head = text[:width]
        return [(head + ("…" if len(text) > width else ""), False)]
    first = spans[0][0]
    start = max(0, min(first - width // 4, len(text) - width))
    end = min(len(text), start + width)
    pieces: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    at = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > at:
            pieces.append((text[at:s], False))
        pieces.append((text[s:e], True))
        at = e
    if at < end:
        pieces.append((text[at:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces
