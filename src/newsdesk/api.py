"""The Python API: a few verbs over typed records. The CLI and (later) the HTTP API
call these and nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import accountbook
from .account import account_markdown
from .cleaning import Cleaned, clean_text
from .ingest import IngestReport, ingest, to_article
from .readers import JSON_FIELDS, read
from .records import Article, IngestProblem, RawDocument
from .store import Store
from .storybook import StoryBook, summarize_stories

__all__ = [
    "JSON_FIELDS",
    "Article",
    "Cleaned",
    "IngestProblem",
    "IngestReport",
    "RawDocument",
    "Store",
    "account_markdown",
    "articles",
    "clean_text",
    "copy_info",
    "export_articles",
    "export_claims",
    "export_quotes",
    "get_article",
    "ingest",
    "merge_stories",
    "open_store",
    "read",
    "similar_articles",
    "split_story",
    "stories",
    "story",
    "story_account",
    "story_markdown",
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
    ids = [a.id for a in chunk]
    originals = store.copy_of_map(ids)
    story_of = store.story_of_map(ids)
    for a in chunk:
        yield a.to_export() | {"story": story_of.get(a.id), "copy_of": originals.get(a.id)}


def stories(store: Store) -> list[dict[str, Any]]:
    """Every story, newest first: id, title, first and last seen, articles, independent outlets."""
    return summarize_stories(store.story_rows())


def story(store: Store, story_id: str) -> dict[str, Any] | None:
    """One story (id or unique prefix): its summary and its articles by outlet and time,
    each with the original it copies and why."""
    sid = store.resolve_story_id(story_id)
    if sid is None:
        return None
    rows = store.story_rows(sid)
    summary = summarize_stories(rows)[0]
    members = sorted(rows, key=lambda r: (r["published"] is None, r["published"] or 0, r["id"]))
    for r in members:
        r["reasons"] = json.loads(r["reasons"])
        r["evidence"] = json.loads(r["evidence"]) if r["evidence"] else None
    return summary | {"members": members}


def story_account(store: Store, story_id: str, *,
                  progress: accountbook.Progress | None = None) -> dict[str, Any] | None:
    """The cross-source account of a story (id or unique prefix) as JSON data:
    entities, aligned quotes, claims with their status, coverage by outlet,
    timeline and cited summary. Cached; recomputed only when an input changed."""
    return accountbook.story_account(store, story_id, progress=progress)


def story_markdown(store: Store, story_id: str) -> str | None:
    """The account of a story as a Markdown report."""
    data = story_account(store, story_id)
    return account_markdown(data) if data is not None else None


def _accounts(store: Store, story_id: str | None,
              progress: accountbook.Progress | None) -> Iterator[dict[str, Any]]:
    if story_id is not None:
        data = story_account(store, story_id)
        if data is None:
            raise KeyError(f"no story with id {story_id!r}")
        yield data
        return
    ids = store.story_ids()
    for i, sid in enumerate(ids):
        data = accountbook.story_account(store, sid)
        if data is not None:
            yield data
        if progress:
            progress(i + 1, len(ids))


def export_quotes(store: Store, *, story_id: str | None = None,
                  progress: accountbook.Progress | None = None) -> Iterator[dict[str, Any]]:
    """One record per quote: article, story, start, end, quote, speaker, verb, kind, aligned_id
    (offsets into the article's cleaned text), for one story or every story."""
    for data in _accounts(store, story_id, progress):
        yield from accountbook.quote_rows(data)


def export_claims(store: Store, *, story_id: str | None = None,
                  progress: accountbook.Progress | None = None) -> Iterator[dict[str, Any]]:
    """One record per claim: story, claim, value, unit, status, outlets, articles, sentences."""
    for data in _accounts(store, story_id, progress):
        yield from accountbook.claim_rows(data)


def similar_articles(store: Store, article_id: str, k: int = 10) -> list[tuple[Article, float]]:
    """The ``k`` stored articles closest in meaning to one (id or unique prefix), with the
    cosine of their embeddings, most similar first. pgvector's index on PostgreSQL where
    the server has it, exact search otherwise (``Store.nearest_articles``)."""
    article = store.get_article(article_id)
    if article is None:
        raise KeyError(f"no article with id {article_id!r}")
    vector = store.get_embeddings([article.id]).get(article.id)
    if vector is None:
        raise KeyError(f"article {article.id!r} has no embedding yet")
    hits = [(i, c) for i, c in store.nearest_articles(vector, k + 1) if i != article.id][:k]
    found = store.get_articles([i for i, _ in hits])
    return [(found[i], c) for i, c in hits if i in found]


def merge_stories(store: Store, into: str, other: str, *, storybook: StoryBook | None = None) -> str:
    """Merge story ``other`` into ``into``; later ingests respect it. Returns the surviving id.
    A long-running caller passes the ``StoryBook`` it ingests with."""
    a, b = _story_or_raise(store, into), _story_or_raise(store, other)
    if a == b:
        raise ValueError(f"cannot merge story {a!r} into itself")
    return (storybook or StoryBook(store)).merge(a, b)


def split_story(store: Store, story_id: str, article_ids: Sequence[str], *,
                storybook: StoryBook | None = None) -> str:
    """Move articles out of a story into a new story; later ingests respect it.
    Returns the new story's id."""
    sid = _story_or_raise(store, story_id)
    full = []
    for aid in article_ids:
        a = store.get_article(aid)
        if a is None:
            raise KeyError(f"no article with id {aid!r}")
        full.append(a.id)
    return (storybook or StoryBook(store)).split(sid, full)


def _story_or_raise(store: Store, story_id: str) -> str:
    sid = store.resolve_story_id(story_id)
    if sid is None:
        raise KeyError(f"no story with id {story_id!r}")
    return sid
