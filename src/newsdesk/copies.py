"""Exact and near-duplicate copies of one text, grouped under one original.

A wire story republished by many sites, the same article under another headline,
with boilerplate added or removed, a few sentences edited, cut short, or sitting
inside a longer page: all of these are *copies*, and copies count as one voice
later on. This module finds them incrementally: every new article is placed
against everything already indexed, without recomputing the past.

Three candidate channels, all expressed as integer keys that a store can keep in
one SQL table ``(key, article_id)``:

* ``exact``  -- the article's content hash (equal normalised text);
* ``band``   -- MinHash LSH bands (42 bands x 3 rows of a 128-permutation
  signature over 5-word shingles, a threshold near Jaccard 0.3);
* ``anchor`` -- a content-defined sample of 8-word shingles (about one in eight),
  which survives when a short article sits inside a long page and the MinHash
  Jaccard is low.

Candidates are then *verified* on exact shingle sets: Jaccard for near-duplicates,
containment of the shorter text in the longer for truncated and embedded copies.
A wire credit ("(AP)", "Reuters", a shared feed ``<source>``) found in both texts
lowers the thresholds a little but never makes a copy on its own. Every match
carries its evidence (method, score, detail).

The signature is datasketch's ``MinHash`` (scheme ``affine32``, seed 1) computed
with numpy over 32-bit shingle hashes; it is bit-identical to
``datasketch.MinHash(num_perm=128, hashfunc=lambda h: h).update_batch(hashes)``
(tests/test_copies.py checks it), so datasketch itself is not needed at run time.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from .metadata import content_hash as _content_hash
from .metadata import normalize_for_hash
from .records import Article

log = logging.getLogger(__name__)

__all__ = [
    "COMPONENT",
    "BucketStore",
    "CopyEvidence",
    "CopyIndex",
    "CopyMatch",
    "DEFAULT_PARAMS",
    "CopyParams",
    "CopyRecord",
    "CopySketch",
    "InMemoryBuckets",
    "anchor_keys",
    "apply_match",
    "band_keys",
    "containment",
    "exact_key",
    "jaccard",
    "original_rank",
    "pick_original",
    "resolve_original",
    "shingle_hashes",
    "signature",
    "sketch",
    "wire_credits",
    "words",
]

COMPONENT = "copies.v1"  # stored with every grouping so a later version can redo it

# Key namespaces: the channel sits in bits 60-61 so all keys are non-negative and
# below 2**62 (safe for SQLite INTEGER and PostgreSQL BIGINT), and the three
# channels can share one table without colliding.
CHANNEL_EXACT = 1
CHANNEL_BAND = 2
CHANNEL_ANCHOR = 3
_KEY_MASK = np.uint64((1 << 60) - 1)

_MAX_WORDS = 50_000  # a hostile or broken "article" is cut here before hashing
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class CopyParams:
    """Every tunable of copy detection, in one validated options object.

    The defaults are the measured ones (bench/bench_copies.py). Changing
    ``num_perm``, ``seed``, ``shingle_words``, ``bands``, ``rows``, ``anchor_words``
    or ``anchor_every`` changes the persisted keys: re-index after changing them.
    """

    num_perm: int = 128
    seed: int = 1
    shingle_words: int = 5
    # 42 x 3: candidate probability 0.69 at Jaccard 0.3, 0.94 at 0.4, 0.996 at 0.5
    # (LSH at 0.5 alone missed 9-10% of syndicated copies here).
    bands: int = 42
    rows: int = 3
    anchor_words: int = 8
    anchor_every: int = 8  # keep the 8-word shingles whose hash is 0 mod this
    jaccard: float = 0.5  # verified near-duplicate
    containment: float = 0.8  # verified: shorter text inside the longer
    wire_discount: float = 0.1  # both texts credit the same wire: thresholds lowered by this
    min_words: int = 20  # the shorter text of a non-exact copy has at least this many words
    min_anchor_hits: int = 2
    max_candidates: int = 24  # verified per new article, best-ranked first
    cache_size: int = 4096  # shingle sets of recently seen articles kept for verification

    def __post_init__(self) -> None:
        if self.num_perm < 1:
            raise ValueError("num_perm must be positive, e.g. 128")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands x rows ({self.bands} x {self.rows}) must fit in num_perm={self.num_perm}; "
                "for a Jaccard threshold near 0.3 with 128 permutations use 42 x 3"
            )
        if self.shingle_words < 1 or self.anchor_words < 1 or self.anchor_every < 1:
            raise ValueError("shingle_words, anchor_words and anchor_every must be at least 1")
        for name in ("jaccard", "containment", "wire_discount"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {v!r}")
        if self.max_candidates < 1 or self.min_anchor_hits < 1:
            raise ValueError("max_candidates and min_anchor_hits must be at least 1")

    @property
    def lsh_threshold(self) -> float:
        """The Jaccard at which a pair becomes a candidate with probability about one half."""
        return float((1.0 / self.bands) ** (1.0 / self.rows))


DEFAULT_PARAMS = CopyParams()


# ----------------------------------------------------------------- hashing
_M64 = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial shingle hash


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def words(text: str) -> list[str]:
    """Normalised words (NFKC, case-folded, ``\\w+``) of a text, at most 50,000."""
    out = _WORD_RE.findall(normalize_for_hash(text))
    return out[:_MAX_WORDS]


@dataclass(frozen=True, slots=True)
class _Tokens:
    words: list[str]
    lines: np.ndarray  # line number of each word


def _tokenise(text: str) -> _Tokens:
    ws: list[str] = []
    line_of: list[int] = []
    for n, line in enumerate(normalize_for_hash_lines(text)):
        found = _WORD_RE.findall(line)
        ws.extend(found)
        line_of.extend([n] * len(found))
        if len(ws) >= _MAX_WORDS:
            break
    return _Tokens(ws[:_MAX_WORDS], np.asarray(line_of[:_MAX_WORDS], dtype=np.int64))


def normalize_for_hash_lines(text: str) -> list[str]:
    """The text's lines, each folded like ``metadata.normalize_for_hash``."""
    return [normalize_for_hash(ln) for ln in text.splitlines()]


def _word_hashes(ws: Sequence[str]) -> np.ndarray:
    """A stable 64-bit hash per word (blake2b), computed once per distinct word."""
    seen: dict[str, int] = {}
    for w in ws:
        if w not in seen:
            seen[w] = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
    return np.fromiter((seen[w] for w in ws), dtype=np.uint64, count=len(ws))


def _shingles64(wh: np.ndarray, k: int) -> np.ndarray:
    """64-bit hashes of the k-word shingles (one shingle of all words when fewer than k)."""
    n = len(wh)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    k = min(k, n)
    with np.errstate(over="ignore"):
        h = np.zeros(n - k + 1, dtype=np.uint64)
        for j in range(k):
            h = h * _M64 + wh[j : n - k + 1 + j]
        h = h + np.uint64(k)
        return _fmix64(h)


def _line_shingles64(tok: _Tokens, k: int) -> np.ndarray:
    """Hashes of the k-word shingles that stay inside one line.

    Shingles never span a line break, so a page's menus and link lists (one short
    item per line) give no shingles at all: two pages of one site do not look
    alike because of their navigation. A text with no line of k words falls back
    to shingles across lines.
    """
    h = _shingles64(_word_hashes(tok.words), k)
    n = len(tok.words)
    if n >= k:
        inside = tok.lines[: n - k + 1] == tok.lines[k - 1 :]
        if inside.any():
            h = h[inside]
    return h


def shingle_hashes(text: str, k: int = 5) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the text's k-word shingles (uint32).

    These are the inputs of the MinHash; their exact sets give the verified
    Jaccard and containment.
    """
    tok = text if isinstance(text, _Tokens) else _tokenise(text)
    h64 = _line_shingles64(tok, k)
    return np.unique((h64 >> np.uint64(32)).astype(np.uint32))


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch 2.x ``affine32`` permutations: the same RandomState draws, same order."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_PERM_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}  # constants, at most a few


def _perms(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    key = (num_perm, seed)
    if key not in _PERM_CACHE:
        _PERM_CACHE[key] = _permutations(num_perm, seed)
    return _PERM_CACHE[key]


def _minhash(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    a, b = _perms(num_perm, seed)
    sig = np.full(num_perm, np.uint32(0xFFFFFFFF), dtype=np.uint32)
    if len(hashes) == 0:
        return sig
    hv = _fmix32(hashes.astype(np.uint32))
    # Chunks bound the (n, num_perm) temporary for very long pages.
    for start in range(0, len(hv), 4096):
        chunk = hv[start : start + 4096, None]
        with np.errstate(over="ignore"):
            sig = np.minimum(sig, (chunk * a + b).min(axis=0))
    return sig


def signature(text: str, params: CopyParams = DEFAULT_PARAMS) -> np.ndarray:
    """MinHash signature (uint32, ``num_perm`` values) of the text's word shingles."""
    return _minhash(shingle_hashes(text, params.shingle_words), params.num_perm, params.seed)


@dataclass(frozen=True, slots=True)
class CopySketch:
    """What copy detection computes from one text alone, before any lookup.

    A batch run computes sketches in parallel (one shard of articles at a time)
    and hands them to :meth:`CopyIndex.place_batch`, which then only looks up and
    verifies. ``shingles`` are the sorted distinct 32-bit shingle hashes,
    ``signature`` their MinHash, ``anchors`` the anchor keys.
    """

    n_words: int
    shingles: np.ndarray
    signature: np.ndarray
    anchors: tuple[int, ...]


def sketch(text: str, params: CopyParams = DEFAULT_PARAMS) -> CopySketch:
    """The sketch of one text (pure): word count, shingle hashes, MinHash, anchor keys."""
    tok = _tokenise(text)
    sh = shingle_hashes(tok, params.shingle_words)  # type: ignore[arg-type]
    return CopySketch(
        n_words=len(tok.words),
        shingles=sh,
        signature=_minhash(sh, params.num_perm, params.seed),
        anchors=tuple(anchor_keys(tok, params)),  # type: ignore[arg-type]
    )


def _namespace(h: np.ndarray, channel: int) -> list[int]:
    keys = (h & _KEY_MASK) | np.uint64(channel << 60)
    return [int(k) for k in keys]


def band_keys(sig: np.ndarray, params: CopyParams = DEFAULT_PARAMS) -> list[int]:
    """One integer key per LSH band; the band number is part of the key.

    Two signatures share a key exactly when one band's ``rows`` values are equal.
    Keys are non-negative and below 2**62.
    """
    b, r = params.bands, params.rows
    if len(sig) < b * r:
        raise ValueError(f"signature has {len(sig)} values, bands x rows needs {b * r}")
    m = np.asarray(sig[: b * r], dtype=np.uint64).reshape(b, r)
    with np.errstate(over="ignore"):
        h = np.arange(1, b + 1, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)
        for j in range(r):
            h = _fmix64(h * _M64 + m[:, j])
    return _namespace(h, CHANNEL_BAND)


def anchor_keys(text: str, params: CopyParams = DEFAULT_PARAMS) -> list[int]:
    """Keys of a content-defined sample of the text's ``anchor_words``-word shingles.

    The sample depends only on each shingle's own hash, so a passage shared by
    two texts yields the same anchors in both, wherever it sits in them.
    """
    tok = text if isinstance(text, _Tokens) else _tokenise(text)
    if len(tok.words) < params.anchor_words:
        return []
    h = np.unique(_line_shingles64(tok, params.anchor_words))
    keep = h[(h >> np.uint64(7)) % np.uint64(params.anchor_every) == 0]
    return _namespace(keep, CHANNEL_ANCHOR)


def exact_key(content_hash_hex: str) -> int:
    """The key of a content hash (``metadata.content_hash``) in the exact channel."""
    h = np.array([int(content_hash_hex[:16], 16)], dtype=np.uint64)
    return _namespace(h, CHANNEL_EXACT)[0]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted distinct hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller shingle set found in the larger one."""
    small = min(len(a), len(b))
    if small == 0:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / small


# ----------------------------------------------------------------- wire credits
# (agency, literals one of which every match contains, pattern). The literal test is
# str.__contains__, a few hundred times cheaper than the pattern: with thirteen
# patterns searched on every article, the search was 5 % of a batch load (py-spy).
_WIRES: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (name, literals, re.compile(rx))
    for name, literals, rx in (
        ("AP", ("AP", "Associated Press"), r"\(AP\)|\bAssociated Press\b|^AP\b|\bAP [—–-]"),
        ("Reuters", ("Reuters", "REUTERS"), r"\bReuters\b|\bREUTERS\b"),
        ("AFP", ("AFP", "Agence France"), r"\(AFP\)|\bAFP\b|\bAgence France[- ]Presse\b"),
        ("dpa", ("dpa", "Deutsche Presse-Agentur"), r"\(dpa\)|\bdpa\b|\bDeutsche Presse-Agentur\b"),
        ("UPI", ("(UPI)", "United Press International"), r"\(UPI\)|\bUnited Press International\b"),
        ("PA", ("(PA)", "PA Media", "Press Association"), r"\(PA\)|\bPA Media\b|\bPress Association\b"),
        ("EFE", ("EFE",), r"\(EFE\)|\bEFE\b"),
        ("ANSA", ("ANSA",), r"\(ANSA\)|\bANSA\b"),
        ("Xinhua", ("Xinhua",), r"\(Xinhua\)|\bXinhua\b"),
        ("Kyodo", ("(Kyodo)", "Kyodo News"), r"\(Kyodo\)|\bKyodo News\b"),
        ("Yonhap", ("Yonhap",), r"\(Yonhap\)|\bYonhap\b"),
        ("Bloomberg", ("(Bloomberg)", "Bloomberg News"), r"\(Bloomberg\)|\bBloomberg News\b"),
        ("CP", ("(CP)", "The Canadian Press"), r"\(CP\)|\bThe Canadian Press\b"),
    )
)


def wire_credits(text: str, feed_source: str | None = None, *, edge_chars: int = 400) -> frozenset[str]:
    """News agencies credited in the text's head or tail ("(AP)", "Reuters", "AFP", ...).

    Only the first and last ``edge_chars`` characters are read: that is where a
    credit line sits, while "told Reuters" in mid-body is not a credit. A feed's
    ``<source>`` element, when known, is added as ``feed:<name>``.
    """
    edges = text[:edge_chars] + "\n" + text[-edge_chars:] if len(text) > 2 * edge_chars else text
    found = {name for name, literals, rx in _WIRES
             if any(lit in edges for lit in literals) and rx.search(edges)}
    if feed_source and feed_source.strip():
        found.add("feed:" + feed_source.strip().casefold())
    return frozenset(found)


# ----------------------------------------------------------------- records and results
@dataclass(frozen=True, slots=True)
class CopyRecord:
    """What verification needs of a stored article, and its group's original.

    ``original_id`` is the id of the group's original (the article's own id when
    it is the original or alone).
    """

    id: str
    text: str
    published: datetime | None
    content_hash: str
    original_id: str
    feed_source: str | None = None
    n_words: int = -1  # -1: computed from text when needed
    # What verification needs of the text, kept from its sketch so that a stored
    # candidate is not re-tokenised at every verification (None: from ``text``).
    shingles: np.ndarray | None = None
    credits: frozenset[str] | None = None

    @classmethod
    def from_article(
        cls, article: Article, *, original_id: str | None = None, feed_source: str | None = None
    ) -> CopyRecord:
        return cls(
            id=article.id,
            text=article.text,
            published=article.published,
            content_hash=article.content_hash or _content_hash(article.text),
            original_id=original_id or article.id,
            feed_source=feed_source,
        )

    @property
    def length(self) -> int:
        return self.n_words if self.n_words >= 0 else len(words(self.text))

    @property
    def wire(self) -> frozenset[str]:
        """Its :func:`wire_credits`."""
        return self.credits if self.credits is not None else wire_credits(self.text, self.feed_source)


@dataclass(frozen=True, slots=True)
class CopyEvidence:
    """One reason for a grouping: ``method`` is exact, near-duplicate, contained or wire-credit."""

    method: str
    score: float
    detail: str


@dataclass(frozen=True, slots=True)
class CopyMatch:
    """The new article ``article_id`` copies ``matched_id``; its group's original is ``original_id``.

    When the new article itself becomes the group's original (earlier, or as
    early and more complete), ``original_id == article_id`` and
    ``replaced_original_id`` names the former original: every article whose
    original was that one now has ``original_id`` instead.
    """

    article_id: str
    matched_id: str
    original_id: str
    evidence: tuple[CopyEvidence, ...]
    replaced_original_id: str | None = None
    component: str = COMPONENT

    @property
    def method(self) -> str:
        return self.evidence[0].method

    @property
    def score(self) -> float:
        return self.evidence[0].score

    def explain(self) -> str:
        return "; ".join(f"{e.method} {e.score:.3f} ({e.detail})" for e in self.evidence)


# ----------------------------------------------------------------- group logic (pure)
def _timestamp(d: datetime) -> float:
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp()


def original_rank(published: datetime | None, n_words: int, article_id: str) -> tuple[int, float, int, str]:
    """Sort key of candidates for original: lowest wins.

    Dated before undated; then the earliest; then the most complete (most words);
    then the id, so the choice is total and deterministic. Naive datetimes count as UTC.
    """
    if published is None:
        return (1, 0.0, -n_words, article_id)
    return (0, _timestamp(published), -n_words, article_id)


def pick_original(members: Iterable[CopyRecord]) -> CopyRecord:
    """The original of a group of copies."""
    return min(members, key=lambda r: original_rank(r.published, r.length, r.id))


def resolve_original(new: CopyRecord, current_original: CopyRecord) -> tuple[str, str | None]:
    """(the group's original after ``new`` joins, the replaced original or None)."""
    if original_rank(new.published, new.length, new.id) < original_rank(
        current_original.published, current_original.length, current_original.id
    ):
        return new.id, current_original.id
    return current_original.id, None


def apply_match(records: dict[str, CopyRecord], new: CopyRecord, match: CopyMatch | None) -> None:
    """Record ``new`` and the outcome of placing it in an id -> record mapping (in place)."""
    if match is None:
        records[new.id] = replace(new, original_id=new.id)
        return
    records[new.id] = replace(new, original_id=match.original_id)
    old = match.replaced_original_id
    if old is not None:
        for rid, rec in list(records.items()):
            if rec.original_id == old:
                records[rid] = replace(rec, original_id=match.original_id)


# ----------------------------------------------------------------- storage seams
class BucketStore(Protocol):
    """Where candidate keys live: (key, article_id) rows, e.g. one SQL table indexed on key."""

    def add(self, keys: Sequence[int], article_id: str) -> None: ...

    def lookup(self, keys: Sequence[int]) -> dict[str, int]:
        """Article ids sharing at least one key, with how many keys each shares."""
        ...

    def prefetch(self, keys: Iterable[int]) -> None:
        """A hint that these keys (a whole batch's) are about to be looked up; a store
        that reads its keys from elsewhere can read them all at once."""

    def drop_prefetch(self) -> None:
        """The batch is done: forget what ``prefetch`` read."""

    def add_record(self, record: CopyRecord) -> None:
        """A newly placed article's record, with its word count, wire credits and
        shingle hashes: a store that later returns it to ``fetch`` can keep them, so
        verification never re-tokenises it. An index keeping its own records, or a
        store that keeps only keys, needs nothing of it."""


class InMemoryBuckets:
    """The default bucket store: a dict of lists.

    ``per_key`` bounds how many ids one key returns (the most recently added):
    a key shared by thousands of articles (a wire story republished everywhere,
    a boilerplate sentence) stays cheap, and a copy still meets recent members
    of its family. A SQL store does the same with ``ORDER BY rowid DESC LIMIT``.
    """

    def __init__(self, per_key: int = 64) -> None:
        if per_key < 1:
            raise ValueError("per_key must be at least 1")
        self.per_key = per_key
        self._buckets: dict[int, list[str]] = {}

    def add(self, keys: Sequence[int], article_id: str) -> None:
        for k in keys:
            self._buckets.setdefault(k, []).append(article_id)

    def lookup(self, keys: Sequence[int]) -> dict[str, int]:
        hits: dict[str, int] = {}
        for k in keys:
            ids = self._buckets.get(k)
            if ids:
                for i in set(ids[-self.per_key :]):
                    hits[i] = hits.get(i, 0) + 1
        return hits

    def prefetch(self, keys: Iterable[int]) -> None:
        return None  # every lookup is a dict access already

    def drop_prefetch(self) -> None:
        return None

    def add_record(self, record: CopyRecord) -> None:
        return None  # the index keeps its own records, shingles included

    def __len__(self) -> int:
        return sum(len(v) for v in self._buckets.values())


Fetch = Callable[[Sequence[str]], Mapping[str, CopyRecord]]


@dataclass(slots=True)
class _Prepared:
    record: CopyRecord
    shingles: np.ndarray
    keys_exact: list[int]
    keys_band: list[int]
    keys_anchor: list[int]
    credits: frozenset[str]


@dataclass(slots=True)
class _Stats:
    placed: int = 0
    copies: int = 0
    candidates: int = 0
    verified: int = 0
    by_method: dict[str, int] = field(default_factory=dict)


class CopyIndex:
    """An incremental copy index.

    ``buckets`` keeps the candidate keys (in memory by default). ``fetch``
    returns stored :class:`CopyRecord` s by id for verification; when it is
    None the index keeps the records itself (and applies every match to them).
    With an external ``fetch`` the caller persists each new record and applies
    each :class:`CopyMatch` (see :func:`apply_match`) before the next ``place``;
    ``place_batch`` handles copies inside one batch by itself.
    """

    def __init__(
        self,
        params: CopyParams = DEFAULT_PARAMS,
        *,
        buckets: BucketStore | None = None,
        fetch: Fetch | None = None,
    ) -> None:
        self.params = params
        self.buckets: BucketStore = buckets if buckets is not None else InMemoryBuckets()
        self._external = fetch
        self.records: dict[str, CopyRecord] = {}  # own records (no fetch) or the current batch
        self._members: dict[str, set[str]] = {}  # original id -> ids of its group (own records)
        self._in_batch = False
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.stats = _Stats()

    # -- public verbs
    def place(
        self, article: Article, *, feed_source: str | None = None, sketch: CopySketch | None = None
    ) -> CopyMatch | None:
        """Find what ``article`` copies among everything indexed, then index it.

        ``sketch``: the article's precomputed :func:`sketch` (same params), if any.
        """
        prepared = self._prepare(CopyRecord.from_article(article, feed_source=feed_source), sketch)
        return self._place(prepared)

    def place_batch(
        self,
        articles: Iterable[Article],
        *,
        feed_sources: Mapping[str, str] | None = None,
        sketches: Mapping[str, CopySketch] | None = None,
    ) -> list[CopyMatch | None]:
        """``place`` for each article in order; copies within the batch are found too."""
        prepared = [
            self._prepare(CopyRecord.from_article(a, feed_source=(feed_sources or {}).get(a.id)),
                          (sketches or {}).get(a.id))
            for a in articles
        ]
        out = []
        self._in_batch = True
        try:
            # one read of every stored key the batch will look up, instead of three per article
            self.buckets.prefetch(k for p in prepared for k in p.keys_exact + p.keys_band + p.keys_anchor)
            for p in prepared:
                out.append(self._place(p))
        finally:
            self._in_batch = False
            self.buckets.drop_prefetch()
            if self._external is not None:
                self.records.clear()
                self._members.clear()
        return out

    def keys(self, article: Article) -> list[int]:
        """Every key the article is indexed under (exact, bands, anchors)."""
        p = self._prepare(CopyRecord.from_article(article))
        return p.keys_exact + p.keys_band + p.keys_anchor

    # -- internals
    def _shingles_of(self, rec: CopyRecord) -> np.ndarray:
        if rec.shingles is not None:
            return rec.shingles
        s = self._cache.get(rec.id)
        if s is None:
            s = shingle_hashes(rec.text, self.params.shingle_words)
            self._cache[rec.id] = s
            if len(self._cache) > self.params.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(rec.id)
        return s

    def _prepare(self, rec: CopyRecord, sk: CopySketch | None = None) -> _Prepared:
        p = self.params
        if sk is None:
            sk = sketch(rec.text, p)
        credits = wire_credits(rec.text, rec.feed_source)
        rec = replace(rec, n_words=sk.n_words, shingles=sk.shingles, credits=credits)
        return _Prepared(
            record=rec,
            shingles=sk.shingles,
            keys_exact=[exact_key(rec.content_hash)],
            keys_band=band_keys(sk.signature, p) if sk.n_words else [],
            keys_anchor=list(sk.anchors),
            credits=credits,
        )

    def _fetch(self, ids: Sequence[str]) -> dict[str, CopyRecord]:
        found = {i: self.records[i] for i in ids if i in self.records}
        missing = [i for i in ids if i not in found]
        if missing and self._external is not None:
            found.update(self._external(missing))
        return found

    def _candidates(self, p: _Prepared) -> list[str]:
        prm = self.params
        band_hits = self.buckets.lookup(p.keys_band) if p.keys_band else {}
        anchor_hits = self.buckets.lookup(p.keys_anchor) if p.keys_anchor else {}
        need = min(prm.min_anchor_hits, max(1, len(p.keys_anchor)))
        scores: dict[str, float] = {}
        for i, h in band_hits.items():
            scores[i] = h / prm.bands
        for i, h in anchor_hits.items():
            if h >= need:
                scores[i] = scores.get(i, 0.0) + h / max(1, len(p.keys_anchor))
        scores.pop(p.record.id, None)
        ranked = sorted(scores, key=lambda i: (-scores[i], i))
        return ranked[: prm.max_candidates]

    def _verify(self, p: _Prepared, cand: CopyRecord) -> tuple[CopyEvidence, ...] | None:
        prm = self.params
        short = min(p.record.length, cand.length)
        if short < prm.min_words:
            return None
        other = self._shingles_of(cand)
        shared = p.credits & cand.wire
        discount = prm.wire_discount if shared else 0.0
        j = jaccard(p.shingles, other)
        c = containment(p.shingles, other)
        wire: tuple[CopyEvidence, ...] = ()
        if shared:
            wire = (CopyEvidence("wire-credit", 1.0, "both credit " + ", ".join(sorted(shared))),)
        if j >= prm.jaccard - discount:
            return (
                CopyEvidence(
                    "near-duplicate", j,
                    f"Jaccard of {prm.shingle_words}-word shingles {j:.3f} >= "
                    f"{prm.jaccard - discount:.2f}; containment {c:.3f}",
                ),
            ) + wire
        if c >= prm.containment - discount:
            which = "new article" if len(p.shingles) <= len(other) else f"{cand.id}"
            return (
                CopyEvidence(
                    "contained", c,
                    f"{which} contained in the other: {c:.3f} of its {prm.shingle_words}-word shingles "
                    f">= {prm.containment - discount:.2f}; Jaccard {j:.3f}",
                ),
            ) + wire
        return None

    def _place(self, p: _Prepared) -> CopyMatch | None:
        st = self.stats
        st.placed += 1
        best: tuple[tuple[float, float], CopyRecord, tuple[CopyEvidence, ...]] | None = None
        exact_ids = [i for i in self.buckets.lookup(p.keys_exact) if i != p.record.id]
        if exact_ids:
            recs = self._fetch(exact_ids[: self.params.max_candidates])
            same = sorted((r for r in recs.values() if r.content_hash == p.record.content_hash),
                          key=lambda r: r.id)
            if same:
                exact = (CopyEvidence("exact", 1.0, "same content hash " + p.record.content_hash[:12]),)
                best = ((3.0, 1.0), same[0], exact)
        if best is None:
            cands = self._candidates(p)
            st.candidates += len(cands)
            recs = self._fetch(cands)
            for cid in cands:
                rec = recs.get(cid)
                if rec is None:
                    continue
                st.verified += 1
                ev = self._verify(p, rec)
                if ev is None:
                    continue
                rank = (2.0 if ev[0].method == "near-duplicate" else 1.0, ev[0].score)
                if best is None or rank > best[0]:
                    best = (rank, rec, ev)
        match: CopyMatch | None = None
        if best is not None:
            _, matched, evidence = best
            orig_id = matched.original_id
            current = matched if orig_id == matched.id else self._fetch([orig_id]).get(orig_id, matched)
            new_orig, replaced = resolve_original(p.record, current)
            match = CopyMatch(
                article_id=p.record.id, matched_id=matched.id, original_id=new_orig,
                evidence=evidence, replaced_original_id=replaced,
            )
            st.copies += 1
            st.by_method[evidence[0].method] = st.by_method.get(evidence[0].method, 0) + 1
        self.buckets.add(p.keys_exact + p.keys_band + p.keys_anchor, p.record.id)
        self.buckets.add_record(p.record)
        self._cache[p.record.id] = p.shingles
        if len(self._cache) > self.params.cache_size:
            self._cache.popitem(last=False)
        if self._external is None or self._in_batch:
            self._remember(p.record, match)
        return match

    def _remember(self, rec: CopyRecord, match: CopyMatch | None) -> None:
        orig = match.original_id if match else rec.id
        self.records[rec.id] = replace(rec, original_id=orig)
        group = self._members.setdefault(orig, set())
        group.add(rec.id)
        old = match.replaced_original_id if match else None
        if old is not None:
            for rid in self._members.pop(old, {old}):
                if rid in self.records:
                    self.records[rid] = replace(self.records[rid], original_id=orig)
                group.add(rid)

    def original_of(self, article_id: str) -> str | None:
        """The group original of an article the index keeps a record of."""
        rec = self.records.get(article_id)
        return rec.original_id if rec else None
