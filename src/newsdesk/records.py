"""Typed records passed between newsdesk's stages.

RawDocument (what a reader found in a file) -> Article (cleaned, with metadata).
Errors travel as IngestProblem records so one bad record never stops the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Format = Literal["text", "html", "jsonl", "feed", "warc"]
FORMATS: tuple[Format, ...] = ("text", "html", "jsonl", "feed", "warc")


@dataclass(frozen=True, slots=True)
class RawDocument:
    """One article as a reader found it, before cleaning.

    Exactly one of ``text`` (already scraped text) or ``html`` is set.
    ``origin`` names the file and the record inside it (``feed.xml#entry=3``)
    so every later message can point at it.
    """

    origin: str
    format: Format
    text: str | None = None
    html: str | None = None
    id: str | None = None
    url: str | None = None
    title: str | None = None
    source: str | None = None
    published: datetime | None = None
    lang: str | None = None
    author: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Removal:
    """A piece of input that cleaning dropped, and why."""

    line: int  # 0-based line number in the text given to the cleaner
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article with its metadata, as stored."""

    id: str
    text: str
    title: str | None
    source: str | None
    url: str | None
    published: datetime | None
    lang: str | None
    author: str | None
    format: Format
    origin: str
    content_hash: str
    removed: tuple[Removal, ...] = ()
    dateline: str | None = None
    raw_hash: str = ""  # hash of the input record: unchanged input is never reprocessed
    feed_source: str | None = None  # the publisher a feed entry's <source> names (wire evidence)

    def to_export(self) -> dict[str, object]:
        """The public JSONL export shape (the store adds story and copy fields)."""
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "lang": self.lang,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class IngestProblem:
    """A file or record that could not be ingested, with the reason."""

    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


# --- The cross-source account of a story (entities, quotes, figures) ---------------
# Offsets are Python string offsets into the cleaned ``Article.text``.

QuoteKind = Literal["direct", "indirect", "mixed"]


@dataclass(frozen=True, slots=True)
class Mention:
    """A named entity as written in one article."""

    article: str
    start: int
    end: int
    text: str
    label: str  # spaCy label: PERSON, ORG, GPE, LOC, NORP, FAC, ...


@dataclass(frozen=True, slots=True)
class Entity:
    """One person, organisation or place of a story, merged across spellings."""

    id: str
    name: str  # the fullest form: "Kim Jong Un"
    kind: Literal["person", "organisation", "place", "group", "other"]
    aliases: tuple[str, ...]  # every distinct written form
    mentions: tuple[Mention, ...]
    roles: tuple[str, ...] = ()  # descriptions that name it: "Russian president"


@dataclass(frozen=True, slots=True)
class Quote:
    """A direct, indirect or mixed quote in one article.

    ``start``/``end`` span the quoted content (for a direct quote: inside the
    quotation marks). ``speaker`` is the resolved full name; ``speaker_text`` is
    what the sentence says ("he", "the spokesperson", "Putin").
    """

    article: str
    start: int
    end: int
    text: str
    kind: QuoteKind
    speaker: str | None
    speaker_text: str | None = None
    speaker_start: int | None = None
    speaker_end: int | None = None
    verb: str | None = None
    sentence: int | None = None  # index of the sentence (in the article) holding the cue


_JOINT = re.compile(r", | and ")


def speaker_parts(speaker: str | None) -> tuple[str, ...]:
    """The people of a joint speaker ("David Autor and Gordon Hanson" -> both), or the
    speaker alone. Split only where every part is a capitalised name of two words or
    more, so "Department of Health and Human Services" stays one name."""
    if not speaker:
        return ()
    parts = _JOINT.split(speaker)
    if len(parts) > 1 and all(
            len(p.split()) >= 2 and all(w[:1].isupper() or w[:1] in "'’" for w in p.split()) for p in parts):
        return tuple(parts)
    return (speaker,)


@dataclass(frozen=True, slots=True)
class Figure:
    """A number in one article with its unit and what it counts.

    "roughly 15,000 troops" -> value 15000, unit "troops", counts "troops",
    approx True. ``value`` is None for vague amounts ("thousands") that still
    name what they count.
    """

    article: str
    start: int
    end: int
    text: str
    value: float | None
    unit: str | None
    counts: str | None
    kind: str  # "count", "money", "percent", "age", "duration", "ordinal", "date", "quantity"
    approx: bool = False
    sentence: int | None = None
