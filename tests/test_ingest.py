"""Ingest end to end into a real SQLite file: idempotence, resume, bad records."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

import newsdesk
from newsdesk.ingest import to_article
from newsdesk.metadata import find_stamp_date, outlet_from_title_line
from newsdesk.readers import read
from newsdesk.records import RawDocument
from newsdesk.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "samples"
SEED_000 = SAMPLES / "000_2a837432b18d5e63.txt"
SEED_003 = SAMPLES / "003_1fbef299465c00bb.txt"


def dump(store: Store) -> list[tuple[object, ...]]:
    """Every stored article row except the ingest timestamp."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, title, source, url, published, lang, author, dateline, format, origin, "
            "content_hash, text, removed FROM articles ORDER BY id")).all()
    return [tuple(r) for r in rows]


def the_doc(path: Path) -> RawDocument:
    (doc,) = list(read(path))
    assert isinstance(doc, RawDocument)
    return doc


def test_seed_articles_metadata() -> None:
    a = to_article(the_doc(SEED_000))
    assert a.title == "Putin meets Kim, praises North Korean troops in Russia"
    assert a.source == "redcanaco.com"  # named only by the attribution spam
    assert a.dateline == "BEIJING"
    assert a.lang == "en"
    assert "This news data comes from" not in a.text
    b = to_article(the_doc(SEED_003))
    assert b.title == "Vladimir Putin thanks Kim Jong-un for supplying North Korean troops to fight Ukraine"
    assert b.lang == "en"
    assert not b.text.rstrip().endswith("Today")
    assert a.id != b.id and len(a.id) == 16


def test_ids_are_content_hashes_unless_given() -> None:
    a1 = to_article(the_doc(SEED_000))
    a2 = to_article(the_doc(SEED_000))
    assert a1.id == a2.id
    docs = [d for d in read(FIXTURES / "articles.jsonl") if isinstance(d, RawDocument)]
    assert [to_article(d).id for d in docs] == ["wire-001", "wire-002", "wire-006"]


def test_html_record_in_jsonl_is_extracted() -> None:
    docs = [d for d in read(FIXTURES / "articles.jsonl") if isinstance(d, RawDocument)]
    harvest = to_article(docs[1])
    assert "40,000 tonnes" in harvest.text
    assert harvest.title == "Grape harvest starts early"
    assert "Grape harvest starts early" not in harvest.text  # headline is metadata, not body


def test_feed_entries_become_articles(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    report = newsdesk.ingest(store, [FIXTURES / "feed.rss", FIXTURES / "feed.atom"])
    assert report.counts.inserted == 3
    assert len(report.problems) == 1  # the empty entry
    by_title = {a.title: a for a in newsdesk.articles(store)}
    bridge = by_title["Harbour bridge reopens after three-month repair"]
    assert bridge.source == "Harbour Daily News"
    assert '"We are relieved to have it back," the mayor told reporters' in bridge.text
    assert by_title["Storm closes mountain pass for second day"].source == "Valley Times"


def test_ingest_twice_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    inputs = [SAMPLES, FIXTURES / "articles.jsonl", FIXTURES / "feed.rss"]
    first = newsdesk.ingest(store, inputs)
    assert first.counts.inserted == 2 + 3 + 2
    before = dump(store)
    second = newsdesk.ingest(store, inputs)
    assert second.counts.inserted == 0 and second.counts.updated == 0
    assert dump(store) == before
    # Even when the finished-input bookkeeping is gone, records are not duplicated.
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ingested_inputs"))
    third = newsdesk.ingest(store, inputs)
    assert third.counts.inserted == 0 and third.counts.unchanged == 7
    assert dump(store) == before


def test_interrupted_ingest_resumes_without_duplicates(tmp_path: Path) -> None:
    inputs = [SEED_000, FIXTURES / "articles.jsonl", FIXTURES / "feed.rss", SEED_003]
    reference = Store(tmp_path / "ref.db")
    newsdesk.ingest(reference, inputs)

    store = Store(tmp_path / "n.db")

    class Stop(Exception):
        pass

    def stop_after_second(origin: str, n: int) -> None:
        if origin.endswith("articles.jsonl"):
            raise Stop

    with pytest.raises(Stop):
        newsdesk.ingest(store, inputs, progress=stop_after_second)
    assert 0 < store.count_articles() < reference.count_articles()
    resumed = newsdesk.ingest(store, inputs)
    assert resumed.skipped_inputs == 2  # the two files finished before the stop
    assert dump(store) == dump(reference)


def test_bad_records_do_not_lose_good_ones(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    report = newsdesk.ingest(store, [bad, FIXTURES / "articles.jsonl", SEED_003])
    assert report.counts.inserted == 4
    origins = [p.origin for p in report.problems]
    assert str(bad) in origins
    assert sum("articles.jsonl#line=" in o for o in origins) == 4
    assert not report.ok


def test_changed_record_under_same_id_is_updated(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    p = tmp_path / "one.jsonl"
    p.write_text('{"id": "x1", "text": "The first version of this article said the vote was close."}\n')
    newsdesk.ingest(store, [p])
    p.write_text('{"id": "x1", "text": "The corrected version of this article said the vote '
                 'was unanimous."}\n')
    report = newsdesk.ingest(store, [p])
    assert report.counts.updated == 1
    article = newsdesk.get_article(store, "x1")
    assert article is not None and "unanimous" in article.text
    assert store.count_articles() == 1


def test_export_shape(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [FIXTURES / "articles.jsonl"])
    records = list(newsdesk.export_articles(store))
    assert [r["id"] for r in records] == ["wire-001", "wire-002", "wire-006"]
    assert set(records[0]) == {"id", "title", "source", "url", "published", "lang", "text", "story",
                               "copy_of"}
    assert records[0]["published"] == "2025-09-05T09:00:00"


def test_migrations_are_named_and_recorded(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    assert store.migrations() == ["0001_articles", "0002_copies", "0003_stories", "0004_accounts",
                                  "0005_postgres_text", "0006_embedding_vectors", "0007_search",
                                  "0008_search_vector", "0009_story_marker", "0010_copy_sketches",
                                  "0011_search_unaccent", "0012_story_index_parts",
                                  "0013_placement_order"]
    again = Store(tmp_path / "n.db")
    assert again.migrate() == []


def test_lines_repeated_across_an_outlets_pages_are_dropped(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    promo = "Get the Harbour Gazette app for breaking news alerts"
    topics = ["ferry timetable", "fish market", "lighthouse repairs", "rowing regatta",
              "harbour dredging", "sea wall", "marina fees"]
    lines = []
    for i, topic in enumerate(topics):
        body = (f"Council members debated the {topic} for three hours on Tuesday before "
                f"voting {i + 4} to 2 in favour of the plan.\nResidents who spoke at the meeting "
                f"said the {topic} had been neglected for years and welcomed the decision.")
        lines.append({"id": f"hg-{i}", "source": "Harbour Gazette", "text": f"{body}\n{promo}"})
    p = tmp_path / "gazette.jsonl"
    import json
    p.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    report = newsdesk.ingest(store, [p])
    assert report.ok
    texts = {a.id: a for a in newsdesk.articles(store)}
    # Pages seen after the line had appeared on five earlier pages lose it, with a reason.
    for i in (5, 6):
        a = texts[f"hg-{i}"]
        assert promo not in a.text
        assert any(r.reason == "repeated-across-outlet" and r.text == promo for r in a.removed)
    # The article lines themselves stay.
    assert "marina fees had been neglected" in texts["hg-6"].text


def test_killed_ingest_resumes_to_the_same_store(tmp_path: Path, on_postgres: bool) -> None:
    """SIGKILL a real ingest process part-way, rerun it, compare with an uninterrupted run."""
    import signal
    import subprocess
    import sys
    import time

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(120):
        (corpus / f"{i:04d}.txt").write_text(
            f"Item {i}: council votes on budget\n\nThe council voted {i} times on the budget "
            f"amendment number {i} on Tuesday, officials said.\nThe vote on item {i} followed a "
            "long debate about road repairs and school funding.\n")
    cmd = [sys.executable, "-m", "newsdesk", "--db"]
    subprocess.run([*cmd, str(tmp_path / "ref.db"), "ingest", "-q", str(corpus)], check=True)

    db = tmp_path / "killed.db"
    proc = subprocess.Popen([*cmd, str(db), "ingest", "-q", str(corpus)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (on_postgres or db.exists()) and Store(db).count_articles() > 0:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The kill landed part-way (the run takes seconds; the first batch lands early).
    assert 0 < Store(db).count_articles() < 120
    subprocess.run([*cmd, str(db), "ingest", "-q", str(corpus)], check=True)
    assert dump(Store(db)) == dump(Store(tmp_path / "ref.db"))


WIRE = (
    "GENEVA (Reuters) - Negotiators from 40 countries agreed on Friday to extend a treaty that limits "
    "fishing in the high seas for another ten years, after two weeks of talks that nearly collapsed "
    "over quotas for tuna.\nThe agreement still needs ratification by national parliaments, and several "
    "delegations said they expected a difficult debate at home over the enforcement provisions.\n"
    "\"This is a fragile compromise, but it is a compromise,\" the chair of the talks told reporters "
    "after the final session ended late on Friday night.\nEnvironmental groups welcomed the extension "
    "but said the quotas remained far above what scientists recommend for several threatened species."
)


def test_syndicated_copies_are_folded_with_evidence(tmp_path: Path) -> None:
    import json

    store = Store(tmp_path / "n.db")
    records = [
        {"id": "orig", "url": "https://wire.example/treaty", "source": "Wire", "text": WIRE,
         "published": "2025-03-07T18:00:00Z", "title": "Fishing treaty extended"},
        # Republished a day later under another headline, one sentence edited by the desk.
        {"id": "copy1", "url": "https://daily.example/a/99", "source": "Daily", "title": "Deal on seas",
         "text": WIRE.replace("after the final session ended late on Friday night",
                              "as the last session wound up on Friday evening"),
         "published": "2025-03-08T08:00:00Z"},
        # A different report of the same event: not a copy.
        {"id": "own", "url": "https://other.example/fish", "source": "Other", "published":
         "2025-03-08T09:00:00Z", "text": "Delegates in Geneva extended the high-seas fishing treaty "
         "on Friday. Our correspondent says tuna quotas dominated the final days of the talks, and "
         "small island states pushed hardest for stricter enforcement of the catch limits."},
    ]
    p = tmp_path / "batch1.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = newsdesk.ingest(store, [p])
    assert report.copies == 1
    # An earlier copy arriving in a later batch becomes the group's original.
    p2 = tmp_path / "batch2.jsonl"
    p2.write_text(json.dumps({"id": "early", "url": "https://first.example/x", "source": "First",
                              "text": WIRE, "published": "2025-03-07T17:30:00Z"}) + "\n")
    report = newsdesk.ingest(store, [p2])
    assert report.copies == 1
    out = {r["id"]: r["copy_of"] for r in newsdesk.export_articles(store)}
    assert out == {"early": None, "orig": "early", "copy1": "early", "own": None}
    info = newsdesk.copy_info(store, "copy1")
    assert info is not None and info["method"] in ("near-duplicate", "contained")
    # Both texts credit Reuters: recorded as supporting evidence.
    assert any(e["method"] == "wire-credit" and "reuters" in e["detail"].lower()
               for e in info["evidence"])
    # Re-ingesting changes nothing.
    before = list(newsdesk.export_articles(store))
    newsdesk.ingest(store, [p, p2])
    assert list(newsdesk.export_articles(store)) == before


def test_line_page_frequencies_feed_the_classifier_once_an_outlet_has_history(tmp_path: Path) -> None:
    import json

    from newsdesk.cleaning import normalize_line
    from newsdesk.ingest import LINE_DF_MIN_PAGES, _line_df

    store = Store(tmp_path / "n.db")
    nav = "Home | World | Business | Sport"
    recs = [{"id": f"p{i}", "source": "Valley Times",
             "text": f"{nav}\nThe valley council met for the {i}th time this year on Monday and "
                     f"approved plan number {i} for the river path after a long debate."}
            for i in range(LINE_DF_MIN_PAGES)]
    p = tmp_path / "v.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    assert _line_df(store, "Valley Times", nav) is None  # no history yet
    newsdesk.ingest(store, [p], stories=False)
    df = _line_df(store, "Valley Times", f"{nav}\nA brand new line about the harbour.")
    assert df is not None
    assert df[normalize_line(nav)] == LINE_DF_MIN_PAGES + 1  # stored pages plus this one
    assert df[normalize_line("A brand new line about the harbour.")] == 1


def test_warc_pages_keep_their_own_date_over_the_crawl_date(tmp_path: Path) -> None:
    from test_readers import make_warc

    page = ("<html><head><title>Bridge reopens</title>"
            '<meta property="article:published_time" content="2025-08-30T10:00:00+00:00"></head>'
            "<body><article><h1>Bridge reopens</h1><p>The old river bridge reopened to cars on "
            "Saturday after a two-year repair that cost the city 12 million euros.</p><p>Cyclists "
            "will get a separate lane from next month, the transport office said.</p></article>"
            "</body></html>")
    p = tmp_path / "crawl.warc.gz"
    p.write_bytes(make_warc([("https://river.example/bridge", page)]))  # crawled 2025-09-03
    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [p], stories=False)
    (a,) = newsdesk.articles(store)
    assert a.published is not None and a.published.date().isoformat() == "2025-08-30"


def test_on_batch_reports_progress_inside_one_big_file(tmp_path: Path) -> None:
    from newsdesk.ingest import BATCH_SIZE

    n = BATCH_SIZE * 2 + 3
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"r{i}", "text": f"Report number {i} about the harbour "
                                          f"works, with {i} cranes moved and {i * 7} tonnes of steel."})
                              for i in range(n)) + "\n")
    calls: list[tuple[str, int]] = []
    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [path], stories=False, on_batch=lambda origin, k: calls.append((origin, k)))
    assert len(calls) == 3 and sum(k for _, k in calls) == n == store.count_articles()
    assert {origin for origin, _ in calls} == {str(path)}


def test_an_exported_store_ingested_again_keeps_every_article(tmp_path: Path) -> None:
    """Export -> ingest into a new store: the same ids, titles and cleaned texts.

    The scraped pages are the seed and the cleaning fixtures' whole pages; the
    exported records carry the title cleaning found, and cleaning the cleaned text
    again with it removes nothing."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for seed in (SEED_000, SEED_003):
        (pages / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    for tsv in sorted((FIXTURES / "cleaning").glob("*.tsv")):
        rows = [ln.split("\t", 1)[1] for ln in tsv.read_text(encoding="utf-8").splitlines() if ln]
        (pages / f"{tsv.stem}.txt").write_text("\n".join(rows), encoding="utf-8")
    first = Store(tmp_path / "first.db")
    assert not newsdesk.ingest(first, [pages], stories=False).problems
    exported = tmp_path / "articles.jsonl"
    records = list(newsdesk.export_articles(first))
    assert len(records) == 2 + len(list((FIXTURES / "cleaning").glob("*.tsv")))
    exported.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    second = Store(tmp_path / "second.db")
    assert not newsdesk.ingest(second, [exported], stories=False).problems
    again = {r["id"]: r for r in newsdesk.export_articles(second)}
    assert set(again) == {r["id"] for r in records}
    for r in records:
        assert (again[r["id"]]["title"], again[r["id"]]["text"]) == (r["title"], r["text"])
        assert newsdesk.get_article(second, str(r["id"])).removed == ()  # type: ignore[union-attr]



def _page_with_stamp(stamp: str) -> str:
    """Share and navigation words that cleaning's precise rules drop fill the page's
    first 600 characters (where a date used to be looked for); then the article."""
    junk = ["Advertisement", "Share on Facebook", "Share on Twitter", "Read more", "Subscribe"] * 16
    body = [
        "Harbour board votes to replace island ferry",
        stamp,
        "The harbour board voted on Tuesday to replace the island ferry after thirty years of service.",
        "The new vessel will carry twice as many cars and should enter service next summer, the board said.",
        "Islanders have asked for a larger ferry since the old one broke down twice last winter.",
        "In this March 3, 2011, file photo, the old ferry leaves the harbour at dawn.",
    ]
    return "\n".join([*junk, *body])


@pytest.mark.parametrize("stamp", ["By Ann Reed | November 18, 2025",
                                   "Updated 10:01 pm, Tuesday, 18 November 2025"])
def test_a_date_stamp_above_a_scraped_article_is_its_date(stamp: str) -> None:
    text = _page_with_stamp(stamp)
    assert "2025" not in text[:600]  # the page's first characters hold no date
    a = to_article(RawDocument(format="text", origin="page.txt", text=text))
    assert stamp in a.text
    assert a.published is not None and a.published.date().isoformat() == "2025-11-18"


def test_find_stamp_date_takes_a_stamp_not_a_sentence() -> None:
    caption = "In this March 3, 2011, file photo, the old ferry leaves the harbour at dawn."
    head = f"Ferry to be replaced\n{caption}\n"
    assert find_stamp_date(head + "No date here.") is None
    assert find_stamp_date(head + "Nov. 19, 2025 8:03 am ET") == datetime(2025, 11, 19)
    too_far = "\n".join(["A line of the body."] * 12 + ["November 18, 2025"])
    assert find_stamp_date(too_far) is None
    assert find_stamp_date("Posted on 4 May 2026.") == datetime(2026, 5, 4)  # a short stamp may end so
    for not_a_stamp in ("An MSC cargo ship leaves PortMiami, on Aug. 31, 2019. (AP)",  # a caption
                        "\u2014 Arvind Kejriwal (@ArvindKejriwal) November 1, 2019",  # a tweet
                        "Source: Russian Defense Ministry, October 25, 2019"):
        assert find_stamp_date(not_a_stamp) is None, not_a_stamp


def test_the_page_title_line_names_the_outlet_of_a_scraped_page() -> None:
    page = "\n".join([
        "Council to rebuild harbour sea wall | Local News | The Harbour Gazette", "Home", "News",
        "Council to rebuild harbour sea wall",
        "The county council voted on Tuesday to rebuild the harbour sea wall before winter storms.",
        "Engineers told councillors the old wall had lost a third of its stones since the spring.",
        "Work on the sea wall starts next month and should take about twenty weeks, the council said.",
    ])
    a = to_article(RawDocument(format="text", origin="wall.txt", text=page))
    assert a.title == "Council to rebuild harbour sea wall"
    assert a.source == "The Harbour Gazette"


@pytest.mark.parametrize("line, site", [
    ("Mourinho agrees deal | UK News | Sky News", "Sky News"),
    ("Impeachment hearings: Mourinho agrees deal - CBS News", "CBS News"),
    ("Mourinho agrees deal: what it means for Spurs", None),  # a colon ends no headline
    ("Mourinho agrees deal - and the fans are not sure they like it at all", None),  # no name
    ("Another story entirely - Sky News", None),
])
def test_outlet_from_title_line(line: str, site: str | None) -> None:
    assert outlet_from_title_line(line, "Mourinho agrees deal") == site
