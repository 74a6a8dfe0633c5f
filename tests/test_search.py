"""Keyword search, the story listing and semantic search, on either backend (see
conftest.py): the right articles found, hostile queries harmless, the index and
the story summaries in step with every write, pages and totals consistent."""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

import newsdesk
from newsdesk import api
from newsdesk import store as store_module
from newsdesk.copies import CopyEvidence, CopyMatch
from newsdesk.embeddings import embedding_text
from newsdesk.records import Article
from newsdesk.store import Store
from newsdesk.storybook import embed_texts, summarize_stories

SAMPLES = Path(__file__).parent.parent / "samples"

QUAKE = ("A magnitude 6.1 earthquake struck near the town of Amatrice in central Italy early on "
         "Wednesday, killing at least 38 people and flattening dozens of stone houses, the civil "
         "protection agency said.")
FERRY = ("A passenger ferry ran aground off the coast of Sulawesi in Indonesia on Saturday, and all 212 "
         "people on board were taken off safely by navy boats, the transport ministry said.")
TRIAL = ("A federal jury in Denver convicted banker Alan Smithers of wire fraud on Thursday after a "
         "three-week trial over the collapse of Front Range Savings.")
KURSK = ("Russian President Vladimir Putin thanked North Korean leader Kim Jong Un for the troops who fought "
         "in the Kursk region, where the Ukrainian army had crossed the border last year.")
SCATTERED = ("Un peu plus tard, Kim visited the Jong district, officials said; the meeting with Un officials "
             "of the district went on into the evening.")


def article(aid: str, text: str, *, title: str | None = None, source: str | None = "Outlet A",
            published: datetime | None = None, version: int = 0) -> Article:
    digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
    return Article(id=aid, text=text, title=title, source=source, url=f"https://example.org/{aid}",
                   published=published, lang="en", author=None, format="text", origin="test",
                   content_hash=digest, raw_hash=f"{digest}-{version}")


def day(n: int, hour: int = 0) -> datetime:
    return datetime(2024, 3, 1) + timedelta(days=n, hours=hour)


def place(store: Store, stories: dict[str, list[str]]) -> None:
    store.write_story_members([{"article_id": a, "story_id": sid, "score": 1.0, "reasons": "[]"}
                               for sid, ids in stories.items() for a in ids], {}, "test")


def copy_match(copy: str, original: str) -> CopyMatch:
    return CopyMatch(article_id=copy, matched_id=original, original_id=original,
                     evidence=(CopyEvidence("exact", 1.0, "same text"),))


@pytest.fixture
def news(tmp_path: Path) -> Store:
    store = Store(tmp_path / "n.db")
    store.add_articles([
        article("quake", QUAKE, title="Quake kills 38 in central Italy", source="Wire", published=day(0)),
        article("ferry", FERRY, title="Ferry runs aground off Sulawesi", source="Coast News",
                published=day(3)),
        article("trial", TRIAL, title="Banker convicted in Denver", source="Court Daily", published=day(5)),
        article("kursk", KURSK, title="Putin thanks Kim for troops", source="Wire", published=day(9)),
        article("scattered", SCATTERED, title="A district visit", source=None, published=day(9, 5)),
    ])
    place(store, {"st-quake": ["quake"], "st-ferry": ["ferry"], "st-trial": ["trial"],
                  "st-kursk": ["kursk", "scattered"]})
    return store


def ids(result: tuple[list[dict], int]) -> list[str]:
    return [r["id"] for r in result[0]]


# --- keyword search ---------------------------------------------------------------------------------
def test_keyword_search_finds_the_article_with_a_marked_snippet(news: Store) -> None:
    rows, total = news.search_articles("Kursk")
    assert total == 1 and [r["id"] for r in rows] == ["kursk"]
    hit = rows[0]
    assert set(hit) == {"id", "title", "source", "published", "url", "story_id", "score", "snippet"}
    assert hit["story_id"] == "st-kursk" and hit["source"] == "Wire" and hit["published"] == day(9)
    assert isinstance(hit["score"], float) and hit["score"] > 0
    assert "\x02Kursk\x03" in hit["snippet"] and "<" not in hit["snippet"]
    assert ids(news.search_articles("KURSK region")) == ["kursk"]  # any case, every word required
    assert ids(news.search_articles("Amatrice", source="Wire")) == ["quake"]
    assert news.search_articles("Amatrice", source="Coast News") == ([], 0)
    assert news.search_articles("zeppelin") == ([], 0)


def test_title_words_are_searched(news: Store) -> None:
    assert "kills" not in QUAKE
    assert ids(news.search_articles("kills")) == ["quake"]
    assert ids(news.search_articles("kills Amatrice")) == ["quake"]


def test_phrases_or_and_exclusion(news: Store) -> None:
    assert sorted(ids(news.search_articles("kim jong un"))) == ["kursk", "scattered"]
    rows, total = news.search_articles('"Kim Jong Un"')
    assert total == 1 and rows[0]["id"] == "kursk"
    assert "Kim" in rows[0]["snippet"] and "\x02" in rows[0]["snippet"]
    assert ids(news.search_articles('"Jong Un"')) == ["kursk"]
    assert sorted(ids(news.search_articles("Amatrice or Sulawesi"))) == ["ferry", "quake"]
    assert ids(news.search_articles("kim -Kursk")) == ["scattered"]
    assert news.search_articles("-Kursk") == ([], 0)  # nothing required: nothing found
    assert ids(news.search_articles('"kim jong un" -ukrainian or banker')) == ["trial"]


def test_diacritics_are_folded_on_both_backends(tmp_path: Path) -> None:
    """Quebec finds Québec and the other way round, in titles, text, phrases and the
    story filter, with the match marked in the snippet."""
    store = Store(tmp_path / "accents.db")
    store.add_articles([
        article("qc", "Le premier ministre du Québec a parlé à Montréal mardi, devant la presse.",
                title="Québec : une élection anticipée"),
        article("zh", "Zürich and Kraków signed a twinning agreement on Friday.", title="Twin towns"),
        article("plain", "Quebec City hosted the summit, officials said.", title="Summit"),
    ])
    place(store, {"st-qc": ["qc"], "st-zh": ["zh"], "st-plain": ["plain"]})
    assert sorted(ids(store.search_articles("quebec"))) == ["plain", "qc"]
    assert sorted(ids(store.search_articles("QUÉBEC"))) == ["plain", "qc"]
    assert ids(store.search_articles("montreal")) == ["qc"]
    assert ids(store.search_articles("election anticipee")) == ["qc"]  # title words
    assert ids(store.search_articles('"zurich and krakow"')) == ["zh"]
    assert ids(store.search_articles("Zurich -krakow")) == []
    (hit,), _ = store.search_articles("Montreal")
    assert "\x02Montréal\x03" in hit["snippet"]
    assert [s["id"] for s in store.story_summaries(text="krakow")[0]] == ["st-zh"]
    assert [s["id"] for s in store.story_summaries(entity="Montreal")[0]] == ["st-qc"]
    store.close()


@pytest.fixture
def without_unaccent(on_postgres: bool, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Stores opened until the returned function is called see a server without unaccent."""
    if not on_postgres:
        pytest.skip("PostgreSQL only: this pass runs on SQLite, whose tokenizer always folds "
                    "accents; `make test` runs the PostgreSQL pass too")
    real = store_module._extension_schema
    monkeypatch.setattr(store_module, "_extension_schema",
                        lambda conn, name: None if name == "unaccent" else real(conn, name))
    return lambda: monkeypatch.setattr(store_module, "_extension_schema", real)


def test_postgres_without_unaccent_searches_unfolded_then_folds_once_it_arrives(
        tmp_path: Path, without_unaccent: Callable[[], None], caplog: pytest.LogCaptureFixture) -> None:
    """Where the server has no unaccent the store still works (exact accents only) and
    says why; the next open after the extension arrives rebuilds the index."""
    with caplog.at_level(logging.WARNING, logger="newsdesk.store"):
        before = Store(tmp_path / "n.db")
    assert any("unaccent extension is not available" in r.getMessage() for r in caplog.records)
    before.add_articles([article("qc", "Il a parlé à Montréal.", title="Québec")])
    assert ids(before.search_articles("Montréal")) == ["qc"]
    assert before.search_articles("Montreal") == ([], 0)
    before.close()
    without_unaccent()  # the extension arrives
    after = Store(tmp_path / "n.db")
    assert ids(after.search_articles("Montreal")) == ["qc"]
    assert ids(after.search_articles("quebec")) == ["qc"]
    after.close()


def test_a_user_who_does_not_own_the_tables_opens_a_store_without_folding(
        tmp_path: Path, without_unaccent: Callable[[], None], caplog: pytest.LogCaptureFixture,
        other_user: Any) -> None:
    """The index rebuild needs the tables' owner: anyone else still opens the store and
    searches it, without folding, and is told why."""
    owner = Store(tmp_path / "n.db")
    owner.add_articles([article("qc", "Il a parlé à Montréal.", title="Québec")])
    without_unaccent()  # the extension arrives
    try:
        with other_user(owner) as url:
            with caplog.at_level(logging.INFO, logger="newsdesk.store"):
                other = Store(url)
            assert any("could not rebuild the keyword index" in r.getMessage() for r in caplog.records)
            assert ids(other.search_articles("Montréal")) == ["qc"]
            assert other.search_articles("Montreal") == ([], 0)
            other.close()
        with Store(owner.url) as again:  # its owner rebuilds the index
            assert ids(again.search_articles("Montreal")) == ["qc"]
    finally:
        owner.close()


HOSTILE = ['Kursk"', 'AND OR (', "'; DROP TABLE articles; --", '"; DROP TABLE articles; --', "NEAR(", "*",
           '"', '""', "-", "--", "(((", ")", "^", "Kursk*", "title:Kursk", "text : kursk", "kursk NOT",
           "NOT kursk", "a AND", "OR", "or or or", "'", "\\", "%", "_", "%_%", "$1", ":q", "?", "{}", "[]",
           "Ku\x00rsk", "\x00", "\u200b", "ＫＵＲＳＫ", "<script>alert(1)</script>", "1 OR 1=1",
           "kursk' OR '1'='1", "x" * 5000, "kursk " * 200, "!kursk & troops | x <-> y", "kursk:*"]


def test_hostile_queries_neither_raise_nor_inject(news: Store) -> None:
    for query in HOSTILE:
        rows, total = news.search_articles(query)
        assert total >= len(rows), query
        stories, n = news.story_summaries(text=query)
        assert n >= len(stories), query
        news.story_summaries(entity=query)
        news.story_summaries(outlet=query)
        news.search_articles("kursk", source=query)
    assert news.count_articles() == 5
    assert ids(news.search_articles('Kursk"')) == ["kursk"]
    assert ids(news.search_articles("Ku\x00rsk")) == ["kursk"]
    assert ids(news.search_articles("kursk' OR '1'='1")) == ["kursk"]  # "or" between two items
    assert sorted(ids(news.search_articles("AND OR ("))) == ["ferry", "quake"]  # the word "and"
    assert news.search_articles("OR (") == ([], 0)
    assert ids(news.search_articles("troops (Kursk)")) == ["kursk"]
    if news.engine.dialect.name == "sqlite":
        with news.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO article_search (article_search) VALUES ('integrity-check')")


def test_api_search_checks_its_arguments(news: Store) -> None:
    for bad in ["", "   ", "x" * 1001]:
        with pytest.raises(ValueError, match="query"):
            api.search(news, bad)
    with pytest.raises(ValueError, match="mode"):
        api.search(news, "kursk", mode="psychic")
    for limit in (-1, 201):
        with pytest.raises(ValueError, match="limit"):
            api.search(news, "kursk", limit=limit)
    with pytest.raises(ValueError, match="offset"):
        api.search(news, "kursk", offset=-5)
    page = api.search(news, "kursk", limit=200)
    assert page["total"] == 1 and page["limit"] == 200 and page["offset"] == 0
    assert [h["id"] for h in page["items"]] == ["kursk"]
    assert api.search(news, "((( )))")["total"] == 0


def test_reingest_never_duplicates_and_updates_reindex(news: Store) -> None:
    again = news.add_articles([article("kursk", KURSK, title="Putin thanks Kim for troops", source="Wire",
                                       published=day(9))])
    assert again.unchanged == 1
    assert news.search_articles("Kursk")[1] == 1
    changed = KURSK.replace("Kursk region", "Belgorod region")
    counts = news.add_articles([article("kursk", changed, title="Putin thanks Kim", source="Wire",
                                        published=day(9), version=1)])
    assert counts.updated == 1
    assert news.search_articles("Kursk") == ([], 0)
    rows, total = news.search_articles("Belgorod")
    assert total == 1 and rows[0]["id"] == "kursk" and rows[0]["title"] == "Putin thanks Kim"
    assert news.search_articles("troops")[1] == 1
    _assert_sqlite_index_in_step(news)


def test_deleted_and_replaced_rows_leave_the_index(news: Store) -> None:
    """The store never deletes articles, but the index follows a row deleted or replaced by hand."""
    with news.engine.begin() as conn:
        conn.execute(sa.delete(store_module.articles).where(store_module.articles.c.id == "ferry"))
    assert news.search_articles("Sulawesi") == ([], 0)
    if news.engine.dialect.name == "sqlite":
        with news.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO articles (id, title, text, format, origin, content_hash, raw_hash, "
                "removed, ingested_at) VALUES ('trial', 'Retrial', 'A retrial in Boulder was ordered.', "
                "'text', 'x', 'h', 'h', '[]', '2024-01-01 00:00:00')")
        assert news.search_articles("Denver") == ([], 0)
        assert ids(news.search_articles("Boulder")) == ["trial"]
    _assert_sqlite_index_in_step(news)


def _assert_sqlite_index_in_step(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        return
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO article_search (article_search) VALUES ('integrity-check')")
        docs = conn.exec_driver_sql(
            "SELECT count(*), count(DISTINCT article_id) FROM article_search_docs").one()
        n = conn.exec_driver_sql("SELECT count(*) FROM articles").scalar()
        indexed = conn.exec_driver_sql("SELECT count(*) FROM article_search").scalar()
    assert tuple(docs) == (n, n) and indexed == n


def test_pages_and_totals(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    store.add_articles([
        article(f"h{i:02d}", "The harbour was busy. " * (1 + i % 5) + f"Boat number {i} docked.",
                title=f"Harbour day {i}", source="Port Times" if i % 3 else "Quay Post", published=day(i))
        for i in range(25)])
    seen: list[str] = []
    scores: list[float] = []
    for offset in range(0, 30, 10):
        rows, total = store.search_articles("harbour", limit=10, offset=offset)
        assert total == 25
        seen += [r["id"] for r in rows]
        scores += [r["score"] for r in rows]
    assert sorted(seen) == [f"h{i:02d}" for i in range(25)] and len(set(seen)) == 25
    assert scores == sorted(scores, reverse=True)
    assert store.search_articles("harbour", limit=10, offset=40) == ([], 25)
    assert store.search_articles("harbour", limit=0) == ([], 25)
    rows, total = store.search_articles("harbour", source="Quay Post", limit=3)
    assert total == 9 and len(rows) == 3 and {r["source"] for r in rows} == {"Quay Post"}
    assert ids(store.search_articles('"boat number 7"')) == ["h07"]
    # The whole ranking is the pages put together.
    whole = ids(store.search_articles("harbour", limit=25))
    assert whole == seen
    with pytest.raises(ValueError):
        store.search_articles("harbour", limit=-1)


def test_an_existing_store_is_indexed_by_the_migration(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Articles, stories and accounts written before 0007 are searchable and listed after it."""
    path = tmp_path / "old.db"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:6])
    old = Store(path)
    with old.engine.begin() as conn:
        conn.execute(store_module.articles.insert(), [
            store_module._article_row(article("quake", QUAKE, title="Quake in Italy", published=day(1))),
            store_module._article_row(article("ferry", FERRY, title="Ferry aground", source="B")),
        ])
        conn.execute(store_module.story_members.insert(), [
            {"article_id": "quake", "story_id": "st-a", "score": 1.0, "reasons": "[]", "component": "t"},
            {"article_id": "ferry", "story_id": "st-a", "score": 1.0, "reasons": "[]", "component": "t"}])
        conn.execute(store_module.story_accounts.insert().values(
            story_id="st-a", input_hash="h", created_at=day(2),
            data=json.dumps({"entities": [{"name": "Amatrice", "aliases": ["the town"]}]})))
    old.close()
    monkeypatch.undo()
    store = Store(path)
    assert store.migrations()[6:] == ["0007_search", "0008_search_vector", "0009_story_marker",
                                      "0010_copy_sketches", "0011_search_unaccent",
                                      "0012_story_index_parts", "0013_placement_order"]
    assert ids(store.search_articles("Amatrice")) == ["quake"]
    assert ids(store.search_articles("AMÀTRICE")) == ["quake"]  # folded on both sides
    assert ids(store.search_articles("aground")) == ["ferry"]
    (st,), total = store.story_summaries()
    assert total == 1 and st["articles"] == 2 and st["outlets"] == 2 and st["title"] == "Quake in Italy"
    assert store.story_summaries(entity="THE TOWN")[1] == 1
    _assert_sqlite_index_in_step(store)


# --- the story listing ------------------------------------------------------------------------------
def _random_store(path: Path, seed: int = 3) -> Store:
    """Stories of 1-9 articles over a few outlets, some undated or without an outlet, some copies."""
    rng = random.Random(seed)
    store = Store(path)
    words = ["harbour", "council", "budget", "storm", "election", "bridge", "strike", "festival", "court"]
    arts, stories, matches = [], {}, []
    n = 0
    for s in range(30):
        members = []
        for j in range(rng.randint(1, 9)):
            aid = f"a{n:03d}"
            n += 1
            when = None if rng.random() < 0.1 else day(rng.randint(0, 60), rng.randint(0, 23))
            src = None if rng.random() < 0.1 else rng.choice(["Alpha", "Beta", "Gamma", "Delta", "Epsilon"])
            title = None if rng.random() < 0.1 else f"{words[s % 9].title()} story {s} part {j}"
            text = f"News about the {words[s % 9]} number {s}. " + " ".join(rng.choices(words, k=20)) + "."
            arts.append(article(aid, text, title=title, source=src, published=when))
            if members and rng.random() < 0.3:
                matches.append(copy_match(aid, members[0]))
            members.append(aid)
        stories[f"st-{s:03d}-{rng.randint(0, 999)}"] = members
    # Two stories sharing their last-seen time and size, so the order falls to the id.
    arts += [article("tie1", "A tie.", title="Tie one", published=day(90)),
             article("tie2", "A tie.", title="Tie two", published=day(90))]
    stories |= {"st-tie-b": ["tie1"], "st-tie-a": ["tie2"]}
    store.add_articles(arts)
    store.save_copy_matches(matches)
    place(store, stories)
    return store


def _expected(store: Store) -> list[dict]:
    return summarize_stories(store.story_rows())


def _strip(rows: list[dict]) -> list[dict]:
    return [{k: r[k] for k in ("id", "title", "first", "last", "articles", "outlets")} for r in rows]


def test_story_summaries_agree_with_summarize_stories(tmp_path: Path) -> None:
    store = _random_store(tmp_path / "n.db")
    expected = _expected(store)
    rows, total = store.story_summaries(limit=200)
    assert total == len(expected) == 32
    assert _strip(rows) == _strip(expected)
    assert [r["id"] for r in rows].index("st-tie-a") < [r["id"] for r in rows].index("st-tie-b")
    assert rows[-1]["last"] is None or all(r["last"] is not None for r in rows)
    by_size, _ = store.story_summaries(order="size", limit=200)
    key = {r["id"]: r for r in expected}
    assert [r["id"] for r in by_size] == sorted(
        key, key=lambda i: (-key[i]["articles"], key[i]["last"] is None,
                            -(key[i]["last"].timestamp() if key[i]["last"] else 0), i))
    # Pages are slices of the whole ordering, with the same total.
    pages = [store.story_summaries(limit=7, offset=o) for o in range(0, 35, 7)]
    assert [r["id"] for p, _ in pages for r in p] == [r["id"] for r in rows]
    assert {t for _, t in pages} == {32}
    assert store.story_summaries(limit=7, offset=100) == ([], 32)
    assert store.story_summaries(limit=0) == ([], 32)
    # sources: (outlet, articles), biggest first, no more than 8, no unnamed outlet
    for r in rows:
        members = [m for m in store.story_rows(r["id"]) if m["source"]]
        counts: dict[str, int] = {}
        for m in members:
            counts[m["source"]] = counts.get(m["source"], 0) + 1
        assert r["sources"] == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8]


def test_story_summaries_follow_every_write(tmp_path: Path) -> None:
    store = _random_store(tmp_path / "n.db")
    (a, b), _ = store.story_summaries(limit=2, order="size")
    # An auto-merge moves b's articles into a; a re-ingested article changes its date.
    moved = {m["id"]: a["id"] for m in store.story_rows(b["id"])}
    store.write_story_members([], moved, "test")
    some = store.story_rows(a["id"])[0]["id"]
    old = store.get_article(some)
    assert old is not None
    store.add_articles([article(some, old.text + " Updated.", title="Brand new title", source=old.source,
                                published=day(-30), version=9)])
    # A copy found later, and a copy forgotten.
    lone = next(r["id"] for r in store.story_rows(a["id"]) if r["original_id"] is None and r["id"] != some)
    store.save_copy_matches([copy_match(lone, some)])
    assert _strip(store.story_summaries(limit=200)[0]) == _strip(_expected(store))
    # A copy that takes over as its group's original: the former original, in another story,
    # becomes a copy there (an independent outlet fewer unless another original shares it).
    other = next(r for r in store.story_summaries(limit=200)[0] if r["id"] not in (a["id"], b["id"])
                 and any(m["original_id"] is None and m["source"] for m in store.story_rows(r["id"])))
    old_original = next(m["id"] for m in store.story_rows(other["id"])
                        if m["original_id"] is None and m["source"])
    taker = next(m["id"] for m in store.story_rows(a["id"]) if m["original_id"] is None and m["id"] != some)
    before = {r["id"]: r["outlets"] for r in store.story_summaries(limit=200)[0]}
    store.save_copy_matches([CopyMatch(article_id=taker, matched_id=old_original, original_id=taker,
                                       evidence=(CopyEvidence("exact", 1.0, "same text"),),
                                       replaced_original_id=old_original)])
    after = {r["id"]: r for r in store.story_summaries(limit=200)[0]}
    assert _strip(list(after.values())) == _strip(_expected(store))
    assert old_original not in {m["id"] for m in store.story_rows(other["id"]) if m["original_id"] is None}
    assert after[other["id"]]["outlets"] <= before[other["id"]]
    store.forget_copies([lone])
    assert _strip(store.story_summaries(limit=200)[0]) == _strip(_expected(store))
    merged = store.story_summaries(story_ids=[a["id"], b["id"]])[0]
    assert [r["id"] for r in merged] == [a["id"]] and merged[0]["first"] == day(-30)
    assert merged[0]["articles"] == a["articles"] + b["articles"]


def test_copies_count_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    store.add_articles([
        article("orig", QUAKE, title="Quake", source="Wire", published=day(0)),
        article("copy1", QUAKE, title="Quake (copy)", source="Daily A", published=day(0, 2)),
        article("copy2", QUAKE, title="Quake (copy)", source="Daily B", published=day(0, 3)),
        article("own", "Our reporter in Amatrice saw the damage.", title="From Amatrice", source="Daily A",
                published=day(1)),
        article("anon1", "An unsigned post about the quake.", source=None, published=day(1)),
        article("anon2", "Another unsigned post about the quake.", source=None, published=day(2)),
    ])
    store.save_copy_matches([copy_match("copy1", "orig"), copy_match("copy2", "orig")])
    place(store, {"st-q": ["orig", "copy1", "copy2", "own", "anon1", "anon2"]})
    (st,), total = store.story_summaries()
    # Wire, Daily A (its own report) and two articles without an outlet; Daily B only copied.
    assert total == 1 and st["articles"] == 6 and st["outlets"] == 4
    assert st["title"] == "Quake" and st["first"] == day(0) and st["last"] == day(2)
    assert st["sources"] == [("Daily A", 2), ("Daily B", 1), ("Wire", 1)]
    assert st == {**st, **{k: v for k, v in _expected(store)[0].items() if k != "sources"}}


def test_story_filters(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    store.add_articles([
        article("q1", QUAKE, title="Quake in Italy", source="Wire", published=day(0)),
        article("q2", QUAKE + " More later.", title="Italy quake toll", source="Daily", published=day(4)),
        article("f1", FERRY, title="Ferry aground", source="Coast News", published=day(10)),
        article("k1", KURSK, title="Putin thanks Kim", source="Wire", published=day(20)),
        article("s1", SCATTERED, title="A district visit", source="Daily", published=day(21)),
        article("u1", TRIAL, title="Banker convicted", source="Court Daily", published=None),
    ])
    place(store, {"st-quake": ["q1", "q2"], "st-ferry": ["f1"], "st-kursk": ["k1"], "st-visit": ["s1"],
                  "st-trial": ["u1"]})

    def listed(**kw: object) -> list[str]:
        rows, total = store.story_summaries(**kw)  # type: ignore[arg-type]
        assert total == len(rows)
        return [r["id"] for r in rows]

    assert listed() == ["st-visit", "st-kursk", "st-ferry", "st-quake", "st-trial"]
    # since/until: the story's [first, last] overlaps the range; undated stories drop out
    assert listed(since=day(2), until=day(3)) == ["st-quake"]
    assert listed(since=day(4, 1)) == ["st-visit", "st-kursk", "st-ferry"]
    assert listed(until=day(0)) == ["st-quake"]
    aware = datetime(2024, 3, 11, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # day(10) - 1h UTC
    assert listed(since=aware, until=aware + timedelta(hours=2)) == ["st-ferry"]
    assert listed(outlet="Daily") == ["st-visit", "st-quake"]
    assert listed(outlet="daily") == []  # exact
    assert listed(text="Amatrice") == ["st-quake"]
    assert listed(text="officials or banker") == ["st-visit", "st-trial"]
    assert listed(text="said", outlet="Coast News") == ["st-ferry"]
    assert listed(text="(") == []
    # entity: a phrase in a member's title or text ...
    assert listed(entity="Kim Jong Un") == ["st-kursk"]
    assert listed(entity="kim") == ["st-visit", "st-kursk"]
    assert listed(entity="Jong Kim") == []
    # ... or a name or alias in the story's cached account, in any case
    store.save_account("st-ferry", "h1", json.dumps({"story": "st-ferry", "entities": [
        {"name": "Indonesian Navy", "kind": "org", "aliases": ["the navy", "TNI-AL"]}]}))
    assert listed(entity="indonesian navy") == ["st-ferry"]
    assert listed(entity="tni-al") == ["st-ferry"]
    assert listed(entity="THE  NAVY") == ["st-ferry"]
    store.save_account("st-ferry", "h2", json.dumps({"story": "st-ferry", "entities": []}))
    assert listed(entity="tni-al") == []
    assert listed(story_ids=["st-ferry", "st-quake", "st-none"]) == ["st-ferry", "st-quake"]
    assert listed(story_ids=[]) == []
    # More ids than either driver takes parameters (SQLite 32,766, PostgreSQL 65,535).
    many = [f"st-none-{i}" for i in range(70_000)] + ["st-quake", "st-ferry"]
    assert listed(story_ids=many) == ["st-ferry", "st-quake"]
    assert listed(story_ids=many, text="ferry") == ["st-ferry"]
    assert listed(order="size", outlet="Wire") == ["st-quake", "st-kursk"]
    with pytest.raises(ValueError, match="order"):
        store.story_summaries(order="alphabetical")


def test_api_list_stories(tmp_path: Path) -> None:
    store = _random_store(tmp_path / "n.db")
    page = api.list_stories(store, limit=5, offset=5)
    assert page["total"] == 32 and page["limit"] == 5 and page["offset"] == 5 and len(page["items"]) == 5
    assert set(page["items"][0]) == {"id", "title", "first", "last", "articles", "outlets", "sources"}
    assert api.list_stories(store, outlet="  ", text="", entity=None)["total"] == 32  # blank: no filter
    assert api.list_stories(store, outlet="Alpha")["total"] < 32
    late = [r["id"] for r in _expected(store) if r["last"] is not None and r["last"] >= day(50)]
    assert 0 < len(late) < 32
    assert [r["id"] for r in api.list_stories(store, since=day(50).replace(tzinfo=UTC))["items"]] == late
    for kw, word in [({"order": "name"}, "order"), ({"limit": -1}, "limit"), ({"limit": 201}, "limit"),
                     ({"offset": -1}, "offset"), ({"since": day(5), "until": day(1)}, "since")]:
        with pytest.raises(ValueError, match=word):
            api.list_stories(store, **kw)  # type: ignore[arg-type]


# --- semantic search ---------------------------------------------------------------------------------
def _embed(store: Store, arts: list[Article]) -> None:
    vectors = embed_texts([embedding_text(a.title, a.text) for a in arts])
    store.save_embeddings("test", {a.id: v for a, v in zip(arts, vectors, strict=True)})


@pytest.fixture
def numpy_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact search (and its cache) on both backends."""
    monkeypatch.setattr(store_module, "_pgvector_schema", lambda conn: None)


def test_semantic_search_ranks_by_meaning(news: Store) -> None:
    arts = list(news.get_articles(["quake", "ferry", "trial", "kursk", "scattered"]).values())
    _embed(news, arts)
    page = api.search(news, "earthquake victims in Italy", mode="semantic", limit=3)
    assert page["total"] == 5 and len(page["items"]) == 3
    top = page["items"][0]
    assert top["id"] == "quake" and top["story_id"] == "st-quake" and top["source"] == "Wire"
    lead = top["snippet"].removesuffix("…")
    assert QUAKE.startswith(lead) and 100 < len(lead) <= 200 and "\x02" not in lead
    scores = [h["score"] for h in page["items"]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    ship = api.search(news, "a ship stranded on a reef", mode="semantic", limit=1)
    assert [h["id"] for h in ship["items"]] == ["ferry"]
    # pages, and an outlet filter that has to look past the nearest neighbours
    second = api.search(news, "earthquake victims in Italy", mode="semantic", limit=2, offset=1)
    assert [h["id"] for h in second["items"]] == [h["id"] for h in page["items"][1:3]]
    wire = api.search(news, "a ship stranded on a reef", mode="semantic", source="Wire")
    assert wire["total"] == 2 and {h["id"] for h in wire["items"]} == {"quake", "kursk"}
    court = api.search(news, "earthquake victims in Italy", mode="semantic", limit=1, source="Court Daily")
    assert court["total"] == 1 and [h["id"] for h in court["items"]] == ["trial"]  # not the nearest
    assert api.search(news, "anything", mode="semantic", offset=10)["items"] == []


def test_embedding_cache_is_used_and_invalidated(news: Store, numpy_search: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(news.url)  # a store opened with the exact search only
    assert store.vector_search == "numpy"
    rng = np.random.default_rng(5)
    vectors = {f"v{i:03d}": v / np.linalg.norm(v) for i, v in enumerate(rng.normal(size=(300, 384)))}
    store.save_embeddings("test", dict(list(vectors.items())[:200]))
    reads = []
    real = store_module._read_embedding_matrices
    monkeypatch.setattr(store_module, "_read_embedding_matrices", lambda conn: reads.append(1) or real(conn))
    q = vectors["v007"] + 0.5 * vectors["v250"]
    q = q / np.linalg.norm(q)

    def exact(pool: dict[str, np.ndarray], k: int) -> list[str]:
        return sorted(pool, key=lambda i: (-float(pool[i] @ q), i))[:k]

    first = store.nearest_articles(q, 5)
    assert [i for i, _ in first] == exact(dict(list(vectors.items())[:200]), 5) and first[0][0] == "v007"
    assert store.nearest_articles(q, 5) == first and len(reads) == 1  # no second read
    # Written by another process (another Store on the same database): seen through the marker.
    other = Store(news.url)
    other.save_embeddings("test", {k: vectors[k] for k in list(vectors)[200:]})
    hits = store.nearest_articles(q, 5)
    assert len(reads) == 2 and [i for i, _ in hits] == exact(vectors, 5) and hits[1][0] == "v250"
    for aid, cos in hits:
        assert cos == pytest.approx(float(vectors[aid] @ q), abs=1e-5)
    # Replaced in place (same row count), through this store.
    store.save_embeddings("test", {"v250": -vectors["v250"]})
    assert "v250" not in [i for i, _ in store.nearest_articles(q, 5)] and len(reads) == 3
    store.nearest_articles(q, 10)
    assert len(reads) == 3
    # Ties are broken by id, as before the cache.
    twin = {"t-b": vectors["v007"], "t-a": vectors["v007"]}
    store.save_embeddings("test", twin)
    assert [i for i, _ in store.nearest_articles(vectors["v007"], 3)] == ["t-a", "t-b", "v007"]


def test_seed_documents_searched_both_ways(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [SAMPLES])
    hits = api.search(store, "Kursk")
    assert hits["total"] >= 1 and all("\x02" in h["snippet"] for h in hits["items"])
    assert all(h["story_id"] for h in hits["items"])
    sem = api.search(store, "North Korean soldiers fighting for Russia", mode="semantic")
    assert sem["total"] == 2 and len(sem["items"]) == 2
    (st,) = api.list_stories(store, text="Kursk")["items"]
    assert st["articles"] == 2 and st["outlets"] == 2
    assert api.list_stories(store, entity="Kim Jong Un")["total"] == 1
