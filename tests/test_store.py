"""The store on either backend (see conftest.py): what PostgreSQL would do differently
from SQLite is stored and read back the same, and nearest-article search works with
pgvector and without it."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import newsdesk
from newsdesk import store as store_module
from newsdesk.cli import main
from newsdesk.records import Article
from newsdesk.store import Store


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_backend_is_the_one_asked_for(tmp_path: Path, on_postgres: bool) -> None:
    store = Store(tmp_path / "n.db")
    assert store.engine.dialect.name == ("postgresql" if on_postgres else "sqlite")


def test_long_names_nul_characters_and_time_zones_store_alike(tmp_path: Path) -> None:
    """VARCHAR limits SQLite never enforced, NULs PostgreSQL cannot hold, aware times."""
    store = Store(tmp_path / "n.db")
    body = "The harbour reopened on Monday after repairs to the sea wall, officials said. "
    path = write_jsonl(tmp_path / "edge.jsonl", [
        {"id": "x" * 300, "title": "Long id", "text": body * 3, "source": "s" * 400,
         "lang": "en-GB-x-" + "y" * 30},
        {"id": "nul-1", "title": "Nul\u0000 title", "text": "Text with a \u0000 NUL. " + body,
         "source": "Nul\u0000 Times", "published": "2024-05-01T10:00:00+02:00"},
    ])
    report = newsdesk.ingest(store, [path])
    assert not report.problems and report.counts.inserted == 2
    long_one = store.get_article("x" * 300)
    assert long_one is not None and long_one.source == "s" * 400 and long_one.lang == "en-GB-x-" + "y" * 30
    nul = store.get_article("nul-1")
    assert nul is not None and "\x00" not in nul.text + (nul.title or "") + (nul.source or "")
    assert nul.title == "Nul title" and nul.source == "Nul Times"
    assert nul.published == datetime(2024, 5, 1, 8, 0)  # naive UTC
    # Re-ingest is a no-op on both backends.
    again = newsdesk.ingest(store, [path])
    assert again.counts.inserted == 0 and again.counts.updated == 0


def test_aware_publication_time_is_stored_as_utc(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    a = newsdesk.to_article(newsdesk.RawDocument(
        origin="x", format="text", id="tz-1", text="The bridge closed for repairs on Friday, the city said.",
        published=datetime(2024, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))))
    store.add_articles([a])
    got = store.get_article("tz-1")
    assert got is not None and got.published == datetime(2024, 3, 2, 4, 30)


def test_id_prefix_ignores_case_and_ordering_is_by_code_point(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    text = "The council met on Tuesday to discuss the budget for road repairs, officials said."
    store.add_articles([newsdesk.to_article(newsdesk.RawDocument(origin="x", format="text", id=i, text=text))
                        for i in ("abc123", "B-two", "a-one", "Zed", "_under")])
    found = store.get_article("ABC")
    assert found is not None and found.id == "abc123"
    assert store.article_ids() == sorted(["abc123", "B-two", "a-one", "Zed", "_under"])


def _vectors(n: int, dim: int = 384, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        v = rng.normal(size=dim).astype(np.float32)
        out[f"art-{i:03d}"] = v / np.linalg.norm(v)
    return out


def _exact(vectors: dict[str, np.ndarray], q: np.ndarray, k: int) -> list[str]:
    ids = list(vectors)
    sims = np.array([float(vectors[i] @ q) for i in ids])
    return [ids[j] for j in np.argsort(-sims, kind="stable")[:k]]


def _check_search(store: Store, vectors: dict[str, np.ndarray]) -> None:
    q = vectors["art-007"] + 0.3 * vectors["art-042"]
    q = q / np.linalg.norm(q)
    hits = store.nearest_articles(q, 5)
    assert [i for i, _ in hits] == _exact(vectors, q, 5)
    assert hits[0][0] == "art-007" and hits[1][0] == "art-042"
    for aid, cos in hits:
        assert cos == pytest.approx(float(vectors[aid] @ q), abs=1e-4)
    assert store.nearest_articles(q, 0) == []


def test_nearest_articles_exact_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       caplog: pytest.LogCaptureFixture) -> None:
    """The numpy path: SQLite, or PostgreSQL where pgvector is not used."""
    monkeypatch.setattr(store_module, "_pgvector_schema", lambda conn: None)
    store = Store(tmp_path / "n.db")
    assert store.vector_search == "numpy"
    vectors = _vectors(200)
    store.save_embeddings("test", vectors)
    with caplog.at_level(logging.INFO, logger="newsdesk.store"):
        _check_search(store, vectors)
    assert [r.getMessage() for r in caplog.records].count("nearest_articles: exact numpy search") == 1


def test_nearest_articles_with_pgvector(tmp_path: Path, on_postgres: bool,
                                        caplog: pytest.LogCaptureFixture) -> None:
    if not on_postgres:
        pytest.skip("pgvector is a PostgreSQL extension (NEWSDESK_TEST_DB)")
    store = Store(tmp_path / "n.db")
    if store.vector_search != "pgvector":
        pytest.skip("this PostgreSQL server has no pgvector (bash .ci/pgvector installs it)")
    vectors = _vectors(200)
    store.save_embeddings("test", dict(list(vectors.items())[:100]))
    store.save_embeddings("test", dict(list(vectors.items())[100:]))
    with caplog.at_level(logging.INFO, logger="newsdesk.store"):
        _check_search(store, vectors)
    assert any(r.getMessage() == "nearest_articles: pgvector HNSW index" for r in caplog.records)
    # Another length than the column's is searched exactly, from the stored bytes.
    assert store.nearest_articles(np.ones(8, dtype=np.float32), 3) == []


def test_pgvector_column_is_added_when_the_extension_arrives(tmp_path: Path, on_postgres: bool,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A store made without pgvector gains the column (filled from the bytes) once it is there."""
    if not on_postgres:
        pytest.skip("pgvector is a PostgreSQL extension (NEWSDESK_TEST_DB)")
    real = store_module._pgvector_schema
    monkeypatch.setattr(store_module, "_pgvector_schema", lambda conn: None)
    before = Store(tmp_path / "n.db")
    vectors = _vectors(60, seed=1)
    before.save_embeddings("test", vectors)
    assert before.vector_search == "numpy"
    monkeypatch.setattr(store_module, "_pgvector_schema", real)
    after = Store(tmp_path / "n.db")
    if after.vector_search != "pgvector":
        pytest.skip("this PostgreSQL server has no pgvector")
    _check_search(after, vectors)


def test_similar_articles_api_and_cli(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    store = newsdesk.open_store(db)
    base = datetime(2024, 6, 1, tzinfo=UTC)
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"id": "flood-1", "source": "A", "published": base.isoformat(), "title": "River floods the old town",
         "text": "The river burst its banks on Sunday and flooded the old town; hundreds were evacuated."},
        {"id": "flood-2", "source": "B", "published": base.isoformat(), "title": "Old town under water",
         "text": "Floodwater from the river filled the streets of the old town, and residents left."},
        {"id": "chess-1", "source": "C", "published": base.isoformat(), "title": "Chess final drawn",
         "text": "The world chess championship final ended in a draw after six hours of play."},
    ])
    newsdesk.ingest(store, [path])
    hits = newsdesk.similar_articles(store, "flood-1", k=2)
    assert [a.id for a, _ in hits] == ["flood-2", "chess-1"]
    assert hits[0][1] > hits[1][1]
    with pytest.raises(KeyError):
        newsdesk.similar_articles(store, "nope")
    result = CliRunner().invoke(main, ["--db", str(db), "similar", "flood-1", "-k", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["flood-2"]
    result = CliRunner().invoke(main, ["--db", str(db), "similar", "flood"])
    assert result.exit_code == 1 and "no article with id 'flood'" in result.stderr


def test_story_ids_are_distinct_and_in_code_point_order(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    rows = [{"article_id": a, "story_id": s, "score": 1.0, "reasons": "[]"}
            for a, s in (("a1", "st-b"), ("a2", "st-B"), ("a3", "st-b"), ("a4", "st-_"))]
    store.write_story_members(rows, {}, "test")
    assert store.story_ids() == ["st-B", "st-_", "st-b"]


def test_copy_key_prefetch_answers_as_lookups_one_by_one(tmp_path: Path) -> None:
    """A batch reads its stored copy keys once (``prefetch``); every lookup must then answer
    as a lookup that reads the table, per-key bound and this batch's pending keys included."""
    from newsdesk.store import SqlBuckets

    store = Store(tmp_path / "n.db")
    writer = SqlBuckets(store, per_key=2)
    for i in range(4):
        writer.add([1, 2, 3 + i], f"a{i}")
    writer.flush()
    queries = [[1], [2, 3], [1, 2, 3, 4, 5, 6, 99], [7]]
    one_by_one = SqlBuckets(store, per_key=2)
    expect = [one_by_one.lookup(q) for q in queries]
    assert expect[0] == {"a2": 1, "a3": 1}  # the two most recent of key 1
    batch = SqlBuckets(store, per_key=2)
    batch.prefetch([1, 2, 3, 4, 5, 6])  # 7 and 99 are left for lookup to read
    assert [batch.lookup(q) for q in queries] == expect
    for b in (one_by_one, batch):
        b.add([1, 7], "new")
    assert batch.lookup([1, 7]) == one_by_one.lookup([1, 7])
    assert batch.lookup([1, 7])["new"] == 2
    batch.flush()  # writes "new": what was prefetched is stale and dropped
    assert batch.lookup([1]) == SqlBuckets(store, per_key=2).lookup([1]) == {"a3": 1, "new": 1}


def test_the_connection_writing_copy_keys_gets_a_larger_page_cache(tmp_path: Path, on_postgres: bool) -> None:
    """SQLite's default cache (2 MB) made the random inserts of copy keys re-read index pages;
    the connection that writes them gets ``COPY_KEYS_CACHE_KB``. On both backends (PostgreSQL
    writes with COPY, and has no such pragma) the keys are written in the caller's transaction."""
    from newsdesk.store import COPY_KEYS_CACHE_KB, SqlBuckets

    store = Store(tmp_path / "n.db")
    writer = SqlBuckets(store)
    writer.add([5, 6], "a")
    with store.engine.begin() as conn:
        if not on_postgres:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000  # SQLite's default
        writer.flush(conn)
        if not on_postgres:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -COPY_KEYS_CACHE_KB
    assert SqlBuckets(store).lookup([5, 6]) == {"a": 2}


def test_statistics_are_refreshed_as_a_bulk_load_grows(tmp_path: Path, on_postgres: bool) -> None:
    """PostgreSQL plans from statistics that autovacuum may never refresh (it is off on
    the test server): the store analyzes a table once much of it was written since."""
    import time

    from newsdesk.store import SqlBuckets

    store = Store(tmp_path / "n.db")
    keys = SqlBuckets(store)
    for i in range(600):
        keys.add([i, 10_000 + i, 20_000 + i % 7], f"a{i}")
    keys.flush()
    if not on_postgres:
        assert store.refresh_statistics() == []  # SQLite plans without them
        return
    analyzed: list[str] = []
    deadline = time.monotonic() + 30  # the server publishes write counts within seconds
    while "copy_keys" not in analyzed and time.monotonic() < deadline:
        analyzed += store.refresh_statistics()
        time.sleep(0.2)
    assert "copy_keys" in analyzed
    with store.engine.connect() as conn:
        last, estimate = conn.execute(sa.text(
            "SELECT s.last_analyze, c.reltuples FROM pg_stat_user_tables s JOIN pg_class c "
            "ON c.oid = s.relid WHERE s.schemaname = current_schema() AND s.relname = 'copy_keys'")).one()
    assert last is not None and estimate == 1800
    assert "copy_keys" not in store.refresh_statistics()  # nothing written since


def test_statistics_of_tables_this_user_does_not_own_are_named_once(
        tmp_path: Path, on_postgres: bool, caplog: pytest.LogCaptureFixture, other_user: Any) -> None:
    """A user who may write but does not own the tables cannot ANALYZE them (the
    server only warns and skips): the store says so once, and the writes go on."""
    import time

    from newsdesk.store import SqlBuckets

    owner = Store(tmp_path / "n.db")
    if not on_postgres:
        assert owner.refresh_statistics() == []
        return
    try:
        with other_user(owner) as url:
            writer = Store(url)
            keys = SqlBuckets(writer)
            for i in range(600):
                keys.add([i, 10_000 + i], f"a{i}")
            keys.flush()
            deadline = time.monotonic() + 30  # the server publishes write counts within seconds
            with caplog.at_level(logging.WARNING, logger="newsdesk.store"):
                while not caplog.records and time.monotonic() < deadline:
                    assert writer.refresh_statistics() == []
                    time.sleep(0.2)
                writer.refresh_statistics()
            warnings = [r.getMessage() for r in caplog.records]
            assert len(warnings) == 1 and "does not own copy_keys" in warnings[0]
            assert SqlBuckets(writer).lookup([1, 10_001]) == {"a1": 2}  # the keys were written
            assert "copy_keys" in owner.refresh_statistics()  # its owner can
            writer.close()
    finally:
        owner.close()


def _copy_corpus() -> list[list[Article]]:
    """Batches of generated articles: originals, then edited, cut, padded and wire-credited
    copies of them and of each other, so verification meets stored candidates."""
    import random

    from newsdesk.metadata import content_hash

    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(2500)]

    def para() -> str:
        return " ".join(rng.choice(vocab) for _ in range(rng.randint(12, 24)))

    def art(aid: str, text: str, hours: int) -> Article:
        return Article(id=aid, text=text, title=None, source=f"o{hours % 5}.example", url=None,
                       published=datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=hours), lang="en",
                       author=None, format="text", origin="test", content_hash=content_hash(text),
                       raw_hash=aid)

    texts = ["\n".join(para() for _ in range(rng.randint(6, 12))) for _ in range(40)]
    batches = [[art(f"o{i}", t, i) for i, t in enumerate(texts)]]
    for b in range(3):
        batch = []
        for i in range(25):
            lines = rng.choice(texts).split("\n")
            kind = rng.randrange(4)
            if kind == 0:
                lines[rng.randrange(len(lines))] = para()
            elif kind == 1:
                lines = lines[: max(3, len(lines) // 2)]
            elif kind == 2:
                lines = [para()] + lines + [para(), para()]
            else:  # a loose rewrite that only a shared wire credit can fold
                lines = ["(AP) " + lines[0]] + [ln if rng.random() < 0.55 else para() for ln in lines[1:]]
                lines.append("The Associated Press contributed to this report.")
            text = "\n".join(lines)
            texts.append(text)
            batch.append(art(f"c{b}-{i}", text, 100 + 30 * b + i))
        batches.append(batch)
    return batches


def test_stored_copy_sketches_verify_as_the_texts_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copy verification reads stored candidates' word counts, credits and shingles (0010)
    instead of re-tokenising their texts: the groups found must be the very ones that
    tokenising the texts gives, and what is stored must be what the text gives."""
    from newsdesk.copies import shingle_hashes, wire_credits, words
    from newsdesk.ingest import IngestReport, store_cleaned
    from newsdesk.store import SqlBuckets

    def fold(db: Path) -> tuple[Store, list[tuple[str, str, str, float, str]]]:
        store = Store(db)
        for batch in _copy_corpus():  # a fresh report per batch: candidates come from the store
            store_cleaned(store, batch, IngestReport())
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(
                store_module.copies.c.article_id, store_module.copies.c.original_id,
                store_module.copies.c.method, store_module.copies.c.score,
                store_module.copies.c.evidence)).all()
        return store, sorted((r[0], r[1], r[2], round(r[3], 9), r[4]) for r in rows)

    with_sketches, found = fold(tmp_path / "sketched.db")
    records = with_sketches.copy_records(["o0", "c0-3", "c2-24", "c1-7"])
    for rec in records.values():
        text = with_sketches.get_articles([rec.id])[rec.id].text
        assert rec.text == ""  # not read: the sketch answers
        assert rec.n_words == len(words(text))
        assert rec.credits == wire_credits(text)
        assert rec.shingles is not None and np.array_equal(rec.shingles, shingle_hashes(text))
    assert any(rec.credits for rec in with_sketches.copy_records(
        [f"c{b}-{i}" for b in range(3) for i in range(25)]).values())

    monkeypatch.setattr(SqlBuckets, "add_record", lambda self, record: None)  # a store before 0010
    from_texts, expect = fold(tmp_path / "texts.db")
    assert all(r.shingles is None and r.text for r in from_texts.copy_records(["o0", "c0-3"]).values())
    assert len(expect) >= 40 and {m for _, _, m, _, _ in expect} >= {"near-duplicate", "contained"}
    assert sum("both credit" in ev for *_, ev in expect) >= 5  # wire credits took part
    assert found == expect


def test_a_damaged_copy_sketch_falls_back_to_the_text(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """A copy_sketches row that cannot be read (a cut blob) is named in a warning and
    the article is verified from its text; the other records keep their sketches."""
    from newsdesk.copies import shingle_hashes
    from newsdesk.ingest import IngestReport, store_cleaned

    store = Store(tmp_path / "n.db")
    store_cleaned(store, _copy_corpus()[0][:3], IngestReport())
    with store.engine.begin() as conn:
        sketches = store_module.copy_sketches
        conn.execute(sketches.update().where(sketches.c.article_id == "o1").values(shingles=b"\x01\x02\x03"))
    with caplog.at_level(logging.WARNING, logger="newsdesk.store"):
        recs = store.copy_records(["o0", "o1", "o2"])
    assert "o1" in caplog.text and "unreadable copy sketch" in caplog.text
    text = store.get_articles(["o1"])["o1"].text
    assert recs["o1"].shingles is None and recs["o1"].text == text
    assert recs["o1"].length > 0 and recs["o0"].shingles is not None and recs["o2"].text == ""
    assert np.array_equal(recs["o0"].shingles, shingle_hashes(store.get_articles(["o0"])["o0"].text))


def test_one_vector_space_per_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Static vectors beside transformer ones (or the reverse) are refused with a message
    naming the store and the way out; transformer labels of any kind sit together."""
    from newsdesk.embeddings import component_of
    from newsdesk.store import VectorSpaceError

    rng = np.random.default_rng(3)
    vec = lambda: rng.normal(size=384).astype(np.float32)  # noqa: E731
    store = Store(tmp_path / "v.db")
    store.save_embeddings(component_of("onnx-int8"), {"a": vec()})
    store.save_embeddings(component_of("onnx", 128), {"b": vec()})  # fp32 beside int8: one space
    where = re.escape(store.engine.url.render_as_string(hide_password=True))
    with pytest.raises(VectorSpaceError, match=where + ".*minilm embedder.*static.*=onnx-int8"):
        store.save_embeddings(component_of("static"), {"c": vec()})
    # a store opened afresh reads the space from its rows; nothing of the refused batch was kept
    again = Store(tmp_path / "v.db")
    with pytest.raises(VectorSpaceError):
        again.save_embeddings(component_of("static"), {"c": vec()})
    assert set(again.get_embeddings(["a", "b", "c"])) == {"a", "b"}
    # and the other way round
    static_store = Store(tmp_path / "s.db")
    static_store.save_embeddings(component_of("static"), {"a": vec()})
    static_store.save_embeddings(component_of("static"), {"a": vec(), "b": vec()})
    with pytest.raises(VectorSpaceError, match="NEWSDESK_EMBEDDER=static"):
        static_store.save_embeddings(component_of("onnx-int8"), {"c": vec()})
    # the CLI says so without a traceback and exits 1
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "one.jsonl", [{"id": "n1", "title": "Harbour reopens",
                                               "text": "The harbour reopened on Monday. " * 5}])
    monkeypatch.setenv("NEWSDESK_EMBEDDER", "onnx-int8")
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "s.db"), "ingest", str(tmp_path / "in")])
    assert result.exit_code == 1, result.output
    assert "static embedder" in result.output and "Traceback" not in result.output
