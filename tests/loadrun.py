"""Readers and writers at once against a running ``newsdesk serve``: the load of
``tests/test_load.py`` (small, in the suite) and ``bench/bench_load.py`` (the figures).

For a bounded time, ``readers`` clients (asyncio + httpx, one connection each, closed
loop: a reader sends its next request when the last one is answered) rotate over the
read routes (``READ_KINDS``) while a writer posts batches of articles at a steady
rate, as a JSON body (``POST /api/articles``) or as uploaded files (``POST
/api/ingest``: JSONL, plain text, HTML). Each accepted batch is followed to its job's
end and to its articles being readable.

Afterwards, with every job finished: each written article is read back by id and
compared with what ingesting the same bytes alone gives (``expected_articles``: the
library's reader and ``to_article``, no store), and the store's article count must
have grown by exactly the number of new ids. Written records carry no ``source``
field, so the outlet's stored pages (which tune cleaning per outlet) play no part and
that comparison is exact.

Recorded: every request with its kind, status and latency; every write with its
acceptance, job and visibility times; and what went wrong (``LoadResult.problems``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from newsdesk.ingest import to_article
from newsdesk.readers import read
from newsdesk.records import Article, RawDocument

READ_KINDS = ("list-html", "list-api", "story-html", "story-api", "article-html", "article-api",
              "search-html", "search-api", "search-semantic", "articles-api", "health")
# Counts a reader must never see go down: articles are only ever added.
MONOTONIC = {"health": "articles", "articles-api": "total", "search-api": "total"}
WriteKind = Literal["json", "jsonl-file", "text-file", "html-file"]
WRITE_KINDS: tuple[WriteKind, ...] = ("json", "jsonl-file", "text-file", "html-file")


@dataclass(frozen=True)
class Targets:
    """What readers read: stories and articles of the store, and search terms."""

    story_ids: Sequence[str]
    article_ids: Sequence[str]
    terms: Sequence[str]

    def path(self, kind: str, n: int) -> str:
        s = quote(self.story_ids[n % len(self.story_ids)], safe="")
        a = quote(self.article_ids[n % len(self.article_ids)], safe="")
        q = quote(self.terms[n % len(self.terms)])
        return {"list-html": "/", "list-api": "/api/stories?limit=50",
                "story-html": f"/stories/{s}", "story-api": f"/api/stories/{s}",
                "article-html": f"/articles/{a}", "article-api": f"/api/articles/{a}",
                "search-html": f"/search?q={q}", "search-api": f"/api/search?q={q}",
                "search-semantic": f"/api/search?q={q}&mode=semantic",
                "articles-api": "/api/articles?limit=20", "health": "/api/health"}[kind]


async def targets_of(client: httpx.AsyncClient, terms: Sequence[str], *, stories: int = 200,
                     articles: int = 200) -> Targets:
    """The store's newest stories and their articles (at most ``stories`` and ``articles``)."""
    listing = (await client.get(f"/api/stories?limit={min(stories, 200)}")).raise_for_status().json()
    story_ids = [s["id"] for s in listing["items"]]
    article_ids: list[str] = []
    for sid in story_ids:
        if len(article_ids) >= articles:
            break
        story = (await client.get(f"/api/stories/{quote(sid, safe='')}")).raise_for_status().json()
        article_ids += [m["id"] for m in story["members"]][: articles - len(article_ids)]
    if not story_ids or not article_ids:
        raise ValueError("the store has no story to read: seed it first")
    return Targets(story_ids, article_ids, list(terms))


@dataclass
class Write:
    """One request of the writer, and the articles ingesting it must store."""

    kind: WriteKind
    files: list[tuple[str, bytes]]  # for json: one articles.jsonl, as the server saves it
    expected: dict[str, Article]

    @classmethod
    def of(cls, kind: WriteKind, files: list[tuple[str, bytes]]) -> Write:
        expected: dict[str, Article] = {}
        for name, data in files:
            expected |= expected_articles(name, data)
        return cls(kind, files, expected)


def jsonl(records: Sequence[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n").encode()


def expected_articles(name: str, data: bytes) -> dict[str, Article]:
    """The articles ingesting this file alone gives, by id (the library's own reader and
    cleaning, without a store). Raises if any record of it would be a problem."""
    out: dict[str, Article] = {}
    for item in read(name, data=data):
        if not isinstance(item, RawDocument):
            raise ValueError(f"{name}: a test write must have no bad record: {item}")
        if item.source is not None:
            raise ValueError(f"{name}: a test write must not name its outlet (cleaning would "
                             "then depend on the outlet's stored pages)")
        article = to_article(item)
        out[article.id] = article
    return out


@dataclass
class Sample:
    kind: str
    status: int | None  # None: no answer (connection error, timeout)
    seconds: float
    at: float  # seconds since the load started
    error: str | None = None


@dataclass
class WriteResult:
    index: int
    kind: WriteKind
    articles: int
    at: float  # when it was sent, seconds since the load started
    status: int | None = None
    accept_seconds: float | None = None
    job_id: str | None = None
    job: dict[str, Any] | None = None
    done_seconds: float | None = None  # sent -> job done (polled every POLL s)
    visible_seconds: float | None = None  # sent -> its articles read (all at once) after the job
    error: str | None = None


@dataclass
class LoadResult:
    readers: int
    duration: float  # seconds the readers ran
    samples: list[Sample]
    writes: list[WriteResult]
    articles_before: int
    articles_after: int
    new_ids: int  # written ids not in the store before
    lost: list[str] = field(default_factory=list)  # written ids not found afterwards
    differs: list[str] = field(default_factory=list)  # found, but not as ingesting it alone gives
    went_down: list[str] = field(default_factory=list)  # a count a reader saw decrease
    drain_seconds: float = 0.0  # after the readers stopped, until every job was done

    def problems(self) -> list[str]:
        """Everything that went wrong, one line each; empty for a clean run."""
        out = [f"read {s.kind} at {s.at:.1f} s: {s.status} {s.error or ''}".strip()
               for s in self.samples if s.status != 200]
        for w in self.writes:
            if w.status != 202:
                out.append(f"write {w.index} ({w.kind}): {w.status} {w.error or ''}".strip())
            elif w.job is None or w.job["status"] != "done" or w.job["problems"]:
                out.append(f"write {w.index} ({w.kind}): job {w.job_id} "
                           f"{w.job['status'] if w.job else 'not finished'}: "
                           f"{(w.job or {}).get('error') or (w.job or {}).get('problems')} {w.error or ''}")
            elif w.error:
                out.append(f"write {w.index} ({w.kind}): {w.error}")
        out += [f"lost write: article {i}" for i in self.lost]
        out += [f"article {i} is not what was written" for i in self.differs]
        out += self.went_down
        if self.articles_after != self.articles_before + self.new_ids:
            out.append(f"the store holds {self.articles_after} articles, expected "
                       f"{self.articles_before} + {self.new_ids} written")
        return out


POLL = 0.1  # seconds between polls of a job


class _Load:
    def __init__(self, client: httpx.AsyncClient, targets: Targets, t0: float) -> None:
        self.client, self.targets, self.t0 = client, targets, t0
        self.samples: list[Sample] = []
        self.went_down: list[str] = []

    async def reader(self, i: int, deadline: float) -> None:
        n, seen = i, {}
        while time.perf_counter() < deadline:
            kind = READ_KINDS[n % len(READ_KINDS)]
            path = self.targets.path(kind, n // len(READ_KINDS))
            n += 1
            t = time.perf_counter()
            try:
                r = await self.client.get(path)
                dt = time.perf_counter() - t
            except httpx.HTTPError as exc:
                self.samples.append(Sample(kind, None, time.perf_counter() - t, t - self.t0,
                                           f"{type(exc).__name__}: {exc}"))
                continue
            error = None if r.status_code == 200 else f"{path}: {r.text[:300]}"
            self.samples.append(Sample(kind, r.status_code, dt, t - self.t0, error))
            if r.status_code == 200 and kind in MONOTONIC:
                key = (kind, path)
                count = int(r.json()[MONOTONIC[kind]])
                if count < seen.get(key, 0):
                    self.went_down.append(f"reader {i}: {path} {MONOTONIC[kind]} went from "
                                          f"{seen[key]} down to {count} at {t - self.t0:.1f} s")
                seen[key] = max(count, seen.get(key, 0))

    async def write(self, index: int, w: Write, at: float) -> WriteResult:
        res = WriteResult(index, w.kind, len(w.expected), at)
        t = time.perf_counter()
        try:
            if w.kind == "json":
                records = [json.loads(line) for line in w.files[0][1].decode().splitlines()]
                r = await self.client.post("/api/articles", json={"articles": records})
            else:
                r = await self.client.post("/api/ingest", files=[("files", f) for f in w.files])
        except httpx.HTTPError as exc:
            res.error = f"{type(exc).__name__}: {exc}"
            return res
        res.status, res.accept_seconds = r.status_code, time.perf_counter() - t
        if r.status_code != 202:
            res.error = r.text[:300]
            return res
        job = r.json()
        res.job_id = job["id"]
        try:
            while job["status"] in ("queued", "running"):
                await asyncio.sleep(POLL)
                job = (await self.client.get(f"/api/jobs/{res.job_id}")).raise_for_status().json()
            res.job, res.done_seconds = job, time.perf_counter() - t
            got = await asyncio.gather(*(self.client.get(f"/api/articles/{quote(aid, safe='')}")
                                         for aid in w.expected))
            missing = [f"{aid} ({a.status_code})" for aid, a in zip(w.expected, got, strict=True)
                       if a.status_code != 200]
            if missing:
                res.error = f"articles of a finished job not readable: {', '.join(missing)}"
                return res
            res.visible_seconds = time.perf_counter() - t
        except httpx.HTTPError as exc:
            res.error = f"following job {res.job_id}: {type(exc).__name__}: {exc}"
        return res


async def run_load(base: str, targets: Targets, writes: Sequence[Write], *, readers: int = 50,
                   duration: float = 60.0, write_every: float = 2.0, drain_timeout: float = 600.0,
                   timeout: float = 120.0) -> LoadResult:
    """``readers`` clients read for ``duration`` seconds while ``writes`` are sent one every
    ``write_every`` seconds (those not sent by the end are not sent); then wait for every
    job (at most ``drain_timeout`` s) and check every written article."""
    limits = httpx.Limits(max_connections=readers + 20, max_keepalive_connections=readers + 20)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        before = (await client.get("/api/health")).raise_for_status().json()["articles"]
        present = await _present(client, [i for w in writes for i in w.expected])
        t0 = time.perf_counter()
        load = _Load(client, targets, t0)
        deadline = t0 + duration
        reading = [asyncio.create_task(load.reader(i, deadline)) for i in range(readers)]
        writing: list[asyncio.Task[WriteResult]] = []
        for k, w in enumerate(writes):
            at = k * write_every
            if at >= duration:
                break
            await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
            writing.append(asyncio.create_task(load.write(k, w, at)))
        await asyncio.gather(*reading)
        ran = time.perf_counter() - t0
        done = await asyncio.wait_for(asyncio.gather(*writing), drain_timeout)
        drained = time.perf_counter() - t0 - ran
        sent = [w for w, _ in zip(writes, done, strict=False)]
        expected = {i: a for w in sent for i, a in w.expected.items()}
        lost, differs = await _check_written(client, expected)
        after = (await client.get("/api/health")).raise_for_status().json()["articles"]
    return LoadResult(readers=readers, duration=ran, samples=load.samples, writes=list(done),
                      articles_before=before, articles_after=after,
                      new_ids=len(set(expected) - present), lost=lost, differs=differs,
                      went_down=load.went_down, drain_seconds=drained)


async def _present(client: httpx.AsyncClient, ids: Sequence[str]) -> set[str]:
    out = set()
    for aid in dict.fromkeys(ids):
        r = await client.get(f"/api/articles/{quote(aid, safe='')}")
        if r.status_code == 200:
            out.add(aid)
        elif r.status_code != 404:
            r.raise_for_status()
    return out


async def _check_written(client: httpx.AsyncClient,
                         expected: dict[str, Article]) -> tuple[list[str], list[str]]:
    """(ids not found, ids whose stored title, text, url or language differ)."""
    lost, differs = [], []
    for aid, want in expected.items():
        r = await client.get(f"/api/articles/{quote(aid, safe='')}")
        if r.status_code == 404:
            lost.append(aid)
            continue
        got = r.raise_for_status().json()
        stored = (got["title"], got["text"], got["url"], got["lang"])
        if stored != (want.title, want.text, want.url, want.lang):
            differs.append(aid)
    return lost, differs


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def summary(result: LoadResult) -> dict[str, Any]:
    """Per read kind: requests, requests/s, p50/p95/p99 ms, errors; the writes; the checks."""
    kinds: dict[str, Any] = {}
    for kind in [*READ_KINDS, "all"]:
        got = [s for s in result.samples if kind in ("all", s.kind)]
        ok = [s.seconds * 1000 for s in got if s.status == 200]
        kinds[kind] = {"requests": len(got), "rps": len(got) / result.duration if result.duration else 0,
                       "p50_ms": percentile(ok, 50), "p95_ms": percentile(ok, 95),
                       "p99_ms": percentile(ok, 99), "max_ms": max(ok, default=0.0),
                       "errors": sum(s.status != 200 for s in got)}
    accepted = [w for w in result.writes if w.status == 202]

    def secs(values: list[float | None]) -> dict[str, float]:
        v = [x for x in values if x is not None]
        return {"p50": percentile(v, 50), "p95": percentile(v, 95), "max": max(v, default=0.0)}

    return {"reads": kinds,
            "writes": {"sent": len(result.writes), "accepted": len(accepted),
                       "articles": sum(w.articles for w in accepted),
                       "by_kind": {k: sum(w.kind == k for w in accepted) for k in WRITE_KINDS},
                       "accept_s": secs([w.accept_seconds for w in accepted]),
                       "done_s": secs([w.done_seconds for w in accepted]),
                       "visible_s": secs([w.visible_seconds for w in accepted])},
            "articles_before": result.articles_before, "articles_after": result.articles_after,
            "new_ids": result.new_ids, "lost": len(result.lost), "differs": len(result.differs),
            "went_down": len(result.went_down), "errors": len(result.problems()),
            "duration_s": result.duration, "drain_s": result.drain_seconds}
