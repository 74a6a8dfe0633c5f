"""The Python API: a few verbs over typed records. The CLI and (later) the HTTP API
call these and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .cleaning import Cleaned, clean_text
from .ingest import IngestReport, ingest, to_article
from .readers import JSON_FIELDS, read
from .records import Article, IngestProblem, RawDocument
from .store import Store

__all__ = [
    "JSON_FIELDS",
    "Article",
    "Cleaned",
    "IngestProblem",
    "IngestReport",
    "RawDocument",
    "Store",
    "articles",
    "clean_text",
    "copy_info",
    "export_articles",
    "get_article",
    "ingest",
    "open_store",
    "read",
    "to_article",
]


def open_store(db: str | Path = "newsdesk.db") -> Store:
    """Open (creating and migrating if needed) an SQLite file or a database URL."""
    return Store(db)


def articles(store: Store, *, source: str | None = None, limit: int | None = None) -> list[Article]:
    return list(store.iter_articles(source=source, limit=limit))


def get_article(store: Store, article_id: str) -> Article | None:
    """An article by id (or a unique id prefix)."""
    return store.get_article(article_id)


def copy_info(store: Store, article_id: str) -> dict[str, object] | None:
    """Which original an article copies and the evidence, or None for an original."""
    return store.copy_info(article_id)


def export_articles(store: Store, *, source: str | None = None) -> Iterator[dict[str, object]]:
    """Export records, one per article, in the documented JSONL shape.

    ``copy_of`` is the id of the original this article copies, or None.
    """
    chunk: list[Article] = []
    for article in store.iter_articles(source=source):
        chunk.append(article)
        if len(chunk) >= 500:
            yield from _with_copies(store, chunk)
            chunk = []
    yield from _with_copies(store, chunk)


def _with_copies(store: Store, chunk: list[Article]) -> Iterator[dict[str, object]]:
    originals = store.copy_of_map([a.id for a in chunk])
    for a in chunk:
        yield a.to_export() | {"copy_of": originals.get(a.id)}
