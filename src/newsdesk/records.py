"""Typed records passed between newsdesk's stages.

RawDocument (what a reader found in a file) -> Article (cleaned, with metadata).
Errors travel as IngestProblem records so one bad record never stops the others.
"""

from __future__ import annotations

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
