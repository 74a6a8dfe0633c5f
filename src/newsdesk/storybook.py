"""The store's side of stories: the incremental story index, loaded from and saved
to the store, fed with new articles, and corrected by users (merge, split).

The clustering itself is pure and lives in ``stories.py``; this module does the
I/O around it: embeddings in, assignments and index state out.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .copies import original_rank
from .embeddings import (
    DEFAULT_BACKEND,
    ENV_BACKEND,
    SENTENCE_MAX_TOKENS,
    Embedder,
    default_backend,
    embedding_text,
    sentence_backend,
    vector_space,
)
from .records import Article
from .store import DamagedStoryIndex, Store
from .stories import COMPONENT as STORY_COMPONENT
from .stories import (
    DEFAULT_CONFIG,
    ArticleFeatures,
    Assignment,
    StateVersionError,
    StoryIndex,
    TermCounts,
    article_features,
    read_state,
    with_embedding,
    write_state,
)

log = logging.getLogger(__name__)

# Saving the index costs a full write of its state; between saves, a crash only
# costs re-placing the articles placed since (they are found and placed again).
# A save comes every SAVE_EVERY articles, or every SAVE_FRACTION of the index once
# it is larger: a fixed interval made the bytes written grow with the square of the
# corpus (at 100,000 articles, 50 saves of up to 200 MB), a proportional one keeps
# them at about 1/SAVE_FRACTION times the final state, and a crash still costs
# re-placing at most that share of the articles.
SAVE_EVERY = 2000
SAVE_FRACTION = 0.1

# Articles searched against the story index in one matrix product (StoryIndex.presearch):
# at 20,000 rows, the most exact search holds, 20 MB of similarities
PRESEARCH_CHUNK = 256


def save_due(since_save: int, indexed: int) -> bool:
    """Whether a save is due after ``since_save`` placements, with ``indexed`` articles."""
    return since_save >= max(SAVE_EVERY, int(SAVE_FRACTION * indexed))


def shared_embedder() -> Embedder:
    """One embedder per process and backend: loading the model takes seconds, so every
    store reuses it. The backend is read each call (``NEWSDESK_EMBEDDER``), so a process
    that changes the variable (the CLI's ``--embedder``) gets the one it names."""
    return _shared_embedder(default_backend())


@functools.cache
def _shared_embedder(backend: str) -> Embedder:
    return Embedder(backend=backend)


def store_embedder(store: Store, *, follow: bool = False) -> Embedder:
    """The embedder for a store's articles: the one ``NEWSDESK_EMBEDDER`` names, else the
    one whose vectors the store holds (a static store stays static without being told
    each time), else the default. ``follow``: the store's kind even against the variable
    (a search query must be embedded like what it is compared with)."""
    named = bool(os.environ.get(ENV_BACKEND, "").strip())
    shared = shared_embedder()
    space = store.vector_space()
    if space is None or (named and not follow) or space == vector_space(shared.component):
        return shared
    return _shared_embedder("static" if space == "static" else DEFAULT_BACKEND)


def sentence_embedder() -> Embedder:
    """The embedder of an account's sentences (fp32 at 128 tokens: its thresholds were
    tuned on it); the article embedder itself when ``NEWSDESK_EMBEDDER`` names one
    backend for both (one model in memory; sentences longer than 96 tokens are rare)."""
    return _sentence_embedder(sentence_backend(), bool(os.environ.get(ENV_BACKEND, "").strip()))


@functools.cache
def _sentence_embedder(backend: str, named: bool) -> Embedder:
    shared = shared_embedder()
    if shared.backend == backend and named:
        return shared
    return Embedder(backend=backend, max_tokens=SENTENCE_MAX_TOKENS)


def _encode(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Encode, on one thread for small batches.

    torch's intra-op threads spin while waiting; for a handful of short texts on a
    busy machine that turned 34 ms into 1 s per call (measured here), while large
    batches gain from every core. The onnxruntime backends keep their own thread
    pool, whose idle threads sleep instead of spinning.
    """
    if len(texts) >= 32 or embedder.backend != "torch":
        return embedder.encode(texts)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return embedder.encode(texts)
    finally:
        torch.set_num_threads(before)


def embed_texts(texts: list[str], embedder: Embedder | None = None) -> np.ndarray:
    """Embeddings of a few texts (a search query), as placement computes them, with the
    shared embedder unless one is given."""
    return _encode(embedder or shared_embedder(), texts)


def _state_to_bytes(index: StoryIndex) -> memoryview:
    buf = io.BytesIO()
    write_state(index, buf)
    return buf.getbuffer()  # not getvalue(): no second copy of a state of hundreds of MB


_REBUILD = (" Articles, copies and story assignments are stored apart from it and are "
            "intact: `newsdesk rebuild-stories` builds the index again from them and replays "
            "the merges and splits users made.")


def _unreadable(store: Store, size: int, exc: Exception) -> str:
    where = store.engine.url.render_as_string(hide_password=True)
    reason = f"{type(exc).__name__}: {str(exc).rstrip('.')}"
    if "allow_pickle" in reason:
        # numpy's message advises loading it unsafely; newsdesk never writes pickles
        reason = "it is not a saved index (numpy would read it as pickled data)"
    return f"{where}: the saved story index ({size} bytes) cannot be read: {reason}."


class StoryBook:
    """A story index bound to a store. Not thread-safe: one writer at a time."""

    def __init__(self, store: Store, *, embedder: Embedder | None = None, fresh: bool = False) -> None:
        """``fresh``: start from an empty index, not reading the saved one (``rebuild``)."""
        self.store = store
        self._embedder = embedder
        saved = None if fresh else store.open_story_state()
        size = 0 if saved is None else saved.size
        try:
            self.index = read_state(saved) if saved is not None else StoryIndex(DEFAULT_CONFIG)
        except StateVersionError as exc:
            raise DamagedStoryIndex(_unreadable(store, size, exc) + (
                " It was saved by a newer newsdesk: upgrade newsdesk to read it (rebuilding "
                "it here would drop what the newer version saved)." if exc.newer else _REBUILD
            ), newer=exc.newer) from exc
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as exc:
            # numpy's own message ("File is not a zip file") names neither the store nor
            # what it was reading
            raise DamagedStoryIndex(_unreadable(store, size, exc) + _REBUILD) from exc
        finally:
            del saved  # the parts: the index is built, they are not needed any more
        self._since_save = 0
        self._healed = False  # the store's assignments were compared with the whole index
        self._last_placed: int | None = None  # story_members.placed of the last placement
        self.autosave = True  # save the index as placements accumulate (off while rebuilding)
        self._placed_as: Mapping[str, int] = {}  # set by rebuild: article -> its place
        self.caught_up = False  # ingest.queue_missing has queued what the saved index missed

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = store_embedder(self.store)
        return self._embedder

    # --- placement -----------------------------------------------------------------
    def embed(self, batch: Sequence[Article]) -> dict[str, np.ndarray]:
        """Embeddings of the batch: stored ones are reused, missing ones computed and stored."""
        ids = [a.id for a in batch]
        have = self.store.get_embeddings(ids)
        unembedded = [a for a in batch if a.id not in have]
        if unembedded:
            texts = [embedding_text(a.title, a.text) for a in unembedded]
            vecs = _encode(self.embedder, texts)
            new = {a.id: vecs[i] for i, a in enumerate(unembedded)}
            self.store.save_embeddings(self.embedder.component, new)
            have.update(new)
        return have

    def place(self, batch: Sequence[Article], copy_of: dict[str, str] | None = None, *,
              ordered: bool = False, word_counts: Mapping[str, TermCounts] | None = None) -> list[Assignment]:
        """Place new articles in stories, in publication order (``ordered``: in the order
        given); copies join their original's story. ``word_counts``: articles' ``term_counts``
        counted already (a batch run's stages), by id; the others are counted here."""
        if not batch:
            return []
        copy_of = copy_of if copy_of is not None else self.store.copy_of_map([a.id for a in batch])
        vectors = self.embed(batch)
        order = list(batch) if ordered else sorted(
            batch, key=lambda a: (a.published is None, a.published or 0, a.id))
        by_id = {a.id: a for a in batch}
        out: list[Assignment] = []
        # this batch's features (unit vectors), reused when a refine needs them
        feats = {a.id: article_features(a, vectors[a.id], word_counts.get(a.id) if word_counts else None)
                 for a in order}
        try:
            for n, a in enumerate(order):
                if n % PRESEARCH_CHUNK == 0:  # the next chunk searched against what is held, at once
                    chunk = order[n:n + PRESEARCH_CHUNK]
                    self.index.presearch([x.id for x in chunk],
                                         np.stack([feats[x.id].embedding for x in chunk]))
                original = copy_of.get(a.id)
                if original is not None and self.index.story_of(a.id) is None:
                    sid = self.index.story_of(original)
                    if sid is not None:
                        # A copy is not a new voice: it goes where its original is.
                        self.index.pin(a.id, sid)
                placed = self.index.place(feats[a.id])
                out.append(placed)
                if self.index.split_due(placed.story_id):
                    self._refine(placed.story_id, by_id, feats)
        finally:
            self.index.presearch([], np.zeros((0, self.index.dim), dtype=np.float32))
        self._write_members(out)
        self._since_save += len(out)
        if self.autosave and save_due(self._since_save, len(self.index)):
            self.save()
        return out

    def _refine(self, story_id: str, batch: dict[str, Article], known: Mapping[str, ArticleFeatures]) -> None:
        """Let the index re-cut a story at a checkpoint size; members' texts come from the
        batch or the store (``known``: features already computed)."""
        ids = self.index.members(story_id)
        # the index's own vector (quantised once the index is HNSW), as for members read back
        feats = {i: with_embedding(known[i], self.index.vector_of(i)) for i in ids if i in known}
        arts = {i: batch[i] for i in ids if i in batch and i not in feats}
        arts.update(self.store.get_articles([i for i in ids if i not in feats and i not in arts]))
        feats.update({i: article_features(a, self.index.vector_of(i)) for i, a in arts.items()})
        if len(feats) < len(ids):
            log.warning("story %s: %d member(s) missing from the store; not refined",
                        story_id, len(ids) - len(feats))
            return
        new = self.index.refine(story_id, feats)
        if new is not None:
            log.info("story %s split: %d article(s) moved to %s", story_id,
                     len(self.index.members(new)), new)

    def _write_members(self, assignments: Sequence[Assignment]) -> None:
        """Write the new assignments, and move articles whose story id changed (auto-merges)."""
        changed = self.index.take_changed()
        if not self._healed:
            known = self.store.story_map()
            # Once per book, everything: this also heals a store that an interrupted run
            # left behind the saved index. Later calls compare only what changed, since
            # rebuilding the whole map each batch made a load quadratic in its size.
            current = {aid: sid for sid, members in self.index.stories().items() for aid in members}
        else:
            current = changed
            current.update({x.article_id: self.index.story_of(x.article_id) or x.story_id
                            for x in assignments})
        if self._last_placed is None:
            self._last_placed = self.store.last_placed()
        rows = [{"article_id": x.article_id, "story_id": current.get(x.article_id, x.story_id),
                 "score": float(x.score), "reasons": json.dumps(list(x.reasons)),
                 "placed": self._last_placed + i + 1} for i, x in enumerate(assignments)]
        self._last_placed += len(rows)
        for r in rows:  # a rebuild keeps each article's place in the order it follows
            r["placed"] = self._placed_as.get(str(r["article_id"]), r["placed"])
        placed = {r["article_id"] for r in rows}
        if self._healed:
            # what the store holds for the articles that moved, read for them alone: a map
            # of every article kept in memory cost ~175 bytes an article (175 MB at 1,000,000)
            others = [aid for aid in current if aid not in placed]
            known = {}
            for k in range(0, len(others), 500):
                known.update(self.store.story_of_map(others[k:k + 500]))
        moved = {aid: sid for aid, sid in current.items()
                 if aid not in placed and known.get(aid) not in (None, sid)}
        self.store.write_story_members(rows, moved, STORY_COMPONENT)
        self._healed = True

    def missing(self) -> list[str]:
        """Stored articles the saved index does not know, oldest first."""
        known = set(self.index._row)  # noqa: SLF001 - the index's own id table
        return [aid for aid in self.store.article_ids() if aid not in known]

    def save(self) -> None:
        # streamed into the store's parts: the whole state is never in memory at once
        self.store.save_story_state(functools.partial(write_state, self.index), len(self.index))
        self._since_save = 0

    # --- corrections ------------------------------------------------------------------
    def merge(self, a: str, b: str) -> str:
        """Merge story ``b`` into ``a``; the merge is kept as pins and survives later ingests."""
        survivor = self.index.merge(a, b)
        self.store.add_correction("merge", {"into": a, "from": b})
        self._write_members([])
        self.save()
        return survivor

    def split(self, story_id: str, article_ids: Sequence[str]) -> str:
        """Move articles out of a story into a new one; returns the new story id."""
        new_id = self._split(story_id, article_ids)
        self.store.add_correction("split", {"story": story_id, "articles": list(article_ids),
                                            "new_story": new_id})
        self._write_members([])
        self.save()
        return new_id

    def _split(self, story_id: str, article_ids: Sequence[str]) -> str:
        arts = self.store.get_articles(article_ids)
        missing = [i for i in article_ids if i not in arts]
        if missing:
            raise KeyError(f"no article(s) {', '.join(missing)}")
        vectors = self.store.get_embeddings(list(arts))
        feats = [article_features(arts[i], vectors[i]) for i in article_ids]
        return self.index.split(story_id, feats)

    def _replay(self, kind: str, payload: Mapping[str, Any]) -> str:
        """Apply one stored correction to the index again; raises KeyError or ValueError
        when the rebuilt stories no longer allow it."""
        need = {"merge": ("into", "from"), "split": ("articles",)}.get(kind, ())
        lacking = [k for k in need if k not in payload]
        if lacking:
            raise ValueError(f"its record has no {', '.join(lacking)}")
        if kind == "merge":
            return self.index.merge(str(payload["into"]), str(payload["from"]))
        if kind == "split":
            ids = [str(a) for a in payload["articles"]]
            # the articles' story now, which is the recorded one when placement came out the same
            holder = {self.index.story_of(a) for a in ids}
            if len(holder) != 1 or None in holder:
                raise ValueError("its articles are no longer in one story")
            return self._split(str(holder.pop()), ids)
        raise ValueError(f"unknown correction kind {kind!r}")


@dataclass
class RebuildReport:
    """What ``rebuild`` did."""

    articles: int = 0  # placed
    stories: int = 0  # after the rebuild
    moved: int = 0  # articles whose story id is not the one they had before
    replayed: int = 0  # users' merges and splits applied again
    skipped: list[str] = field(default_factory=list)  # corrections that no longer apply, and why


def _copy_of_when_placed(order: Sequence[str], copy_of: Mapping[str, str],
                         rank: Mapping[str, tuple[Any, ...]],
                         matched: Mapping[str, str]) -> dict[str, str]:
    """Each copy's original at the time it was placed, where that was another article.

    A copy placed after its original now followed it. One placed before it (the original
    arrived later, published earlier, and took the group over) followed the original of
    the group of the article it was matched with: the lowest ``rank``
    (``copies.original_rank``) among that group's members placed up to then.
    """
    seen: set[str] = set()
    then: dict[str, str] = {}  # group (by its original now) -> its original so far
    out: dict[str, str] = {}
    for a in order:
        seen.add(a)
        group = copy_of.get(a, a)
        if group in rank:
            cur = then.get(group)
            if cur is None or rank[a] < rank[cur]:
                then[group] = a
        original = copy_of.get(a)
        if original is None:
            continue
        if original in seen:
            out[a] = original
            continue
        m = matched.get(a)
        if m is not None and m in seen:
            cur = then.get(copy_of.get(m, m))
            if cur is not None and cur != a:
                out[a] = cur
    return out


def rebuild(store: Store, *, embedder: Embedder | None = None,
            progress: Callable[[int, int], None] | None = None, batch: int = 200) -> RebuildReport:
    """Build the story index again from the stored articles, without reading the saved one.

    For a saved index that cannot be read (``DamagedStoryIndex``), or to re-place everything.
    Articles are placed in the order they were placed before (``Store.placement_order``),
    from their stored embeddings (the model runs only for articles that have none);
    copies follow their originals; then the users' merges and splits are replayed in the
    order they were made. Story ids come from each story's first article, so the same
    order gives the same stories and ids. ``progress``
    gets (articles placed, articles in all). The index is saved once, at the end: an
    interrupted rebuild leaves the saved index as it was, and run again follows the same
    order (written to the store before any placement).
    """
    before = store.story_map()
    book = StoryBook(store, embedder=embedder, fresh=True)
    book.autosave = False
    # the order they were placed in before: stories depend on it (oldest publication
    # first over the whole store changed the story of half the articles; docs/design.md)
    ids = store.placement_order()
    store.renumber_placement(ids)
    book._placed_as = {a: i for i, a in enumerate(ids, start=1)}
    book._last_placed = len(ids)
    now, matched = store.all_copies()
    members = sorted(set(now) | set(now.values()))
    rank = {}
    for k in range(0, len(members), 500):
        for r in store.copy_records(members[k:k + 500]).values():
            rank[r.id] = original_rank(r.published, r.length, r.id)
    copy_of = _copy_of_when_placed(ids, now, rank, matched)
    report = RebuildReport()
    for i in range(0, len(ids), batch):
        chunk = ids[i:i + batch]
        found = store.get_articles(chunk)
        report.articles += len(book.place([found[a] for a in chunk if a in found],
                                          {a: copy_of[a] for a in chunk if a in copy_of},
                                          ordered=True))
        if progress:
            progress(min(i + batch, len(ids)), len(ids))
    for seq, kind, payload in store.corrections():
        try:
            book._replay(kind, json.loads(payload))
            report.replayed += 1
        except json.JSONDecodeError as exc:
            report.skipped.append(f"correction {seq} ({kind} {payload[:200]!r}): "
                                  f"its record is not JSON: {exc}")
        except (KeyError, ValueError, TypeError) as exc:
            # TypeError: a record of the wrong shape (a list, a number where ids belong)
            what = exc.args[0] if exc.args else exc
            report.skipped.append(f"correction {seq} ({kind} {payload[:200]}): {what}")
    book._write_members([])
    book.save()
    after = store.story_map()
    report.stories = len(set(after.values()))
    report.moved = sum(1 for a, sid in after.items() if before.get(a) not in (None, sid))
    return report


def summarize_stories(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per story: title, first and last seen, articles, independent outlets (copies count once)."""
    stories: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = stories.setdefault(r["story_id"], {"id": r["story_id"], "articles": 0, "outlets": set(),
                                              "first": None, "last": None, "title": None,
                                              "title_at": None})
        s["articles"] += 1
        if r["original_id"] is None:  # an original (or lone article) is an independent voice
            s["outlets"].add(r["source"] or f"unknown:{r['id']}")
        p = r["published"]
        if p is not None:
            s["first"] = p if s["first"] is None or p < s["first"] else s["first"]
            s["last"] = p if s["last"] is None or p > s["last"] else s["last"]
        if r["title"]:
            key = (p is None, p or 0, r["id"])
            if s["title_at"] is None or key < s["title_at"]:
                s["title"], s["title_at"] = r["title"], key
    out = []
    for s in stories.values():
        s["outlets"] = len(s["outlets"])
        s.pop("title_at")
        out.append(s)
    out.sort(key=lambda s: (s["last"] is None, -(s["last"].timestamp() if s["last"] else 0),
                            -s["articles"], s["id"]))
    return out
