"""Online story clustering: articles that report one real-world event share a story.

Every new article is placed against everything already stored, in one pass,
without recomputing the past:

1. **Candidates** come from a nearest-neighbour search over the embeddings of
   the articles already placed (``VectorIndex``: exact numpy search by default,
   a faiss HNSW graph once the index is large). The stories of the ``k`` nearest
   articles are the candidates, so the work per article stays nearly flat as the
   store grows. Article vectors never change, so the graph is add-only; merges
   and splits only rewrite the article -> story map.
2. **Scoring** of each candidate story combines
   * the cosine between the article's embedding and the story's mean embedding,
   * the cosine between the article's tf-idf vector and the story's summed term
     profile, with idf from running document frequencies (names, places and
     numbers are what tell two earthquakes in one week apart; the embedding
     alone blurs them),
   * the same cosine over "names": capitalised words inside sentences and
     numbers (people, places, magnitudes, tolls), the cheap stand-in for NER,
   * optionally the best single-article embedding match inside the story
     (weight 0 by default: measured no gain over the centroid),
   * a penalty for the time between the article and the story's time span,
     when both have dates.
3. The best candidate is joined when its score reaches ``threshold``; otherwise
   the article founds a new story whose id derives from the article id
   (``st-`` + 12 hex digits of sha1), so ids are stable across runs and batches.

Manual corrections: ``merge`` two stories, ``split`` articles out into a new
story, ``pin`` an article to a story before it is placed. Corrections are kept
as pins (article -> story) and aliases (old story id -> surviving id), both part
of the serialised state, so replaying a stream reproduces them.

The whole state is serialisable with ``StoryIndex.state()`` / ``StoryIndex.from_state``
(``save`` / ``load`` wrap them in one ``.npz`` file).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import math
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from .records import Article

log = logging.getLogger(__name__)

__all__ = [
    "COMPONENT",
    "DEFAULT_CONFIG",
    "ArticleFeatures",
    "Assignment",
    "HNSWIndex",
    "NumpyIndex",
    "StoryConfig",
    "StoryIndex",
    "TermCounts",
    "TERMS_VERSION",
    "VectorIndex",
    "article_features",
    "features_from_counts",
    "features_from_text",
    "story_id_for",
    "term_counts",
    "with_embedding",
]

COMPONENT = "stories.v1"  # stored with every assignment so a later version can redo it
# 2: story members and profiles as arrays; 3: a story's terms and names in one pair of
# arrays (1 and 2 are still read)
STATE_VERSION = 3

_MAX_CHARS = 20_000  # a huge "article" is cut here before term counting
_WORD_RE = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
_SENT_SPLIT = re.compile(r"(?<=[.!?:;\"”])\s+|\n+")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
# A year named in the text weighs this many plain names: twin events of one kind (two
# title defences, two store fires) are most often years apart. ECB+ B3 F1 0.920 -> 0.935
# (x2: 0.923, x3: 0.930, x6: 0.929); BASIL unchanged (bench_stories.py).
_YEAR_WEIGHT = 4.0

# A compact English stop list (function words and reporting verbs); content words,
# names and numbers are what identify an event.
_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves said says say told according reported report reports
    mr mrs ms one two new also its it's s t like get got would could may might must shall via
    """.split()
)


# ---------------------------------------------------------------- configuration
@dataclass(frozen=True, slots=True)
class StoryConfig:
    """Every tunable of story placement, in one validated options object.

    The defaults are the measured ones (bench/bench_stories.py): chosen by the
    worst case over ECB+, BASIL and the pooled stream, not tuned per data set.
    The score is ``w_centroid*cos(centroid) + w_member*best_member + w_lexical*tfidf
    - time_penalty``, and an article joins the best story when it reaches ``threshold``.
    """

    threshold: float = 0.30
    w_centroid: float = 0.35
    w_member: float = 0.0  # measured: the best single member adds nothing over the centroid
    w_lexical: float = 0.20
    w_names: float = 0.45  # names and numbers tell twin events apart best (within-topic AUC 0.91 on ECB+)
    neighbours: int = 20  # nearest articles searched; their stories are the candidates
    max_candidates: int = 10  # stories scored per article, nearest first
    time_grace_days: float = 3.0  # no penalty within this distance of the story's span
    time_scale_days: float = 30.0  # the penalty grows linearly to its maximum over this
    time_penalty: float = 0.45
    # Terms (and, separately, names) kept in a story's profile: above twice this many the
    # profile is cut to its heaviest by tf-idf. Measured (bench_stories.py --set): B3 F1
    # unchanged on ECB+, BASIL, pooled and five ECB+ orders from 400 down to 100 (0.949
    # pooled at 64, BASIL falls at 20), while the story record at 40,000 articles fell
    # from 2.7 to 1.8 KB (docs/batch.md).
    profile_terms: int = 100
    # two candidate stories this similar are merged after a placement; 1.0 = never.
    # Measured off: on ECB+ it merged twin events more often than it healed splits.
    merge_threshold: float = 1.0
    # Local re-clustering. A story that has grown to one of SPLIT_CHECK_SIZES members is cut
    # in two by average linkage over its members' pair scores; when the two halves' mean
    # pair score is below this, the half without the founder becomes its own story (twin
    # events that one early article bridged: measured +0.02 B-cubed F1 on ECB+). 0 = never.
    split_threshold: float = 0.36
    # "auto" vector search switches to faiss HNSW above this many articles: measured faster
    # than exact numpy search already at 10k (1.0 vs 1.5 ms per placement), 10x at 100k
    hnsw_above: int = 20_000

    def __post_init__(self) -> None:
        for name in (
            "threshold",
            "merge_threshold",
            "split_threshold",
            "w_centroid",
            "w_member",
            "w_lexical",
            "w_names",
            "time_penalty",
        ):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {v!r}")
        if self.w_centroid + self.w_member + self.w_lexical + self.w_names <= 0:
            raise ValueError("at least one of w_centroid, w_member, w_lexical must be positive")
        if self.neighbours < 1 or self.max_candidates < 1:
            raise ValueError("neighbours and max_candidates must be at least 1, e.g. 20 and 10")
        if self.time_grace_days < 0 or self.time_scale_days <= 0:
            raise ValueError("time_grace_days must be >= 0 and time_scale_days > 0")
        if self.profile_terms < 10:
            raise ValueError("profile_terms must be at least 10, e.g. 100")
        if self.hnsw_above < 1:
            raise ValueError("hnsw_above must be at least 1")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoryConfig:
        """Build from a mapping; unknown keys are an error (a typo is never ignored)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown story option(s) {unknown}; known: {sorted(known)}")
        return cls(**dict(data))


DEFAULT_CONFIG = StoryConfig()

# Story sizes at which the split check runs: a check costs O(n^2) pair scores, and at
# doubling sizes the amortised cost per article stays constant.
SPLIT_CHECK_SIZES = frozenset({4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256})


# ---------------------------------------------------------------- features
@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """What story placement needs to know about one article."""

    id: str
    embedding: np.ndarray  # float32, unit length
    terms: Mapping[str, float]  # sublinear term frequencies of content words (no idf yet)
    names: Mapping[str, float] = field(default_factory=dict)  # capitalised words and numbers, sublinear tf
    title: str | None = None
    published: datetime | None = None
    source: str | None = None


def _tokens(text: str) -> list[str]:
    return [
        t
        for t in (m.lower() for m in _WORD_RE.findall(text))
        if (t not in _STOP and len(t) > 1) or t.isdigit()
    ]


@dataclass(frozen=True, slots=True)
class TermCounts:
    """How often each word story placement weighs occurs in one article: content words
    (the title counted twice) and names and numbers. Pure text work, so a batch run
    counts them in its parallel stages and the sequential load only weighs them."""

    terms: dict[str, int]
    names: dict[str, int]


# Names the counting rules (``_tokens``, ``_STOP``, ``_MAX_CHARS``, the name rule below):
# counts saved under another version are counted again from the text.
TERMS_VERSION = "story-terms.v1"


def term_counts(text: str, title: str | None = None) -> TermCounts:
    """The word counts ``features_from_counts`` weighs (see ``TermCounts``)."""
    body = text[:_MAX_CHARS]
    counts: dict[str, int] = {}
    # the title counts twice: it names the event in few words
    for tok in _tokens(body) + (_tokens(title) * 2 if title else []):
        counts[tok] = counts.get(tok, 0) + 1
    name_counts: dict[str, int] = {}
    for line in _SENT_SPLIT.split(body):
        for i, w in enumerate(_WORD_RE.findall(line)):
            # a capitalised word inside a sentence is a name; a number is a magnitude, a date, a
            # toll (isalpha first: a word of letters has no digit, and most words are letters)
            if (i > 0 and w[0].isupper()) or (not w.isalpha() and any(ch.isdigit() for ch in w)):
                lw = w.lower()
                if lw not in _STOP:
                    name_counts[lw] = name_counts.get(lw, 0) + 1
    return TermCounts(counts, name_counts)


def features_from_counts(
    id: str,
    counts: TermCounts,
    embedding: np.ndarray,
    *,
    title: str | None = None,
    published: datetime | None = None,
    source: str | None = None,
) -> ArticleFeatures:
    """Features of one article given its word counts (``term_counts``) and its embedding."""
    vec = _unit(id, embedding)
    terms = {t: 1.0 + math.log(c) for t, c in counts.terms.items()}
    names = {
        t: (1.0 + math.log(c)) * (_YEAR_WEIGHT if _YEAR_RE.fullmatch(t) else 1.0)
        for t, c in counts.names.items()
    }
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return ArticleFeatures(
        id=id,
        embedding=vec.astype(np.float32, copy=False),
        terms=terms,
        names=names,
        title=title,
        published=published,
        source=source,
    )


def features_from_text(
    id: str,
    text: str,
    embedding: np.ndarray,
    *,
    title: str | None = None,
    published: datetime | None = None,
    source: str | None = None,
) -> ArticleFeatures:
    """Features of one article given its text and its embedding (see ``embeddings.Embedder``)."""
    return features_from_counts(id, term_counts(text, title), embedding,
                                title=title, published=published, source=source)


def _unit(id: str, embedding: np.ndarray) -> np.ndarray:
    vec = np.asarray(embedding, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vec))
    if not math.isfinite(norm):
        raise ValueError(f"article {id!r}: embedding has non-finite values")
    if norm > 0:
        vec = vec / norm
    return vec


def with_embedding(features: ArticleFeatures, embedding: np.ndarray) -> ArticleFeatures:
    """The same features with another embedding (normalised as ``features_from_text`` does),
    without counting the text's terms again."""
    return replace(features, embedding=_unit(features.id, embedding).astype(np.float32, copy=False))


def article_features(article: Article, embedding: np.ndarray,
                     counts: TermCounts | None = None) -> ArticleFeatures:
    """Features of a stored ``Article`` and its embedding (``counts``: its ``term_counts``,
    when they were counted already)."""
    return features_from_counts(
        article.id,
        counts if counts is not None else term_counts(article.text, article.title),
        embedding,
        title=article.title,
        published=article.published,
        source=article.source,
    )


def story_id_for(article_id: str, salt: int = 0) -> str:
    """The stable id of a story founded by ``article_id``."""
    key = article_id if salt == 0 else f"{article_id}#{salt}"
    return "st-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------- vector search
class VectorIndex(Protocol):
    """Inner-product search over unit vectors; rows get consecutive integer ids from 0."""

    def __len__(self) -> int: ...

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, row ids) of the ``k`` best rows for one query vector, best first."""
        ...

    def vector(self, row: int) -> np.ndarray: ...


class NumpyIndex:
    """Exact search with numpy: a growing float32 matrix (capacity doubles)."""

    def __init__(self, dim: int = 384, vectors: np.ndarray | None = None) -> None:
        self.dim = dim
        self._data = np.zeros((1024, dim), dtype=np.float32)
        self._n = 0
        if vectors is not None and len(vectors):
            self.add(vectors)

    def __len__(self) -> int:
        return self._n

    def add(self, vectors: np.ndarray) -> None:
        v = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        need = self._n + len(v)
        if need > len(self._data):
            cap = max(need, 2 * len(self._data))
            grown = np.zeros((cap, self.dim), dtype=np.float32)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : need] = v
        self._n = need

    def similarities(self, queries: np.ndarray) -> np.ndarray:
        """Each query's similarity to every row held now, in one matrix product.

        A batch of placements searches the rows held before it this way: one product of
        a few hundred queries ran 8x faster than as many matrix-vector products (41 vs
        339 ms for 250 queries at 10,000 rows, one thread), then ``search(known=...)``
        adds only the rows placed since.
        """
        q = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        # one BLAS thread: with the batch's workers on the other cores, threads spin idle
        with threadpool_limits(limits=1, user_api="blas"):
            return q @ self._data[: self._n].T

    def search(self, query: np.ndarray, k: int,
               known: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows most similar to ``query``, best first.
        ``known``: its similarities to the first ``len(known)`` rows, computed already."""
        if self._n == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        # einsum instead of ``@``: a single matrix-vector product gains nothing from BLAS
        # threads, and on a busy machine their spinning cost 10x (14 ms vs 0.6 ms at 10k)
        if known is not None and len(known) <= self._n:
            sims = np.concatenate([np.asarray(known, dtype=np.float32),
                                   np.einsum("ij,j->i", self._data[len(known): self._n], q)])
        else:
            sims = np.einsum("ij,j->i", self._data[: self._n], q)
        k = min(k, self._n)
        top = np.argpartition(-sims, k - 1)[:k] if k < self._n else np.arange(self._n)
        order = top[np.argsort(-sims[top], kind="stable")]
        return sims[order], order.astype(np.int64)

    def vector(self, row: int) -> np.ndarray:
        return self._data[row].copy()

    def matrix(self) -> np.ndarray:
        return self._data[: self._n]


class HNSWIndex:
    """Approximate search with a faiss HNSW graph over 8-bit vectors (``pip install faiss-cpu``).

    M=32, efConstruction=80, efSearch=64; each vector is stored as one byte per
    dimension (faiss ``IndexHNSWSQ``, ranges learnt per dimension from the first rows
    added). Measured at 100k synthetic vectors against full float32 vectors
    (bench_stories.py --scale): recall@20 0.877 vs 0.873, one insertion 0.33 vs 0.53 ms,
    one search 0.26 vs 0.50 ms, 66 vs 181 MB. Candidates are stories, not articles, so
    a missed neighbour rarely loses the story (its other members are found).
    """

    # rows used to learn the per-dimension ranges; fewer than MIN_TRAIN rows fall back
    # to the range every unit vector's components lie in
    TRAIN_ROWS = 100_000
    MIN_TRAIN = 1_000

    def __init__(self, dim: int = 384, m: int = 32, ef_construction: int = 80, ef_search: int = 64) -> None:
        try:
            import faiss
        except ImportError as exc:
            raise ImportError("HNSW search needs faiss: pip install faiss-cpu") from exc
        self.dim = dim
        self._faiss = faiss
        # faiss's type stubs give the quantizer kind (an int) the class's own type
        kind: Any = faiss.ScalarQuantizer.QT_8bit
        self._index = faiss.IndexHNSWSQ(dim, kind, m, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = ef_construction
        self._index.hnsw.efSearch = ef_search

    def _train(self, v: np.ndarray) -> None:
        if len(v) >= self.MIN_TRAIN:
            step = max(1, len(v) // self.TRAIN_ROWS)
            self._index.train(np.ascontiguousarray(v[::step]))
            return
        # too few rows to learn from: the range [-1, 1] every unit vector's components lie in
        bounds = np.vstack([np.full(self.dim, -1.0), np.full(self.dim, 1.0)]).astype(np.float32)
        self._index.train(bounds)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        v = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if not self._index.is_trained:
            self._train(v)
        if len(v) == 1:
            with _one_thread(self._faiss):
                self._index.add(v)
            return
        for start in range(0, len(v), 100_000):
            self._index.add(v[start : start + 100_000])

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self) == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        with _one_thread(self._faiss):
            sims, ids = self._index.search(q, min(k, len(self)))
        keep = ids[0] >= 0
        return sims[0][keep], ids[0][keep].astype(np.int64)

    def vector(self, row: int) -> np.ndarray:
        return np.asarray(self._index.reconstruct(int(row)), dtype=np.float32)

    def to_bytes(self) -> np.ndarray:
        return np.asarray(self._faiss.serialize_index(self._index), dtype=np.uint8)

    @classmethod
    def from_bytes(cls, data: np.ndarray, ef_search: int = 64) -> HNSWIndex:
        obj = cls.__new__(cls)
        import faiss

        obj._faiss = faiss
        raw = np.asarray(data, dtype=np.uint8)
        obj._index = faiss.deserialize_index(raw)  # type: ignore[assignment]
        obj._index.hnsw.efSearch = ef_search
        obj.dim = obj._index.d
        return obj


@contextmanager
def _one_thread(faiss: Any) -> Iterator[None]:
    # One query or one insertion gains nothing from OpenMP, and on a busy machine its
    # spinning worker threads cost milliseconds per call.
    n = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(n)


def _faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------- story state
@dataclass(frozen=True, slots=True)
class _Vec:
    """A sparse tf-idf vector: sorted term ids, their weights, its norm."""

    ids: np.ndarray
    vals: np.ndarray
    norm: float


_NO_IDS = np.zeros(0, dtype=np.int32)
_NO_WEIGHTS = np.zeros(0, dtype=np.float32)
# A story holds its summed vector in half precision and its profile weights in single,
# and a story of one article no summed vector at all (it is that article's vector in the
# vector index): the story record is most of the index's memory (6.1 KB a story at
# 40,000 articles, 0.68 stories an article, four in five with one member: docs/batch.md),
# and these were 3.0 KB of it. Arithmetic on them is always done in float32 or wider;
# only what is kept is rounded.
_SUM_DTYPE = np.float16
_WEIGHT_DTYPE = np.float32
# A term whose summed weight falls under this has been taken out: every article weighs
# each of its terms at least 1.0, and what float32 rounding leaves of a taken-out
# term stays far under it for sums up to about 10^4.
_GONE = 1e-3
# A one-article story's weights are that article's own, 1 + ln(count) (x4 for a year):
# half precision holds them to 1e-4 and there are no sums to drift, so they are kept
# in float16 until a second article joins (the sums are float32). A loaded index keeps
# them as they were saved (float32 views into the loaded arrays: converting them would
# hold the weights twice while loading).
_ONE_WEIGHT_DTYPE = np.float16


@dataclass(slots=True)
class _Profile:
    """A story's lexical profile: sorted term ids (of the index's vocabulary) and the
    summed weights of its members' terms (float32).

    Arrays rather than a dict of term strings: a dict costs about 100 bytes per term
    (its entry, a float object, the string), an array entry 8, and scoring needs no
    conversion. Weights that fall to ~0 (terms of articles moved out) drop out.
    """

    ids: np.ndarray = field(default_factory=lambda: _NO_IDS)
    w: np.ndarray = field(default_factory=lambda: _NO_WEIGHTS)

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, ids: np.ndarray, w: np.ndarray, sign: float = 1.0) -> None:
        """Add (``sign`` -1: take away) the weights ``w`` of the distinct term ``ids``."""
        if len(ids) == 0:
            return
        uniq, inv = np.unique(np.concatenate([self.ids, ids]), return_inverse=True)
        total = np.zeros(len(uniq), dtype=np.float64)
        # own weights first, then the added ones: each sum is the one addition a dict
        # update would do, so the weights are bit for bit those of a dict whose values
        # are rounded to float32 after each update
        np.add.at(total, inv, np.concatenate([self.w, sign * np.asarray(w, dtype=np.float64)]))
        keep = total > _GONE
        self.ids = uniq[keep].astype(np.int32)
        self.w = total[keep].astype(_WEIGHT_DTYPE)


@dataclass(slots=True)
class _Story:
    id: str
    members: list[int] = field(default_factory=list)  # article rows
    # the members' summed vector (_SUM_DTYPE); None while the story has one member,
    # whose vector the index holds (StoryIndex._sum_of)
    emb_sum: np.ndarray | None = None
    # Both profiles in one pair of arrays, the terms' entries first, then the names':
    # two numpy arrays a story instead of four and two profile objects (about 340 bytes
    # of object headers a story, a tenth of the record). ``terms`` and ``names`` are views.
    ids: np.ndarray = field(default_factory=lambda: _NO_IDS)
    w: np.ndarray = field(default_factory=lambda: _NO_WEIGHTS)
    n_terms: int = 0
    t_min: float | None = None  # POSIX seconds
    t_max: float | None = None

    @property
    def terms(self) -> _Profile:
        """The lexical profile (views: change it with ``set_profiles``)."""
        return _Profile(self.ids[: self.n_terms], self.w[: self.n_terms])

    @property
    def names(self) -> _Profile:
        """The names profile (views: change it with ``set_profiles``)."""
        return _Profile(self.ids[self.n_terms :], self.w[self.n_terms :])

    def set_profiles(self, terms: _Profile, names: _Profile) -> None:
        self.ids = np.concatenate([terms.ids, names.ids]).astype(np.int32, copy=False)
        self.w = np.concatenate([terms.w, names.w])
        self.n_terms = len(terms.ids)

    def add_time(self, t: float | None) -> None:
        if t is None:
            return
        self.t_min = t if self.t_min is None else min(self.t_min, t)
        self.t_max = t if self.t_max is None else max(self.t_max, t)


class StateVersionError(ValueError):
    """A saved state of a version this code does not read (a newer newsdesk saved it,
    or the bytes are not a state at all)."""

    def __init__(self, version: object) -> None:
        self.version = version
        super().__init__(f"story state version {version!r}, expected 1 to {STATE_VERSION}")

    @property
    def newer(self) -> bool:
        return isinstance(self.version, int) and self.version > STATE_VERSION


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one article went, and why."""

    article_id: str
    story_id: str
    score: float  # the winning score (1.0 for a pin, 0.0 for a new story without candidates)
    new: bool  # the article founded the story
    reasons: tuple[str, ...] = ()
    component: str = COMPONENT


def _gram(vecs: Sequence[_Vec]) -> np.ndarray:
    """Cosines of every pair of sparse vectors, as one sparse matrix product (a zero
    vector has cosine 0 with everything, as in ``StoryIndex._cosine``)."""
    from scipy.sparse import csr_matrix  # scipy is a dependency (the re-cut's linkage)

    lengths = np.array([len(v.ids) for v in vecs])
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    if not indptr[-1]:
        return np.zeros((len(vecs), len(vecs)))
    ids = np.concatenate([v.ids for v in vecs])
    vals = np.concatenate([v.vals / v.norm if v.norm else np.zeros_like(v.vals) for v in vecs])
    rows = csr_matrix((vals, ids, indptr), shape=(len(vecs), int(ids.max()) + 1))
    return np.asarray((rows @ rows.T).toarray())


def _ts(d: datetime | None) -> float | None:
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def _ragged(parts: Sequence[np.ndarray], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of different lengths as one array and each one's end offset."""
    flat = np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)
    ends = np.cumsum([len(p) for p in parts], dtype=np.int64) if parts else np.zeros(0, dtype=np.int64)
    return flat, ends


def _unragged(flat: np.ndarray, ends: np.ndarray) -> list[np.ndarray]:
    """The arrays ``_ragged`` joined."""
    return np.split(np.asarray(flat), np.asarray(ends[:-1], dtype=np.int64)) if len(ends) else []


class StoryIndex:
    """Story state and online placement of articles into stories.

    ``vectors`` is ``"auto"`` (exact numpy search, switching to faiss HNSW above
    ``config.hnsw_above`` articles when faiss is installed), ``"numpy"``, ``"hnsw"``
    or any object following ``VectorIndex``.
    """

    def __init__(
        self, config: StoryConfig = DEFAULT_CONFIG, *, dim: int = 384, vectors: Any = "auto"
    ) -> None:
        if not isinstance(config, StoryConfig):
            raise TypeError("config must be a StoryConfig (use StoryConfig.from_dict for a mapping)")
        self.config = config
        self.dim = dim
        self._mode = vectors if isinstance(vectors, str) else "custom"
        if vectors in ("auto", "numpy"):
            self._vectors: Any = NumpyIndex(dim)
        elif vectors == "hnsw":
            self._vectors = HNSWIndex(dim)
        elif isinstance(vectors, str):
            raise ValueError(f"vectors must be 'auto', 'numpy', 'hnsw' or a VectorIndex, got {vectors!r}")
        else:
            self._vectors = vectors
        self._article_ids: list[str] = []  # row -> article id
        self._row: dict[str, int] = {}  # article id -> row
        self._story_of: list[str] = []  # row -> story id (resolved at write time)
        self._stories: dict[str, _Story] = {}
        # Document frequencies as an array indexed by term id: a story profile's tf-idf
        # weights are then one numpy expression instead of a Python loop over its
        # (up to 2 x profile_terms) terms, which was the largest cost of placement.
        self._vocab: dict[str, int] = {}
        self._terms: list[str] = []  # term id -> term
        self._dfa = np.zeros(1024, dtype=np.float64)
        self._n_docs = 0
        self._pins: dict[str, str] = {}  # article id -> story id (manual corrections)
        self._aliases: dict[str, str] = {}  # merged-away story id -> surviving story id
        self._corrected: set[str] = set()  # stories a user merged or split: never auto-split
        self._changed: set[int] = set()  # rows moved to another story since take_changed()
        # article id -> (the exact index, its similarities to that index's first rows)
        self._presearched: dict[str, tuple[NumpyIndex, np.ndarray]] = {}
        self._arrays_memo: dict[int, tuple[Mapping[str, float], tuple[np.ndarray, np.ndarray]]] = {}

    # ------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self._article_ids)

    @property
    def n_stories(self) -> int:
        return len(self._stories)

    def story_of(self, article_id: str) -> str | None:
        row = self._row.get(article_id)
        return None if row is None else self._story_of[row]

    def take_changed(self) -> dict[str, str]:
        """Articles placed earlier whose story changed (merges, splits) since the last call,
        with their story now; a caller mirroring the index writes just these."""
        rows, self._changed = self._changed, set()
        return {self._article_ids[r]: self._story_of[r] for r in sorted(rows)}

    def resolve(self, story_id: str) -> str:
        """The current id of a story, following merges."""
        seen = set()
        while story_id in self._aliases and story_id not in seen:
            seen.add(story_id)
            story_id = self._aliases[story_id]
        return story_id

    def members(self, story_id: str) -> list[str]:
        st = self._stories.get(self.resolve(story_id))
        return [] if st is None else [self._article_ids[r] for r in st.members]

    def stories(self) -> dict[str, list[str]]:
        """Every story id with its member article ids, in placement order."""
        return {sid: [self._article_ids[r] for r in st.members] for sid, st in self._stories.items()}

    # ------------------------------------------------------------ scoring helpers
    def _term_ids(self, terms: Collection[str]) -> np.ndarray:
        """Ids of ``terms``, new terms getting the next ids (document frequency 0)."""
        vocab = self._vocab
        get = vocab.get
        out = [get(t) for t in terms]  # one comprehension: most terms are known
        if None in out:
            for k, t in enumerate(terms):
                if out[k] is None:
                    out[k] = vocab.get(t)  # a term twice in ``terms`` gets one id
                    if out[k] is None:
                        out[k] = vocab[t] = len(vocab)
                        self._terms.append(t)
        if len(vocab) > len(self._dfa):
            grown = np.zeros(max(len(vocab), 2 * len(self._dfa)), dtype=np.float64)
            grown[: len(self._dfa)] = self._dfa
            self._dfa = grown
        return np.asarray(out, dtype=np.int64)

    def _df(self, term: str) -> int:
        i = self._vocab.get(term)
        return 0 if i is None else int(self._dfa[i])

    def _idf(self, term: str) -> float:
        return math.log((self._n_docs + 1) / (self._df(term) + 1)) + 1.0

    def _arrays(self, terms: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(sorted term ids, their weights) of a term -> weight mapping (not to be changed:
        the last two mappings' arrays are kept, as ``place`` asks for an article's terms and
        names three times; the dictionary lookups were a tenth of a batch load's placement)."""
        memo = self._arrays_memo.get(id(terms))
        if memo is not None and memo[0] is terms:
            return memo[1]
        ids = self._term_ids(terms)
        w = np.fromiter(terms.values(), dtype=np.float64, count=len(ids))
        order = np.argsort(ids)
        out = ids[order], w[order]
        if len(self._arrays_memo) >= 2:
            self._arrays_memo.clear()
        self._arrays_memo[id(terms)] = (terms, out)  # the mapping itself held: its id stays its own
        return out

    def _profile(self, terms: Mapping[str, float]) -> _Profile:
        ids, w = self._arrays(terms)
        return _Profile(ids.astype(np.int32), w.astype(_WEIGHT_DTYPE))

    def _profile_terms(self, prof: _Profile) -> dict[str, float]:
        """A profile as term -> weight (what the tests and version 1 states compare)."""
        return {self._terms[i]: float(w) for i, w in zip(prof.ids.tolist(), prof.w.tolist(), strict=True)}

    def _tfidf(self, arrays: tuple[np.ndarray, np.ndarray]) -> _Vec:
        """tf-idf weights of term arrays under the current document frequencies."""
        ids, w = arrays
        vals = w * (np.log((self._n_docs + 1) / (self._dfa[ids] + 1.0)) + 1.0)
        return _Vec(ids, vals, math.sqrt(float(vals @ vals)))

    def _cosines(self, q: _Vec, profiles: Sequence[_Profile]) -> np.ndarray:
        """``_cosine(q, _tfidf(profile))`` for every profile at once: the candidates'
        profiles as one array, so an article's scoring makes a dozen numpy calls instead
        of about eight per candidate story (per-call overhead, not arithmetic, was most of
        the scoring time: py-spy, 2026-12-06). Equal up to float rounding."""
        k = len(profiles)
        out = np.zeros(k, dtype=np.float64)
        if q.norm == 0 or not k:
            return out
        lengths = np.fromiter((len(p.ids) for p in profiles), dtype=np.int64, count=k)
        if not lengths.sum():
            return out
        ids = np.concatenate([p.ids for p in profiles])
        vals = np.concatenate([p.w for p in profiles]) * (
            np.log((self._n_docs + 1) / (self._dfa[ids] + 1.0)) + 1.0)
        seg = np.repeat(np.arange(k), lengths)
        norms = np.sqrt(np.bincount(seg, weights=vals * vals, minlength=k))
        pos = np.searchsorted(q.ids, ids)
        pos[pos == len(q.ids)] = 0
        hit = q.ids[pos] == ids
        dots = np.bincount(seg[hit], weights=q.vals[pos[hit]] * vals[hit], minlength=k)
        np.divide(dots, q.norm * norms, out=out, where=norms > 0)
        return out

    @staticmethod
    def _cosine(a: _Vec, b: _Vec) -> float:
        if a.norm == 0 or b.norm == 0:
            return 0.0
        # both id arrays are sorted: find each of b's ids in a
        pos = np.searchsorted(a.ids, b.ids)
        pos[pos == len(a.ids)] = 0
        hit = a.ids[pos] == b.ids
        return float(a.vals[pos[hit]] @ b.vals[hit]) / (a.norm * b.norm)

    def _sum_of(self, st: _Story) -> np.ndarray:
        """A story's summed vector in float32 (arithmetic on a float16 one would round
        at every step, and its dot product could overflow): the vector index's copy of a
        one-member story's vector (exact below ``hnsw_above`` articles, 8-bit above)."""
        if st.emb_sum is None:
            return self._vectors.vector(st.members[0])
        return st.emb_sum.astype(np.float32)

    @staticmethod
    def _summed(vectors: Sequence[np.ndarray]) -> np.ndarray | None:
        """What ``_Story.emb_sum`` holds for members with these vectors."""
        if len(vectors) == 1:
            return None
        return np.asarray(np.sum(vectors, axis=0, dtype=np.float32), dtype=_SUM_DTYPE)

    @staticmethod
    def _as_one(st: _Story) -> None:
        """A one-member story's weights in ``_ONE_WEIGHT_DTYPE``."""
        st.w = st.w.astype(_ONE_WEIGHT_DTYPE)

    def _time_penalty(self, t: float | None, story: _Story) -> tuple[float, float | None]:
        if t is None or story.t_min is None or story.t_max is None:
            return 0.0, None
        gap = max(story.t_min - t, t - story.t_max, 0.0) / 86400.0
        c = self.config
        over = max(0.0, gap - c.time_grace_days) / c.time_scale_days
        return c.time_penalty * min(1.0, over), gap

    def _prune(self, story: _Story) -> None:
        # a story's profile keeps its heaviest terms, so scoring it stays bounded in cost
        limit = self.config.profile_terms
        profs = (story.terms, story.names)
        if all(len(prof) <= limit * 2 for prof in profs):
            return
        for prof in profs:
            if len(prof) > limit * 2:
                keep = self._heaviest(prof, limit)
                prof.ids, prof.w = prof.ids[keep], prof.w[keep]
        story.set_profiles(*profs)

    def _heaviest(self, prof: _Profile, limit: int) -> np.ndarray:
        """Positions (in id order) of the ``limit`` terms of ``prof`` with the largest
        tf-idf weight, ties broken by the term. One argsort, and the terms compared only
        where a tie crosses the cut: a Python sort keyed on (weight, term) of every term
        was a tenth of story placement in a batch load (py-spy, 2026-12-07)."""
        score = prof.w.astype(np.float64) * (np.log((self._n_docs + 1) / (self._dfa[prof.ids] + 1.0)) + 1.0)
        order = np.argsort(-score, kind="stable")
        cut = score[order[limit - 1]]
        if score[order[limit]] != cut:
            return np.sort(order[:limit])
        above = np.flatnonzero(score > cut)
        tied = sorted(np.flatnonzero(score == cut).tolist(), key=lambda k: self._terms[int(prof.ids[k])])
        return np.sort(np.concatenate([above, np.asarray(tied[: limit - len(above)], dtype=np.int64)]))

    def _maybe_upgrade(self) -> None:
        if self._mode != "auto" or not isinstance(self._vectors, NumpyIndex):
            return
        if len(self._vectors) < self.config.hnsw_above or not _faiss_available():
            return
        log.info("story index: %d articles, switching vector search to faiss HNSW", len(self._vectors))
        hnsw = HNSWIndex(self.dim)
        hnsw.add(self._vectors.matrix())
        self._vectors = hnsw

    # ------------------------------------------------------------ placement
    def score(self, feats: ArticleFeatures) -> list[tuple[str, float, tuple[str, ...]]]:
        """Candidate stories for ``feats`` with their scores and reasons, best first.

        Pure with respect to the index (nothing is added); ``place`` uses it.
        """
        c = self.config
        pre = self._presearched.pop(feats.id, None)
        if pre is not None and pre[0] is self._vectors:
            sims, rows = self._vectors.search(feats.embedding, c.neighbours, known=pre[1])
        else:
            sims, rows = self._vectors.search(feats.embedding, c.neighbours)
        best_member: dict[str, float] = {}
        for s, r in zip(sims.tolist(), rows.tolist(), strict=True):
            sid = self._story_of[r]
            if sid not in best_member:
                if len(best_member) >= c.max_candidates:
                    continue
                best_member[sid] = s
        if not best_member:
            return []
        stories = [self._stories[sid] for sid in best_member]
        lexs = self._cosines(self._tfidf(self._arrays(feats.terms)), [st.terms for st in stories])
        nams = (self._cosines(self._tfidf(self._arrays(feats.names)), [st.names for st in stories])
                if c.w_names > 0 else np.zeros(len(stories)))
        t = _ts(feats.published)
        out = []
        for (sid, member), st, lex, nam in zip(best_member.items(), stories, lexs.tolist(), nams.tolist(),
                                              strict=True):
            e = self._sum_of(st)
            cen = float(feats.embedding @ e) / max(float(np.linalg.norm(e)), 1e-12)
            pen, gap = self._time_penalty(t, st)
            total = c.w_centroid * cen + c.w_member * member + c.w_lexical * lex + c.w_names * nam - pen
            reasons = (
                f"centroid={cen:.3f}",
                f"member={member:.3f}",
                f"lexical={lex:.3f}",
                f"names={nam:.3f}",
            ) + ((f"gap_days={gap:.1f}", f"time_penalty={pen:.3f}") if gap is not None else ())
            out.append((sid, total, reasons))
        out.sort(key=lambda x: (-x[1], x[0]))
        return out

    def pair_score(self, a: ArticleFeatures, b: ArticleFeatures) -> float:
        """Similarity of two articles on the placement scale (idf from the index's counts).

        Each article plays a one-member story for the other; the time penalty applies.
        """
        return self._pair_score(a, b, *self._article_vecs(a), *self._article_vecs(b))

    def _article_vecs(self, f: ArticleFeatures) -> tuple[_Vec, _Vec]:
        return self._tfidf(self._arrays(f.terms)), self._tfidf(self._arrays(f.names))

    def _pair_score(self, a: ArticleFeatures, b: ArticleFeatures,
                    a_terms: _Vec, a_names: _Vec, b_terms: _Vec, b_names: _Vec) -> float:
        c = self.config
        cos = float(a.embedding @ b.embedding)
        lex = self._cosine(a_terms, b_terms)
        nam = self._cosine(a_names, b_names)
        tb = _ts(b.published)
        pen, _ = self._time_penalty(_ts(a.published), _Story("", t_min=tb, t_max=tb))
        return (c.w_centroid + c.w_member) * cos + c.w_lexical * lex + c.w_names * nam - pen

    def _pair_matrix(self, feats: Sequence[ArticleFeatures]) -> np.ndarray:
        """``pair_score`` of every pair of ``feats`` at once (the diagonal is 1): three
        matrix products instead of n² calls. A re-cut at 256 members scored 32,640 pairs
        one by one, two sparse cosines each, and the re-cuts were a fifth of a batch's
        load (py-spy, 2026-12-06). Equal to the pairwise scores up to float rounding."""
        c = self.config
        emb = np.stack([f.embedding for f in feats]).astype(np.float64)
        sim = (c.w_centroid + c.w_member) * (emb @ emb.T)
        vecs = [self._article_vecs(f) for f in feats]
        for k, weight in ((0, c.w_lexical), (1, c.w_names)):
            if weight:
                sim += weight * _gram([v[k] for v in vecs])
        t = np.array([np.nan if (x := _ts(f.published)) is None else x for f in feats])
        gap = np.abs(t[:, None] - t[None, :]) / 86400.0  # NaN where a date is missing: no penalty
        with np.errstate(invalid="ignore"):
            over = np.clip(gap - c.time_grace_days, 0.0, None) / c.time_scale_days
        sim -= np.nan_to_num(c.time_penalty * np.minimum(1.0, over), nan=0.0)
        np.fill_diagonal(sim, 1.0)
        return sim

    def presearch(self, ids: Sequence[str], embeddings: np.ndarray) -> None:
        """Search the vectors of articles about to be placed against the rows held now,
        in one product (exact search only; HNSW searches one at a time); ``score`` then
        searches only the rows added since. Replaces an earlier presearch; an empty call
        drops it. Similarities are those of one-at-a-time search up to float rounding
        (a matrix product sums in another order: differences of about 1e-7)."""
        self._presearched = {}
        if ids and isinstance(self._vectors, NumpyIndex) and len(self._vectors):
            sims = self._vectors.similarities(embeddings)
            self._presearched = {i: (self._vectors, row) for i, row in zip(ids, sims, strict=True)}

    def place(self, feats: ArticleFeatures) -> Assignment:
        """Put one article into the best story, or found a new one."""
        if feats.embedding.shape != (self.dim,):
            raise ValueError(
                f"article {feats.id!r}: embedding shape {feats.embedding.shape}, expected ({self.dim},)"
            )
        if feats.id in self._row:
            sid = self._story_of[self._row[feats.id]]
            return Assignment(feats.id, sid, 1.0, False, ("already placed",))
        # document frequencies include the article itself (as a batch tf-idf would)
        self._n_docs += 1
        ids = self._arrays(feats.terms)[0]  # before indexing: it may grow the array
        self._dfa[ids] += 1.0  # a mapping's keys are distinct
        pinned = self._pins.get(feats.id)
        if pinned is not None:
            sid = self.resolve(pinned)
            new = sid not in self._stories
            self._attach(feats, sid)
            return Assignment(feats.id, sid, 1.0, new, ("pinned",))
        cands = self.score(feats)
        if cands and cands[0][1] >= self.config.threshold:
            sid, s, reasons = cands[0]
            self._attach(feats, sid)
            merged = self._auto_merge(sid, [c[0] for c in cands[1:] if c[1] >= self.config.threshold])
            if merged:
                reasons = reasons + tuple(f"merged {m}" for m in merged)
            return Assignment(feats.id, self.resolve(sid), round(s, 4), False, reasons)
        sid = self._new_story_id(feats.id)
        self._attach(feats, sid)
        if not cands:
            return Assignment(feats.id, sid, 0.0, True, ("no candidates",))
        why = (f"best={cands[0][1]:.3f} < threshold {self.config.threshold}",)
        return Assignment(feats.id, sid, round(cands[0][1], 4), True, why)

    def story_similarity(self, a: str, b: str) -> float:
        """Similarity of two stories on the placement scale (centroids and profiles)."""
        c = self.config
        sa, sb = self._stories[self.resolve(a)], self._stories[self.resolve(b)]
        ea, eb = self._sum_of(sa), self._sum_of(sb)
        cen = float(ea @ eb) / max(float(np.linalg.norm(ea) * np.linalg.norm(eb)), 1e-12)
        lex = self._cosine(self._tfidf((sa.terms.ids, sa.terms.w)), self._tfidf((sb.terms.ids, sb.terms.w)))
        nam = self._cosine(self._tfidf((sa.names.ids, sa.names.w)), self._tfidf((sb.names.ids, sb.names.w)))
        pen, _ = self._time_penalty(sa.t_min, sb) if sa.t_min is not None else (0.0, None)
        return (c.w_centroid + c.w_member) * cen + c.w_lexical * lex + c.w_names * nam - pen

    def _auto_merge(self, sid: str, others: Sequence[str]) -> list[str]:
        """Merge into ``sid`` the candidate stories that have become one event with it."""
        if self.config.merge_threshold >= 1.0:
            return []
        done = []
        for o in others:
            o = self.resolve(o)
            if o == sid or o not in self._stories:
                continue
            if self.story_similarity(sid, o) >= self.config.merge_threshold:
                # the older story (founded first) keeps its id
                older = min(self._stories[sid].members) < min(self._stories[o].members)
                keep, gone = (sid, o) if older else (o, sid)
                self._merge(keep, gone, pin=False)
                done.append(gone)
                sid = keep
        return done

    def place_many(
        self, items: Iterable[ArticleFeatures], *, features: Mapping[str, ArticleFeatures] | None = None
    ) -> list[Assignment]:
        """Place articles one by one in the given order (feed them in publication order).

        With ``features`` (every article id placed so far -> its features, the new ones
        included), stories are refined (``refine``) as they reach a checkpoint size.
        """
        out = []
        for f in items:
            a = self.place(f)
            out.append(a)
            if features is not None and self.split_due(a.story_id):
                self.refine(a.story_id, features)
        return out

    def _new_story_id(self, article_id: str) -> str:
        salt = 0
        sid = story_id_for(article_id)
        while sid in self._stories or sid in self._aliases:
            salt += 1
            sid = story_id_for(article_id, salt)
        return sid

    def _attach(self, feats: ArticleFeatures, sid: str) -> None:
        row = len(self._article_ids)
        self._vectors.add(feats.embedding.reshape(1, -1))
        self._article_ids.append(feats.id)
        self._row[feats.id] = row
        self._story_of.append(sid)
        st = self._stories.get(sid)
        if st is None:
            st = self._stories[sid] = _Story(sid)  # one member: no summed vector of its own
        else:
            st.emb_sum = (self._sum_of(st) + feats.embedding).astype(_SUM_DTYPE)
        st.members.append(row)
        terms, names = st.terms, st.names
        terms.add(*self._arrays(feats.terms))
        names.add(*self._arrays(feats.names))
        st.set_profiles(terms, names)
        st.add_time(_ts(feats.published))
        self._prune(st)
        if len(st.members) == 1:
            self._as_one(st)
        self._maybe_upgrade()

    # ------------------------------------------------------------ corrections
    def pin(self, article_id: str, story_id: str) -> None:
        """Send ``article_id`` to ``story_id`` when it is placed (now or on a replay).

        For an article already placed, use ``split`` or ``merge`` to move it.
        """
        self._pins[article_id] = story_id

    def merge(self, a: str, b: str) -> str:
        """Merge story ``b`` into story ``a``; returns the surviving id (``a``)."""
        a, b = self.resolve(a), self.resolve(b)
        if a == b:
            return a
        for sid in (a, b):
            if sid not in self._stories:
                raise KeyError(f"no story {sid!r}")
        self._merge(a, b, pin=True)
        self._corrected.add(a)
        return a

    def _merge(self, a: str, b: str, *, pin: bool) -> None:
        sa, sb = self._stories[a], self._stories.pop(b)
        for r in sb.members:
            self._story_of[r] = a
        self._changed.update(sb.members)
        if pin:
            for r in sa.members + sb.members:
                self._pins[self._article_ids[r]] = a
        sa.emb_sum = (self._sum_of(sa) + self._sum_of(sb)).astype(_SUM_DTYPE)
        sa.members.extend(sb.members)
        terms, names = sa.terms, sa.names
        terms.add(sb.terms.ids, sb.terms.w)
        names.add(sb.names.ids, sb.names.w)
        sa.set_profiles(terms, names)
        for t in (sb.t_min, sb.t_max):
            sa.add_time(t)
        self._prune(sa)
        self._aliases[b] = a
        for old, new in list(self._aliases.items()):
            if new == b:
                self._aliases[old] = a

    def split(self, story_id: str, moved: Sequence[ArticleFeatures]) -> str:
        """Move the given articles out of ``story_id`` into a new story; returns its id.

        The moved articles' features are needed to take their terms out of the old
        story's profile (the store rebuilds them from the articles and their vectors).
        Both groups are pinned, so a replay reproduces the split.
        """
        sid = self.resolve(story_id)
        if sid not in self._stories:
            raise KeyError(f"no story {story_id!r}")
        new_id = self._move_out(sid, moved, pin=True)
        self._corrected.update((sid, new_id))
        return new_id

    def _move_out(self, sid: str, moved: Sequence[ArticleFeatures], *, pin: bool) -> str:
        st = self._stories[sid]
        rows = []
        for f in moved:
            r = self._row.get(f.id)
            if r is None or self._story_of[r] != sid:
                raise ValueError(f"article {f.id!r} is not in story {sid}")
            rows.append(r)
        if not rows:
            raise ValueError("split needs at least one article")
        if len(set(rows)) == len(st.members):
            raise ValueError("split would move every article; nothing would be left in the story")
        new_id = self._new_story_id(moved[0].id)
        ns = self._stories[new_id] = _Story(new_id)
        moved_rows = set(rows)
        ns_terms, ns_names, st_terms, st_names = _Profile(), _Profile(), st.terms, st.names
        for f in moved:
            r = self._row[f.id]
            ns.members.append(r)
            terms, names = self._arrays(f.terms), self._arrays(f.names)
            ns_terms.add(*terms)
            ns_names.add(*names)
            st_terms.add(*terms, -1.0)
            st_names.add(*names, -1.0)
            ns.add_time(_ts(f.published))
            self._story_of[r] = new_id
            self._changed.add(r)
            if pin:
                self._pins[f.id] = new_id
        ns.members.sort()
        ns.set_profiles(ns_terms, ns_names)
        st.set_profiles(st_terms, st_names)
        ns.emb_sum = self._summed([f.embedding for f in moved])
        st.members = [r for r in st.members if r not in moved_rows]
        st.emb_sum = self._summed([self._vectors.vector(r) for r in st.members])
        for one in (ns, st):
            if len(one.members) == 1:
                self._as_one(one)
        if pin:
            for r in st.members:
                self._pins[self._article_ids[r]] = sid
        return new_id

    # ------------------------------------------------------------ local re-clustering
    def split_due(self, story_id: str) -> bool:
        """Whether ``refine`` should look at this story now (its size is a checkpoint)."""
        sid = self.resolve(story_id)
        st = self._stories.get(sid)
        return (
            st is not None
            and self.config.split_threshold > 0
            and len(st.members) in SPLIT_CHECK_SIZES
            and sid not in self._corrected
        )

    def refine(self, story_id: str, features: Mapping[str, ArticleFeatures]) -> str | None:
        """Split a story that has grown over two events; returns the new story's id, or None.

        ``features`` maps every member's article id to its features (the index keeps
        only story profiles, not per-article terms). The members are cut in two by
        average linkage over ``pair_score``; the cut is kept when the mean score across
        it is below ``config.split_threshold`` and each side has at least two articles.
        The side holding the story's founder keeps the id. Stories a user corrected are
        left alone.
        """
        # scipy comes with scikit-learn; average linkage is not worth writing by hand
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        sid = self.resolve(story_id)
        if sid in self._corrected or sid not in self._stories:
            return None
        ids = [self._article_ids[r] for r in self._stories[sid].members]
        if len(ids) < 4:
            return None
        try:
            feats = [features[i] for i in ids]
        except KeyError as exc:
            raise KeyError(f"refine({sid}): no features for member {exc.args[0]!r}") from None
        sim = self._pair_matrix(feats)
        dist = np.clip(1.0 - sim, 0.0, None)
        np.fill_diagonal(dist, 0.0)
        labels = fcluster(linkage(squareform(dist, checks=False), "average"), 2, "maxclust")
        keep = labels == labels[0]
        if keep.sum() < 2 or (~keep).sum() < 2:
            return None
        if float(sim[np.ix_(keep, ~keep)].mean()) >= self.config.split_threshold:
            return None
        return self._move_out(sid, [feats[k] for k in np.flatnonzero(~keep)], pin=False)

    def vector_of(self, article_id: str) -> np.ndarray:
        """The stored embedding of a placed article."""
        return self._vectors.vector(self._row[article_id])

    # ------------------------------------------------------------ persistence
    def state(self) -> dict[str, Any]:
        """Everything needed to continue placing later: ``meta`` (JSON-able) and arrays.

        Story members and profiles are arrays (concatenated, with offsets), not JSON:
        as term -> weight objects they made the state's JSON 124 MB at 50,000 articles,
        and encoding it took most of a save's time and memory (measured).
        """
        meta, arrays = self.state_parts()
        return {"meta": meta, "arrays": dict(arrays)}

    def state_parts(self) -> tuple[dict[str, Any], Iterator[tuple[str, np.ndarray]]]:
        """``state()`` as its meta and a generator of its arrays, each built only when
        the generator reaches it: a writer that stores one array before building the
        next holds one array at a time, not the whole state (see ``storybook.write_state``).
        Consume the generator before the index changes."""
        stories = list(self._stories.values())
        meta = {
            "version": STATE_VERSION,
            "component": COMPONENT,
            "config": asdict(self.config),
            "dim": self.dim,
            "mode": self._mode if self._mode != "custom" else "auto",
            "article_ids": self._article_ids,
            "story_of": self._story_of,
            "story_ids": [st.id for st in stories],
            "terms": self._terms,  # term id -> term: saved ids stay the same ids
            "n_docs": self._n_docs,
            "pins": self._pins,
            "aliases": self._aliases,
            "corrected": sorted(self._corrected),
        }
        return meta, self._state_arrays(stories)

    def _state_arrays(self, stories: list[_Story]) -> Iterator[tuple[str, np.ndarray]]:
        yield "df", self._dfa[: len(self._terms)].copy()
        members, members_end = _ragged([np.asarray(st.members, dtype=np.int64) for st in stories], np.int64)
        yield "members", members
        yield "members_end", members_end
        del members, members_end
        # each story's profile arrays as they are held (terms, then names), so a load can
        # keep views of them
        ids, ends = _ragged([st.ids for st in stories], np.int32)
        yield "prof_ids", ids
        yield "prof_end", ends
        del ids, ends
        yield "prof_w", (np.concatenate([st.w for st in stories], dtype=_WEIGHT_DTYPE) if stories
                         else np.zeros(0, dtype=_WEIGHT_DTYPE))
        yield "n_terms", np.array([st.n_terms for st in stories], dtype=np.int32)
        yield "t_min", np.array([np.nan if st.t_min is None else st.t_min for st in stories],
                                dtype=np.float64)
        yield "t_max", np.array([np.nan if st.t_max is None else st.t_max for st in stories],
                                dtype=np.float64)
        if isinstance(self._vectors, HNSWIndex):
            yield "hnsw", self._vectors.to_bytes()
        else:
            vecs = [self._vectors.vector(r) for r in range(len(self))]
            yield "vectors", np.stack(vecs) if vecs else np.zeros((0, self.dim), dtype=np.float32)
        # story mean vectors are kept as sums; stored (a row for every story: a one-member
        # story's is its article's vector) so loading never re-reads every article vector
        emb = np.zeros((len(stories), self.dim), dtype=_SUM_DTYPE)
        for i, st in enumerate(stories):
            emb[i] = self._sum_of(st) if st.emb_sum is None else st.emb_sum
        yield "story_emb", emb

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StoryIndex:
        meta, arrays = state["meta"], state["arrays"]
        version = meta.get("version")
        if version not in (1, 2, STATE_VERSION):
            raise StateVersionError(version)
        idx = cls(StoryConfig.from_dict(meta["config"]), dim=int(meta["dim"]), vectors="numpy")
        idx._mode = meta.get("mode", "auto")
        if "hnsw" in arrays:
            idx._vectors = HNSWIndex.from_bytes(arrays["hnsw"])
        else:
            idx._vectors = NumpyIndex(idx.dim, np.asarray(arrays["vectors"], dtype=np.float32))
        idx._article_ids = list(meta["article_ids"])
        idx._row = {a: i for i, a in enumerate(idx._article_ids)}
        idx._story_of = list(meta["story_of"])
        if version == 1:
            idx._restore_stories_v1(meta, arrays)
        else:
            idx._restore_stories(meta, arrays)
        idx._n_docs = int(meta["n_docs"])
        idx._pins = dict(meta["pins"])
        idx._aliases = dict(meta["aliases"])
        idx._corrected = set(meta.get("corrected", ()))
        return idx

    def _restore_stories(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self._terms = list(meta["terms"])
        self._vocab = {t: i for i, t in enumerate(self._terms)}
        self._dfa = np.zeros(max(1024, len(self._terms)), dtype=np.float64)
        self._dfa[: len(self._terms)] = arrays["df"]
        members = _unragged(arrays["members"], arrays["members_end"])
        # each array read once: ``arrays`` may be an ``np.load`` archive, which reads a
        # member from the archive every time it is indexed
        if meta["version"] >= 3:
            # views into the loaded arrays, not copies (a story's arrays are replaced, never
            # changed in place): loading holds the profiles once, not twice
            ids = _unragged(np.asarray(arrays["prof_ids"]).astype(np.int32, copy=False), arrays["prof_end"])
            w = _unragged(np.asarray(arrays["prof_w"]).astype(_WEIGHT_DTYPE, copy=False), arrays["prof_end"])
            n_terms = np.asarray(arrays["n_terms"]).tolist()
        else:  # version 2: terms and names apart (joined here: each story's arrays are copies)
            ids, w, n_terms = [], [], []
            parts = {}
            for part in ("terms", "names"):
                parts[part] = list(zip(
                    _unragged(arrays[f"{part}_ids"], arrays[f"{part}_end"]),
                    _unragged(np.asarray(arrays[f"{part}_w"]).astype(_WEIGHT_DTYPE, copy=False),
                              arrays[f"{part}_end"]), strict=True))
            for (ti, tw), (ni, nw) in zip(parts["terms"], parts["names"], strict=True):
                ids.append(np.concatenate([ti, ni]).astype(np.int32, copy=False))
                w.append(np.concatenate([tw, nw]))
                n_terms.append(len(ti))
            del parts
        n_stories = len(meta["story_ids"])
        if not len(members) == len(ids) == len(w) == len(n_terms) == n_stories:
            raise ValueError(f"story state: {n_stories} stories but {len(members)} member lists, "
                             f"{len(ids)} profiles and {len(n_terms)} term counts")
        bad = next((i for i, (k, x) in enumerate(zip(n_terms, ids, strict=True))
                    if not 0 <= k <= len(x)), None)
        if bad is not None:
            raise ValueError(f"story state: story {meta['story_ids'][bad]} has {n_terms[bad]} terms "
                             f"in a profile of {len(ids[bad])} entries")
        emb, t_mins, t_maxs = arrays["story_emb"], arrays["t_min"], arrays["t_max"]
        for i, sid in enumerate(meta["story_ids"]):
            rows = members[i].tolist()
            st = _Story(sid, rows, np.asarray(emb[i], dtype=_SUM_DTYPE).copy() if len(rows) > 1 else None,
                        ids[i], w[i], n_terms[i])
            t_min, t_max = float(t_mins[i]), float(t_maxs[i])
            st.t_min = None if math.isnan(t_min) else t_min
            st.t_max = None if math.isnan(t_max) else t_max
            self._stories[sid] = st

    def _restore_stories_v1(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Stories of a state written before version 2 (profiles as term -> weight JSON)."""
        df = {k: int(v) for k, v in meta["df"].items()}
        ids = self._term_ids(df)  # before indexing: it grows the array
        self._dfa[ids] = np.fromiter(df.values(), dtype=np.float64, count=len(df))
        story_emb = arrays.get("story_emb")  # absent in states written before it was added
        for i, s in enumerate(meta["stories"]):
            if len(s["members"]) == 1:
                emb = None
            elif story_emb is not None:
                emb = np.asarray(story_emb[i], dtype=_SUM_DTYPE).copy()
            else:
                emb = self._summed([self._vectors.vector(r) for r in s["members"]])
            st = _Story(s["id"], list(s["members"]), emb)
            st.set_profiles(self._profile(s["terms"]), self._profile(s.get("names", {})))
            st.t_min, st.t_max = s["t_min"], s["t_max"]
            self._stories[st.id] = st

    def save(self, path: str | Path) -> None:
        """Write the state to one ``.npz`` file."""
        with Path(path).open("wb") as fh:
            write_state(self, fh)

    @classmethod
    def load(cls, path: str | Path) -> StoryIndex:
        with Path(path).open("rb") as fh:
            return read_state(fh)


def write_state(index: StoryIndex, fh: BinaryIO) -> None:
    """Write ``index.state()`` to ``fh`` as an ``.npz`` archive (what ``np.load`` reads),
    one array at a time.

    Not ``np.savez``: it takes every array at once, so a save held the whole state twice
    (the arrays, then the archive in memory) on top of the index. ``fh`` need not seek
    (``zipfile`` then writes data descriptors), so it can store parts as they fill.
    """
    meta, arrays = index.state_parts()
    with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        parts = itertools.chain(
            [("meta", np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))], arrays)
        for name, arr in parts:
            a = np.ascontiguousarray(arr)
            with zf.open(f"{name}.npy", mode="w", force_zip64=True) as out:
                # the .npy header, then the array's own buffer: np.lib.format.write_array
                # would copy the array to bytes first (up to 16 MB at a time), doubling the
                # memory of the largest array, which is the peak of a save
                np.lib.format.write_array_header_1_0(out, np.lib.format.header_data_from_array_1_0(a))
                out.write(a.reshape(-1).data.cast("B"))  # reshape: no copy, it is contiguous
            del arr, a


def read_state(fh: BinaryIO | io.RawIOBase) -> StoryIndex:
    """The index ``write_state`` wrote to the seekable file ``fh``.

    The archive's arrays are read one at a time as the index is rebuilt from them, not
    all into memory first, so loading holds the index and about one array beside it.
    """
    with np.load(fh, allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        return StoryIndex.from_state({"meta": meta, "arrays": z})
