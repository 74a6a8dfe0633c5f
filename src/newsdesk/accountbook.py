"""The store's side of accounts: per-article analyses and story accounts are cached
with a hash of their inputs, and recomputed only when an input changes (an
article's text or date, a story's members or copy folding, a component version).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .account import ArticleAnalysis, analyse_article, analysis_hash, build_account, components
from .metadata import publisher_voices
from .records import Article
from .store import Store

__all__ = ["AccountPlan", "cached_account", "claim_rows", "plan_account", "quote_rows", "story_account"]

Progress = Callable[[int, int], None]  # (done, total) articles analysed

# The account reads at most this many articles of a story. Copies are left out
# (they say what their original says, with its voice); past the cap, articles
# are taken in turn from each outlet, earliest first, so every voice is heard.
# A 500-article wire story would otherwise take minutes and quadratic memory.
MAX_ARTICLES = 60


def english(a: Article) -> bool:
    """The account's models read English; an article of unknown language is tried."""
    return not a.lang or a.lang.lower().startswith("en")


def select_members(arts: dict[str, Article], copy_of: dict[str, str],
                   limit: int = MAX_ARTICLES) -> list[Article]:
    """The articles an account reads: English originals, at most ``limit``,
    spread over outlets."""
    originals = [a for a in arts.values() if a.id not in copy_of and english(a)]
    if len(originals) <= limit:
        return originals
    voices = publisher_voices({a.id: (a.source, a.url, a.feed_source) for a in originals})
    by_outlet: dict[str, list[Article]] = {}
    for a in sorted(originals, key=lambda a: (a.published is None, a.published or datetime.min, a.id)):
        by_outlet.setdefault(voices[a.id] or a.id, []).append(a)
    queues = list(by_outlet.values())
    out: list[Article] = []
    while len(out) < limit:
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def _analyses(store: Store, arts: dict[str, Article], hashes: dict[str, str],
              progress: Progress | None = None) -> dict[str, ArticleAnalysis]:
    stored = store.get_analyses(list(arts))
    out: dict[str, ArticleAnalysis] = {}
    fresh: dict[str, tuple[str, str]] = {}
    stale = []
    for aid, a in arts.items():
        if aid in stored and stored[aid][0] == hashes[aid]:
            out[aid] = ArticleAnalysis.from_json(stored[aid][1])
        else:
            stale.append(a)
    for i, a in enumerate(stale):
        x = analyse_article(a)
        out[a.id] = x
        fresh[a.id] = (hashes[a.id], x.to_json())
        if progress:
            progress(i + 1, len(stale))
    store.save_analyses(fresh)
    return out


@dataclass
class AccountPlan:
    """What a story's account reads and the hash of those inputs, known without
    analysing anything: enough to tell whether the cached account is fresh."""

    story: str
    everything: dict[str, Article]
    copy_of: dict[str, str]
    members: dict[str, Article]
    article_hashes: dict[str, str]
    input_hash: str


def plan_account(store: Store, story_id: str, *, texts: bool = True) -> AccountPlan | None:
    """The inputs of a story's account (id or unique prefix); None when no such story.
    ``texts=False``: the articles without their texts, enough for the input hash."""
    sid = store.resolve_story_id(story_id)
    if sid is None:
        return None
    rows = store.story_rows(sid)
    everything = store.get_articles([r["id"] for r in rows], text=texts)
    copy_of = {r["id"]: r["original_id"] for r in rows if r["original_id"]}
    arts = {a.id: a for a in select_members(everything, copy_of)}
    hashes = {aid: analysis_hash(a) for aid, a in arts.items()}
    key = json.dumps([
        sorted((aid, hashes[aid], copy_of.get(aid), a.source, a.url, a.title) for aid, a in arts.items()),
        components(),
    ])
    return AccountPlan(sid, everything, copy_of, arts, hashes,
                       hashlib.sha256(key.encode()).hexdigest()[:32])


def cached_account(store: Store, story_id: str) -> tuple[dict[str, Any] | None, bool] | None:
    """The stored account of a story and whether it is fresh (none of its inputs
    changed since), without computing anything: (None, False) when there is none
    yet; None when there is no such story. A server shows a stale account while
    the fresh one is being prepared."""
    plan = plan_account(store, story_id, texts=False)
    if plan is None:
        return None
    cached = store.get_account(plan.story)
    if cached is None:
        return None, False
    return json.loads(cached[1]), cached[0] == plan.input_hash


def story_account(store: Store, story_id: str, *, progress: Progress | None = None,
                  refresh: bool = False) -> dict[str, Any] | None:
    """The account of a story (id or unique prefix) as JSON data, from the cache
    when none of its inputs changed. None when there is no such story."""
    plan = plan_account(store, story_id)
    if plan is None:
        return None
    cached = store.get_account(plan.story)
    if cached and cached[0] == plan.input_hash and not refresh:
        data: dict[str, Any] = json.loads(cached[1])
        return data
    analyses = _analyses(store, plan.members, plan.article_hashes, progress)
    arts, everything, copy_of = plan.members, plan.everything, plan.copy_of
    data = build_account(plan.story, list(arts.values()), analyses, copy_of=copy_of).to_json()
    data["omitted"] = {
        "copies": sorted(a for a in everything if a in copy_of),
        "other_language": sorted(a for a, x in everything.items() if a not in copy_of and not english(x)),
        "over_limit": sorted(a for a, x in everything.items()
                             if a not in copy_of and english(x) and a not in arts),
    }
    store.save_account(plan.story, plan.input_hash, json.dumps(data, ensure_ascii=False))
    return data


def quote_rows(account: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One export row per quote of an account, with offsets into its article's cleaned text."""
    for q in account["quotes"]:
        for w in q["wordings"]:
            yield {"article": w["article"], "story": account["story"], "start": w["start"],
                   "end": w["end"], "quote": w["text"], "speaker": w["speaker"], "verb": w["verb"],
                   "kind": w["kind"], "aligned_id": q["id"], "relation": w["relation"]}


def claim_rows(account: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One export row per claim of an account, with its supporting sentences."""
    for c in account["claims"]:
        yield {"story": account["story"], "claim": c["claim"], "value": c["value"], "unit": c["unit"],
               "status": c["status"], "outlets": c["outlets"], "articles": c["articles"],
               "sentences": [{"article": s["article"], "sentence": s["sentence"], "start": s["start"],
                              "end": s["end"], "text": s["text"]} for s in c["supports"]],
               "kind": c["kind"], "counts": c["counts"], "id": c["id"]}
