"""Ingest while 50 clients read, against a real server on a real store (SQLite, or a
PostgreSQL schema on the PostgreSQL run): no errors, no lost writes, counts that never
go down. The bounded version of ``bench/bench_load.py``; no timing is asserted."""

from __future__ import annotations

import asyncio
import html
import http.client
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from loadrun import READ_KINDS, LoadResult, Write, jsonl, run_load, summary, targets_of
from serving import SEEDS, running_server

from newsdesk import Article, Store
from newsdesk.cleaning import clean_text

TERMS = ("Kursk", "Putin", "North Korea", "troops", "Beijing parade")
READERS = 50
SECONDS = 10.0
WRITE_EVERY = 1.0  # 8 requests in the 10 s: 24 articles


def _chunks() -> list[list[str]]:
    """Pieces of the two real seed articles (their paragraphs that cleaning keeps): every
    run of two or three consecutive paragraphs."""
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = clean_text(path.read_text(encoding="utf-8")).text
        paras = [p.strip() for p in text.splitlines() if p.strip()]
        out += [paras[i:i + n] for n in (3, 2) for i in range(len(paras) - n + 1)]
    return out


def _writes() -> list[Write]:
    """Eight requests, each way of writing twice: a JSON body and a JSONL upload of four
    articles, an upload of two plain-text files and one of two HTML pages."""
    chunks = iter(_chunks())
    writes = []
    for k in range(8):
        kind = ("json", "jsonl-file", "text-file", "html-file")[k % 4]
        if kind in ("json", "jsonl-file"):
            records = []
            for j in range(4):
                paras = next(chunks)
                records.append({"id": f"load-{k}-{j}", "url": f"https://load.example/{k}/{j}",
                                "title": f"Load {k}.{j}: {paras[0][:60]}", "text": "\n".join(paras),
                                "published": f"2025-09-{k + 3:02d}T10:{j:02d}:00Z", "lang": "en"})
            writes.append(Write.of(kind, [("articles.jsonl", jsonl(records))]))
        elif kind == "text-file":
            files = []
            for j in range(2):
                paras = next(chunks)
                files.append((f"load-{k}-{j}.txt", ("\n\n".join(paras) + "\n").encode()))
            writes.append(Write.of(kind, files))
        else:
            files = []
            for j in range(2):
                paras = next(chunks)
                body = "".join(f"<p>{html.escape(p)}</p>" for p in paras)
                title = html.escape(f"Load page {k}.{j}")
                files.append((f"load-{k}-{j}.html", (
                    f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
                    f"<article><h1>{title}</h1>{body}</article><footer>© Load</footer></body></html>"
                ).encode()))
            writes.append(Write.of(kind, files))
    return writes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a store seeded with the two sample articles (one story)."""
    root = tmp_path_factory.mktemp("load")
    with running_server(root / "news.db", root / "data") as base:
        with httpx.Client(base_url=base, timeout=300) as client:
            r = client.post("/api/ingest?wait=true", files=[
                ("files", (p.name, p.read_bytes(), "text/plain")) for p in sorted(SEEDS.glob("*.txt"))])
            assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["new"] == 2, r.text
        yield base


def test_ingest_while_50_clients_read(server: str) -> None:
    writes = _writes()
    ids = [i for w in writes for i in w.expected]
    assert len(ids) == len(set(ids)) == 24

    async def load() -> LoadResult:
        async with httpx.AsyncClient(base_url=server, timeout=300) as c:
            targets = await targets_of(c, TERMS)
        return await run_load(server, targets, writes, readers=READERS, duration=SECONDS,
                              write_every=WRITE_EVERY, drain_timeout=300)

    result = asyncio.run(load())
    problems = result.problems()
    assert not problems, "\n".join(problems[:30])
    facts = summary(result)
    # Not vacuous: every request was sent and answered, every kind of read ran, the
    # store grew by every written article.
    assert facts["writes"]["accepted"] == 8 and facts["writes"]["articles"] == 24
    assert all(facts["reads"][k]["requests"] >= READERS // 10 for k in READ_KINDS), facts["reads"]
    assert facts["new_ids"] == 24 and facts["articles_after"] == facts["articles_before"] + 24
    assert facts["lost"] == facts["differs"] == facts["went_down"] == 0


def test_idle_connections_outlive_a_clients_keep_alive(server: str) -> None:
    """A connection left idle for longer than clients keep theirs (httpx: 5 s) is still
    open: the server closing it just as a client reuses it failed reads under load."""
    url = urlsplit(server)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.request("GET", "/api/health")
        assert conn.getresponse().read() and conn.sock is not None
        first = conn.sock
        time.sleep(6.5)
        conn.request("GET", "/api/health")  # http.client sends it on the same socket
        response = conn.getresponse()
        assert response.status == 200 and response.read() and conn.sock is first
    finally:
        conn.close()


def test_exact_vector_search_while_embeddings_are_saved(tmp_path: Path) -> None:
    """The exact search's cached matrix, read by request threads while the ingest thread
    saves embeddings (which drops the cache): a semantic search during ingest once
    failed with TypeError ('NoneType' object is not subscriptable), a 500."""
    store = Store(tmp_path / "news.db")
    rng = np.random.default_rng(7)
    dim = 16  # not pgvector's length: the exact numpy search on both stores
    store.add_articles([Article(id=f"a{i}", text=f"Article number {i} of the load test.", title=None,
                                source=None, url=None, published=None, lang="en", author=None,
                                format="text", origin="test", content_hash=f"h{i}") for i in range(20)])
    store.save_embeddings("test", {f"a{i}": rng.normal(size=dim) for i in range(20)})
    stop, failures = threading.Event(), []

    def write() -> None:
        while not stop.is_set():
            store.save_embeddings("test", {f"a{rng.integers(20)}": rng.normal(size=dim)})

    def search() -> None:
        try:
            while not stop.is_set():
                assert len(store.nearest_articles(rng.normal(size=dim), 5)) == 5
        except Exception as exc:  # noqa: BLE001 - the failure the test looks for
            failures.append(exc)
            stop.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows at once
    try:
        threads = [threading.Thread(target=write), *(threading.Thread(target=search) for _ in range(3))]
        for t in threads:
            t.start()
        stop.wait(5)
        stop.set()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not failures, repr(failures[0])
