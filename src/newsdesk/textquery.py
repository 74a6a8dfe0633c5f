"""Keyword queries typed by users, made safe for the store's full-text indexes.

One small grammar, the one PostgreSQL's ``websearch_to_tsquery`` reads: words,
``"quoted phrases"``, ``or`` between items, and ``-`` before an item to exclude
it; anything else is text. The same parse feeds both backends: SQLite's FTS5
gets an expression in which every item is a quoted string (so FTS5's own
operators, column filters and syntax errors cannot be reached), PostgreSQL gets
the query rewritten in the same grammar with every item quoted. Either way the
query travels as a bound parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_ITEMS", "KeywordQuery", "parse_query", "phrase_query"]

# A pasted paragraph is still a query; past this many items the rest is ignored,
# which keeps the cost of one query bounded.
MAX_ITEMS = 32

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORDY = re.compile(r"[^\W_]")  # a letter or a digit: something the tokenizers index


@dataclass(frozen=True, slots=True)
class KeywordQuery:
    """Alternatives (``or``), each a list of required and excluded phrases."""

    alternatives: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]

    def __bool__(self) -> bool:
        return bool(self.alternatives)

    def fts5(self) -> str:
        """The query as an FTS5 expression of quoted strings."""
        parts = []
        for required, excluded in self.alternatives:
            expr = " ".join(_fts5_string(p) for p in required)
            expr += "".join(f" NOT {_fts5_string(p)}" for p in excluded)
            parts.append(f"({expr})")
        return " OR ".join(parts)

    def websearch(self) -> str:
        """The query in ``websearch_to_tsquery``'s grammar, every item quoted."""
        return " or ".join(
            " ".join([f'"{p}"' for p in required] + [f'-"{p}"' for p in excluded])
            for required, excluded in self.alternatives)


def _fts5_string(phrase: str) -> str:
    return '"' + phrase.replace('"', '""') + '"'


def _clean(item: str) -> str:
    # Quotes delimit items; inside one they would only end it early. NUL is dropped, as
    # ingest drops it from texts (PostgreSQL cannot hold it).
    return " ".join(item.replace('"', " ").replace("\x00", "").split())


def parse_query(text: str) -> KeywordQuery:
    """Parse free text; never fails. Items with no letter or digit are dropped, and
    so is an alternative with nothing required (a bare exclusion matches nearly
    everything): a query left with nothing matches nothing."""
    alternatives: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    required: list[str] = []
    excluded: list[str] = []
    items = 0

    def close() -> None:
        if required:
            alternatives.append((tuple(required), tuple(excluded)))
        required.clear()
        excluded.clear()

    for m in _TOKEN.finditer(text):
        if items >= MAX_ITEMS:
            break
        minus, quoted, bare = m.group(1), m.group(2), m.group(3)
        if bare is not None:
            if bare.lower() == "or":
                close()
                continue
            minus = "-" if bare.startswith("-") and len(bare) > 1 else ""
            item = _clean(bare[1:] if minus else bare)
        else:
            item = _clean(quoted)
        if not _WORDY.search(item):
            continue
        items += 1
        (excluded if minus else required).append(item)
    close()
    return KeywordQuery(tuple(alternatives))


def phrase_query(phrase: str) -> KeywordQuery:
    """One phrase, matched as a whole (an entity's name)."""
    item = _clean(phrase)
    return KeywordQuery((((item,), ()),)) if _WORDY.search(item) else KeywordQuery(())
