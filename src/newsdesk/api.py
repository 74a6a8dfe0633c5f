"""The Python API: a few verbs over typed records. The CLI and (later) the HTTP API
call these and nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import accountbook
from .account import account_markdown
from .cleaning import Cleaned, clean_text
from .embeddings import embedding_text
from .ingest import IngestReport, ingest, to_article
from .readers import JSON_FIELDS, read
from .records import Article, IngestProblem, RawDocument
from .store import MAX_OFFSET, STORY_ORDERS, Store
from .storybook import RebuildReport, StoryBook, embed_texts, rebuild, store_embedder, summarize_stories

__all__ = [
    "JSON_FIELDS",
    "Article",
    "Cleaned",
    "IngestProblem",
    "IngestReport",
    "RawDocument",
    "RebuildReport",
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
    "list_stories",
    "merge_stories",
    "open_store",
    "read",
    "rebuild_stories",
    "search",
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


MAX_PAGE = 200  # largest page of list_stories and search
MAX_QUERY_CHARS = 1000
SEARCH_MODES = ("keyword", "semantic")
LEAD_CHARS = 200  # a semantic hit's snippet: the start of its text


def list_stories(store: Store, *, since: datetime | None = None, until: datetime | None = None,
                 outlet: str | None = None, text: str | None = None, entity: str | None = None,
                 order: str = "recent", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One page of stories: {"items", "total", "limit", "offset"}.

    Items: id, title, first and last seen, articles, outlets (independent: copies count
    once) and sources ((outlet, articles) pairs, at most 8). ``order``: "recent"
    (latest last-seen first) or "size" (most articles first). Filters, all optional
    and combined: ``since``/``until`` (stories seen within the range; undated stories
    drop out), ``outlet`` (a member from that outlet), ``text`` (a member matching the
    keyword query, as in ``search``), ``entity`` (a member naming it, or the cached
    account listing it by name or alias). Blank filters are ignored.
    """
    _check_page(limit, offset)
    if order not in STORY_ORDERS:
        raise ValueError(f"order must be one of {', '.join(STORY_ORDERS)} (got {order!r})")
    if since is not None and until is not None and _utc(since) > _utc(until):
        raise ValueError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    items, total = store.story_summaries(
        since=since, until=until, outlet=_blank_none(outlet), text=_blank_none(text),
        entity=_blank_none(entity), order=order, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def search(store: Store, query: str, *, mode: str = "keyword", limit: int = 20, offset: int = 0,
           source: str | None = None) -> dict[str, Any]:
    """Search articles: {"items", "total", "limit", "offset"}, best first.

    ``mode="keyword"``: the full-text index; ``query`` is free text with "quoted
    phrases", ``or`` and ``-excluded`` words, never SQL or index syntax (a query with
    no word in it finds nothing). Snippets mark matches between U+0002 and U+0003;
    ``score`` is the index's relevance. ``mode="semantic"``: the articles whose
    embeddings are closest to the query's; ``score`` is the cosine, the snippet the
    start of the text, unmarked, and ``total`` the number of articles with an
    embedding (every one is ranked). Items: id, title, source, published, url,
    story_id, score, snippet. ``source`` keeps one outlet's articles.
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the search query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise ValueError(f"the search query is too long ({len(query)} characters; at most {MAX_QUERY_CHARS})")
    if mode not in SEARCH_MODES:
        raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)} (got {mode!r})")
    _check_page(limit, offset)
    source = _blank_none(source)
    if mode == "keyword":
        items, total = store.search_articles(query, limit=limit, offset=offset, source=source)
    else:
        items, total = _semantic_search(store, query, limit, offset, source)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _semantic_search(store: Store, query: str, limit: int, offset: int,
                     source: str | None) -> tuple[list[dict[str, Any]], int]:
    total = store.count_embeddings(source=source)
    if limit == 0 or offset >= total:
        return [], total
    vector = embed_texts([embedding_text(None, query)], store_embedder(store, follow=True))[0]
    want = offset + limit
    k = want
    while True:
        hits = store.nearest_articles(vector, k)
        outlets = {i: r["source"] for i, r in store.article_rows([i for i, _ in hits], lead_chars=0).items()}
        kept = [(i, c) for i, c in hits if i in outlets and (source is None or outlets[i] == source)]
        # An outlet filter may need more neighbours; fewer than k hits means there are no more.
        if len(kept) >= want or len(hits) < k:
            break
        k *= 4
    page = kept[offset:want]
    rows = store.article_rows([i for i, _ in page], lead_chars=2 * LEAD_CHARS)
    return [{"id": aid, "title": rows[aid]["title"], "source": rows[aid]["source"],
             "published": rows[aid]["published"], "url": rows[aid]["url"],
             "story_id": rows[aid]["story_id"], "score": cosine, "snippet": _lead(rows[aid]["lead"])}
            for aid, cosine in page if aid in rows], total


def _lead(text: str, limit: int = LEAD_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def _check_page(limit: int, offset: int) -> None:
    if not isinstance(limit, int) or limit < 0 or limit > MAX_PAGE:
        raise ValueError(f"limit must be between 0 and {MAX_PAGE} (got {limit!r})")
    if not isinstance(offset, int) or offset < 0 or offset > MAX_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_OFFSET:,} (got {offset!r})")


def _blank_none(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


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


def rebuild_stories(store: Store, *, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
    """Build the story index again from the stored articles and replay users' merges and
    splits (see ``storybook.rebuild``); the cure for a ``DamagedStoryIndex``."""
    return rebuild(store, progress=progress)


def _story_or_raise(store: Store, story_id: str) -> str:
    sid = store.resolve_story_id(story_id)
    if sid is None:
        raise KeyError(f"no story with id {story_id!r}")
    return sid
