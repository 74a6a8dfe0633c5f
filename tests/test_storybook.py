"""Stories through the store: seeds form one story, export carries story ids,
merge and split survive later ingests, and a crash between index saves is caught up."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

import newsdesk
from newsdesk.store import Store

SAMPLES = Path(__file__).parent.parent / "samples"

QUAKE_A = ("A magnitude 6.1 earthquake struck near the town of Amatrice in central Italy early on "
           "Wednesday, killing at least 38 people and flattening dozens of stone houses, the civil "
           "protection agency said. Rescuers dug through rubble with bare hands in Amatrice.")
QUAKE_A2 = ("Rescue teams searched collapsed homes in Amatrice after Wednesday's magnitude 6.1 quake in "
            "central Italy, as the death toll rose to 38. The mayor of Amatrice said half of the town "
            "was gone and that roads into the mountain village were blocked by landslides.")
FERRY = ("A passenger ferry ran aground off the coast of Sulawesi in Indonesia on Saturday, and all 212 "
         "people on board were taken off safely by navy boats, the transport ministry said. The ferry "
         "operator blamed a navigation error during a storm.")
FERRY2 = ("All 212 passengers of a ferry that hit a reef near Sulawesi were rescued on Saturday, "
          "Indonesia's transport ministry said, after navy boats reached the stranded vessel during a "
          "storm. Investigators are looking at a navigation error by the crew.")


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_seed_documents_form_one_story_with_two_outlets(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    report = newsdesk.ingest(store, [SAMPLES])
    assert report.stories_placed == 2
    stories = newsdesk.stories(store)
    assert len(stories) == 1
    (st,) = stories
    assert st["articles"] == 2 and st["outlets"] == 2
    story = newsdesk.story(store, st["id"][:6])  # a unique prefix is enough
    assert story is not None and {m["source"] for m in story["members"]} == {"redcanaco.com", None}
    exported = list(newsdesk.export_articles(store))
    assert {r["story"] for r in exported} == {st["id"]}


def test_different_events_stay_apart_and_copies_join_their_original(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    p = write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "Outlet A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "Outlet A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
        {"id": "qb", "source": "Outlet B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
        {"id": "fb", "source": "Outlet B", "text": FERRY2, "published": "2016-08-27T09:00:00Z"},
        {"id": "qc", "source": "Outlet C", "text": QUAKE_A, "published": "2016-08-24T10:00:00Z"},
    ])
    newsdesk.ingest(store, [p])
    story_of = {r["id"]: r["story"] for r in newsdesk.export_articles(store)}
    assert story_of["qa"] == story_of["qb"] == story_of["qc"]
    assert story_of["fa"] == story_of["fb"] != story_of["qa"]
    quake = newsdesk.story(store, story_of["qa"])
    assert quake is not None
    # Three articles, but the copy (qc) is not a third voice.
    assert quake["articles"] == 3 and quake["outlets"] == 2


def test_merge_and_split_survive_later_ingests(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    first = write_jsonl(tmp_path / "1.jsonl", [
        {"id": "qa", "source": "A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
    ])
    newsdesk.ingest(store, [first])
    story_of = {r["id"]: r["story"] for r in newsdesk.export_articles(store)}
    assert story_of["qa"] != story_of["fa"]
    survivor = newsdesk.merge_stories(store, story_of["qa"], story_of["fa"])
    assert survivor == story_of["qa"]
    assert {r["story"] for r in newsdesk.export_articles(store)} == {survivor}

    # A later ingest (a new process would load the saved index the same way).
    second = write_jsonl(tmp_path / "2.jsonl", [
        {"id": "qb", "source": "B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
    ])
    newsdesk.ingest(Store(tmp_path / "n.db"), [second])
    story_of = {r["id"]: r["story"] for r in newsdesk.export_articles(store)}
    assert story_of["fa"] == story_of["qa"] == survivor  # the merge holds

    new_id = newsdesk.split_story(store, survivor, ["fa"])
    third = write_jsonl(tmp_path / "3.jsonl", [
        {"id": "fb", "source": "B", "text": FERRY2, "published": "2016-08-27T09:00:00Z"},
    ])
    newsdesk.ingest(Store(tmp_path / "n.db"), [third])
    story_of = {r["id"]: r["story"] for r in newsdesk.export_articles(store)}
    assert story_of["fa"] == new_id != survivor
    assert story_of["qa"] == survivor
    assert story_of["fb"] == new_id  # the ferry follow-up finds the split-off ferry story
    with store.engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(sa.text("SELECT kind FROM story_corrections ORDER BY seq"))]
    assert kinds == ["merge", "split"]


def test_articles_missing_from_a_stale_index_are_caught_up(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    p = write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "qb", "source": "B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
    ])
    newsdesk.ingest(store, [p], stories=False)
    assert newsdesk.stories(store) == []
    report = newsdesk.ingest(store, [p])  # nothing new to read, but the index catches up
    assert report.stories_placed == 2
    (st,) = newsdesk.stories(store)
    assert st["articles"] == 2


def test_a_story_glued_over_two_events_is_refined_in_the_store(tmp_path: Path) -> None:
    from newsdesk.storybook import StoryBook

    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [write_jsonl(tmp_path / "q.jsonl", [
        {"id": "qa", "source": "Outlet A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "qb", "source": "Outlet B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
    ])])
    quake = store.story_map()["qa"]
    newsdesk.ingest(store, [write_jsonl(tmp_path / "f.jsonl", [
        {"id": "fa", "source": "Outlet A", "text": FERRY, "published": "2016-08-24T07:00:00Z"},
        {"id": "fb", "source": "Outlet B", "text": FERRY2, "published": "2016-08-24T08:00:00Z"},
    ])], stories=False)
    book = StoryBook(store)
    for aid in ("fa", "fb"):  # as if one bridging article had pulled the ferry into the quake story
        book.index.pin(aid, quake)
    arts = store.get_articles(["fa", "fb"])
    book.place([arts["fa"], arts["fb"]], copy_of={})
    book.save()
    story_of = store.story_map()
    assert story_of["qa"] == story_of["qb"] == quake
    assert story_of["fa"] == story_of["fb"] != quake


def test_a_book_that_has_written_once_still_writes_every_later_move(tmp_path: Path) -> None:
    """After its first write a book writes only what changed (not the whole map each
    batch): merges and splits of articles placed in earlier batches must still reach
    the store."""
    from newsdesk.storybook import StoryBook

    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "Outlet A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "Outlet A", "text": FERRY, "published": "2016-08-24T07:00:00Z"},
    ])], stories=False)
    newsdesk.ingest(store, [write_jsonl(tmp_path / "b.jsonl", [
        {"id": "qb", "source": "Outlet B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
        {"id": "fb", "source": "Outlet B", "text": FERRY2, "published": "2016-08-24T08:00:00Z"},
    ])], stories=False)
    book = StoryBook(store)
    arts = store.get_articles(["qa", "fa", "qb", "fb"])
    book.place([arts["qa"], arts["fa"]], copy_of={})  # the book's first write
    book.place([arts["qb"], arts["fb"]], copy_of={})
    quake, ferry = store.story_map()["qa"], store.story_map()["fa"]
    assert quake != ferry and store.story_map()["qb"] == quake and store.story_map()["fb"] == ferry
    assert book.merge(quake, ferry) == quake
    assert set(store.story_map().values()) == {quake}
    new = book.split(quake, ["fa", "fb"])
    story_of = store.story_map()
    assert story_of["fa"] == story_of["fb"] == new != story_of["qa"] == story_of["qb"] == quake
    assert {i: StoryBook(store).index.story_of(i) for i in story_of} == story_of


def test_one_storybook_across_many_ingest_calls(tmp_path: Path) -> None:
    from newsdesk.storybook import StoryBook

    store = Store(tmp_path / "n.db")
    a = write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "Outlet A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "Outlet A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
    ])
    b = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "qb", "source": "Outlet B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
        {"id": "fb", "source": "Outlet B", "text": FERRY2, "published": "2016-08-27T09:00:00Z"},
    ])
    early = write_jsonl(tmp_path / "early.jsonl", [
        {"id": "qc", "source": "Outlet C", "text": QUAKE_A, "published": "2016-08-24T10:00:00Z"},
    ])
    newsdesk.ingest(store, [early], stories=False)  # stored, never placed
    book = StoryBook(store)
    placed = sum(newsdesk.ingest(store, [p], storybook=book).stories_placed for p in (a, b))
    assert placed == 5  # the shared book caught up the unplaced article once, on its first call
    story_of = {r["id"]: r["story"] for r in newsdesk.export_articles(store)}
    assert story_of["qa"] == story_of["qb"] == story_of["qc"] != story_of["fa"] == story_of["fb"]
    # the caller owns the book: nothing saved yet, so a fresh ingest would catch up all four
    assert StoryBook(store).index.story_of("qa") is None
    book.save()
    again = StoryBook(store)
    assert {i: again.index.story_of(i) for i in story_of} == story_of
    assert newsdesk.ingest(store, [early, a, b]).stories_placed == 0


def test_one_article_files_are_placed_together(tmp_path: Path, monkeypatch) -> None:
    from newsdesk.storybook import StoryBook

    calls: list[int] = []
    real = StoryBook.place

    def counting(self, batch, copy_of=None, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        return real(self, batch, copy_of, **kw)

    monkeypatch.setattr(StoryBook, "place", counting)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, text in enumerate((QUAKE_A, QUAKE_A2, FERRY, FERRY2)):
        (folder / f"{i}.txt").write_text(f"Report number {i}\n\n{text}\n")
    store = Store(tmp_path / "n.db")
    report = newsdesk.ingest(store, [folder])
    assert report.stories_placed == 4 and calls == [4]  # one embedding batch, not one per file
    story_of = {r["id"]: r["story"] for r in newsdesk.export_articles(store)}
    assert len(set(story_of.values())) == 2


def test_saves_come_often_while_small_and_write_a_bounded_multiple_of_the_state() -> None:
    """Each save writes the whole index state (about proportional to its articles): a
    fixed interval writes a quadratic total, the proportional one a linear one, while
    what a crash can lose stays a bounded share of the articles."""
    from newsdesk.storybook import SAVE_EVERY, SAVE_FRACTION, save_due

    for final in (10_000, 100_000, 1_000_000):
        indexed = since = written = 0
        while indexed < final:
            indexed += 256  # one batch of placements
            since += 256
            # unsaved placements, what a crash now would cost
            assert since <= max(SAVE_EVERY, SAVE_FRACTION * indexed) + 256
            if save_due(since, indexed):
                written += indexed
                since = 0
        assert written <= (1 / SAVE_FRACTION + 2) * final, (final, written)
    assert save_due(SAVE_EVERY, 0) and not save_due(SAVE_EVERY - 1, 0)
    assert not save_due(SAVE_EVERY, 100_000) and save_due(10_000, 100_000)


def test_the_story_index_is_saved_in_parts_and_old_whole_saves_still_load(
        tmp_path: Path, monkeypatch) -> None:
    """SQLite and PostgreSQL cap one value at 1 GB, which the saved index passes at a few
    hundred thousand articles: it is written in parts (tiny ones here)."""
    from newsdesk import store as store_module
    from newsdesk.storybook import StoryBook

    monkeypatch.setattr(store_module, "STATE_PART_BYTES", 1000)
    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "qb", "source": "B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
    ])])
    data = store.load_story_state()
    assert data is not None and len(data) > 3000

    def parts() -> int:
        with store.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(store_module.story_index_parts)))

    assert parts() == -(-len(data) // 1000)
    again = StoryBook(store)
    assert {i: again.index.story_of(i) for i in ("qa", "qb", "fa")} == store.story_map()
    store.save_story_state(b"x" * 2500, 1)
    assert store.load_story_state() == b"x" * 2500 and parts() == 3
    store.save_story_state(data, 3)  # a smaller save after a larger one leaves no stale part
    store.save_story_state(b"y" * 10, 1)
    assert store.load_story_state() == b"y" * 10 and parts() == 1
    with store.engine.begin() as conn:  # a state saved whole, as before migration 0012
        conn.execute(sa.delete(store_module.story_index_parts))
        conn.execute(sa.update(store_module.story_index_state).values(data=data, articles=3))
    assert store.load_story_state() == data
    assert {i: StoryBook(store).index.story_of(i) for i in ("qa", "qb", "fa")} == store.story_map()



def test_the_saved_parts_read_as_one_seekable_file() -> None:
    """The loader reads the parts in place (no joined copy of the state): any read at
    any position gives the bytes the joined parts would."""
    import io
    import random

    from newsdesk.store import _PartsReader

    rnd = random.Random(5)
    parts = [bytes(rnd.randrange(256) for _ in range(n)) for n in (7, 0, 64, 1, 30)]
    whole = b"".join(parts)
    reader, ref = _PartsReader(parts), io.BytesIO(whole)
    assert reader.size == len(whole) and reader.read() == whole
    for _ in range(300):
        whence = rnd.choice([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END])
        off = {io.SEEK_SET: rnd.randrange(len(whole) + 3), io.SEEK_CUR: rnd.randrange(-5, 6),
               io.SEEK_END: -rnd.randrange(len(whole) + 1)}[whence]
        if ref.tell() + off < 0 and whence == io.SEEK_CUR:
            continue
        assert reader.seek(off, whence) == ref.seek(off, whence)
        n = rnd.randrange(0, 40)
        assert reader.read(n) == ref.read(n) and reader.tell() == ref.tell()
    assert _PartsReader([]).read() == b"" and _PartsReader([b""]).size == 0


def test_saving_holds_about_one_part_and_keeps_none(tmp_path: Path, monkeypatch) -> None:
    """A save buffers one part at a time and nothing of the state stays in memory after
    it. Before, the buffer took whole arrays on top of a part, each part was copied
    twice, and SQLAlchemy's statement cache kept the first part stored alive."""
    import os
    import tracemalloc

    from newsdesk import store as store_module

    part = 1 << 20
    monkeypatch.setattr(store_module, "STATE_PART_BYTES", part)
    store = Store(tmp_path / "p.db")
    data = os.urandom(10 * part + 123)

    def write(fh) -> None:  # arrays larger than a part, as the index's are
        for i in range(0, len(data), 3 * part):
            fh.write(memoryview(data)[i:i + 3 * part])

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store.save_story_state(write, 1)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < part / 4, "a part of the state stayed in memory after the save"
    assert peak - before < 3 * part, f"the save held {(peak - before) / part:.1f} parts at once"
    assert store.load_story_state() == data


def test_a_damaged_saved_story_index_is_an_error_naming_the_store(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsdesk import store as store_module
    from newsdesk.cli import main
    from newsdesk.storybook import DamagedStoryIndex, StoryBook

    db = tmp_path / "n.db"
    store = Store(db)
    newsdesk.ingest(store, [write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
    ])])
    data = store.load_story_state()
    assert data is not None
    before = store.story_map()
    for damaged in (data[: len(data) // 2], b"", b"not a saved index"):
        store.save_story_state(damaged, 2)
        try:
            StoryBook(store)
        except DamagedStoryIndex as exc:
            message = str(exc)
        else:
            raise AssertionError(f"{len(damaged)} damaged bytes were read as a story index")
        assert "saved story index" in message and "n.db" in message, message
        assert f"({len(damaged)} bytes)" in message
        # numpy's advice to load pickles unsafely is not passed on
        assert "pickle" not in message or "not a saved index" in message, message
        assert "unsafe" not in message and ".." not in message, message
    # the parts deleted by hand: the row says "saved in parts" and none is left
    with store.engine.begin() as conn:
        conn.execute(sa.delete(store_module.story_index_parts))
    try:
        StoryBook(store)
    except DamagedStoryIndex as exc:
        assert "(0 bytes)" in str(exc)
    else:
        raise AssertionError("a saved index with no parts was read")
    assert store.story_map() == before  # the assignments are untouched
    store.close()
    more = write_jsonl(tmp_path / "b.jsonl", [{"id": "qb", "source": "B", "text": QUAKE_A2}])
    result = CliRunner().invoke(main, ["--db", str(db), "ingest", str(more)])
    assert result.exit_code == 1, result.output
    assert "saved story index" in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_damaged_story_index_is_rebuilt_with_the_users_merges_and_splits(tmp_path: Path) -> None:
    from newsdesk.storybook import StoryBook

    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
        {"id": "qb", "source": "B", "text": QUAKE_A2, "published": "2016-08-24T09:00:00Z"},
        {"id": "fb", "source": "B", "text": FERRY2, "published": "2016-08-27T09:00:00Z"},
        {"id": "qc", "source": "C", "text": QUAKE_A, "published": "2016-08-24T10:00:00Z"},
    ])])
    placed = store.story_map()
    assert placed["qa"] == placed["qb"] == placed["qc"] != placed["fa"] == placed["fb"]
    # a user glues the ferry onto the quake, then takes one ferry report out again
    survivor = newsdesk.merge_stories(store, placed["qa"], placed["fa"])
    alone = newsdesk.split_story(store, survivor, ["fb"])
    corrected = store.story_map()
    assert corrected["fa"] == corrected["qa"] == survivor and corrected["fb"] == alone
    store.save_story_state(b"not a saved index", 5)

    report = newsdesk.rebuild_stories(store)
    assert (report.articles, report.replayed, report.skipped) == (5, 2, [])
    assert store.story_map() == corrected and report.moved == 0 and report.stories == 2
    book = StoryBook(store)  # the saved index reads again, and agrees with the store
    assert {a: book.index.story_of(a) for a in corrected} == corrected
    # the replayed merge holds for what comes later: a copy of the ferry report joins it
    newsdesk.ingest(store, [write_jsonl(tmp_path / "b.jsonl", [
        {"id": "fc", "source": "C", "text": FERRY, "published": "2016-08-27T10:00:00Z"}])])
    assert store.story_map()["fc"] == survivor
    # rebuilding again changes nothing
    again = newsdesk.rebuild_stories(store)
    assert again.moved == 0 and again.articles == 6 and again.replayed == 2


def test_a_correction_the_rebuilt_stories_no_longer_allow_is_reported_not_fatal(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
    ])])
    store.add_correction("merge", {"into": "no-such-story", "from": store.story_map()["fa"]})
    store.add_correction("split", {"story": "x", "articles": ["qa", "fa"], "new_story": "y"})
    report = newsdesk.rebuild_stories(store)
    assert report.replayed == 0 and len(report.skipped) == 2
    assert "correction 1 (merge" in report.skipped[0] and "no-such-story" in report.skipped[0]
    assert "correction 2 (split" in report.skipped[1] and "no longer in one story" in report.skipped[1]
    assert len(set(store.story_map().values())) == 2


def test_rebuild_stories_command(tmp_path: Path) -> None:
    import io

    import numpy as np
    from click.testing import CliRunner

    from newsdesk.cli import main

    db = tmp_path / "n.db"
    store = Store(db)
    newsdesk.ingest(store, [SAMPLES])
    placed = store.story_map()
    run = CliRunner().invoke
    result = run(main, ["--db", str(db), "rebuild-stories"])
    assert result.exit_code == 1 and "can be read" in result.output, result.output
    store.save_story_state(b"\x00" * 10, 2)
    more = write_jsonl(tmp_path / "b.jsonl", [{"id": "qb", "source": "B", "text": QUAKE_A2}])
    result = run(main, ["--db", str(db), "ingest", str(more)])
    assert result.exit_code == 1 and "newsdesk rebuild-stories" in result.output, result.output
    assert store.count_articles() == 2  # nothing is stored that could not be placed
    result = run(main, ["--db", str(db), "rebuild-stories"])
    assert result.exit_code == 0, result.output
    assert "2 article(s) placed in 1 stories; 0 changed story" in result.output
    assert store.story_map() == placed
    # an index saved by a newer newsdesk is not thrown away unless asked
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps({"version": 99}).encode(), dtype=np.uint8))
    store.save_story_state(buf.getvalue(), 2)
    result = run(main, ["--db", str(db), "rebuild-stories"])
    assert result.exit_code == 1 and "newer newsdesk" in result.output, result.output
    assert "upgrade" in result.output and "rebuild-stories` builds" not in result.output
    result = run(main, ["--db", str(db), "rebuild-stories", "--force"])
    assert result.exit_code == 0, result.output
    assert store.story_map() == placed
    store.close()


def test_a_rebuild_places_articles_in_the_order_they_were_stored(tmp_path: Path) -> None:
    # The later report arrives first: its story is named after it. Publication order
    # over the whole store would found the story with the earlier report, a new id.
    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [write_jsonl(tmp_path / "1.jsonl", [
        {"id": "fb", "source": "B", "text": FERRY2, "published": "2016-08-27T09:00:00Z"}])])
    newsdesk.ingest(store, [write_jsonl(tmp_path / "2.jsonl", [
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"}])])
    placed = store.story_map()
    assert placed["fa"] == placed["fb"]
    report = newsdesk.rebuild_stories(store)
    assert report.moved == 0 and store.story_map() == placed


def test_a_store_from_before_the_placement_order_is_migrated_and_rebuilt_in_stored_order(
        tmp_path: Path, monkeypatch) -> None:
    from newsdesk import store as store_module

    path = tmp_path / "old.db"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:12])
    old = Store(path)
    with old.engine.begin() as conn:  # story_members as 0003 made it before 0013
        conn.exec_driver_sql("DROP INDEX ix_story_members_placed")
        conn.exec_driver_sql("ALTER TABLE story_members DROP COLUMN placed")
    old.close()
    monkeypatch.undo()
    store = Store(path)
    assert store.migrations()[-1] == "0013_placement_order"
    newsdesk.ingest(store, [write_jsonl(tmp_path / "1.jsonl", [
        {"id": "fb", "source": "B", "text": FERRY2, "published": "2016-08-27T09:00:00Z"}])])
    newsdesk.ingest(store, [write_jsonl(tmp_path / "2.jsonl", [
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"}])])
    with store.engine.begin() as conn:  # placed by a version that did not record the order
        conn.execute(sa.update(store_module.story_members).values(placed=None))
    placed = store.story_map()
    assert store.placement_order() == ["fb", "fa"]  # the order they were stored in
    assert newsdesk.rebuild_stories(store).moved == 0 and store.story_map() == placed
    assert store.placement_order() == ["fb", "fa"] and store.last_placed() == 2


def test_a_rebuilt_copy_follows_the_original_it_had_when_it_was_placed() -> None:
    from datetime import datetime

    from newsdesk.copies import original_rank
    from newsdesk.storybook import _copy_of_when_placed

    # placed in this order; an earlier-published copy ("w15") arrived fourth and is the
    # group's original now, but "c25", matched with "e17", had followed "e17", the
    # original of its time; "d19" came after "w15" and followed it
    published = {"e17": 2017, "c25": 2025, "w15": 2015, "d19": 2019, "x": 2016}
    rank = {a: original_rank(datetime(y, 1, 1), 100, a) for a, y in published.items() if a != "x"}
    now = {"e17": "w15", "c25": "w15", "d19": "w15"}
    matched = {"e17": "w15", "c25": "e17", "d19": "c25"}
    assert _copy_of_when_placed(["e17", "c25", "x", "w15", "d19"], now, rank, matched) == {
        "c25": "e17", "d19": "w15"}
    # a copy matched with a member that a later article split off into another group
    # follows that member's group as it was: "s" matched "e17" (now in group "o")
    rank2 = rank | {a: original_rank(datetime(y, 1, 1), 100, a)
                    for a, y in {"o": 2010, "s": 2024, "t": 2012}.items()}
    now2 = {"e17": "o", "s": "t"}
    assert _copy_of_when_placed(["e17", "s", "t", "o"], now2, rank2, {"e17": "o", "s": "e17"}) == {
        "s": "e17"}


def test_damaged_correction_records_are_reported_and_the_others_replayed(tmp_path: Path) -> None:
    from newsdesk import store as store_module

    store = Store(tmp_path / "n.db")
    newsdesk.ingest(store, [write_jsonl(tmp_path / "a.jsonl", [
        {"id": "qa", "source": "A", "text": QUAKE_A, "published": "2016-08-24T06:00:00Z"},
        {"id": "fa", "source": "A", "text": FERRY, "published": "2016-08-27T06:00:00Z"},
    ])])
    placed = store.story_map()
    with store.engine.begin() as conn:
        for kind, payload in (("merge", "{not json"), ("merge", '{"into": "x"}'), ("split", "[1, 2]")):
            conn.execute(sa.insert(store_module.story_corrections).values(
                kind=kind, payload=payload, created_at=store_module._utcnow()))
    survivor = newsdesk.merge_stories(store, placed["qa"], placed["fa"])  # correction 4
    store.save_story_state(b"not a saved index", 2)
    report = newsdesk.rebuild_stories(store)
    assert report.replayed == 1 and len(report.skipped) == 3, report.skipped
    assert report.skipped[0].startswith("correction 1 (merge") and "not JSON" in report.skipped[0]
    assert report.skipped[1].startswith("correction 2 (merge") and "has no from" in report.skipped[1]
    assert report.skipped[2].startswith("correction 3 (split")
    assert set(store.story_map().values()) == {survivor}


def test_an_interrupted_rebuild_leaves_the_index_damaged_and_a_rerun_finishes_it(
        tmp_path: Path, monkeypatch) -> None:
    from newsdesk import store as store_module
    from newsdesk import storybook
    from newsdesk.storybook import DamagedStoryIndex, StoryBook, rebuild

    store = Store(tmp_path / "n.db")
    for i, (aid, text, when) in enumerate((("fb", FERRY2, "27T09"), ("qa", QUAKE_A, "24T06"),
                                          ("fa", FERRY, "27T06"), ("qb", QUAKE_A2, "24T09"))):
        newsdesk.ingest(store, [write_jsonl(tmp_path / f"{i}.jsonl", [
            {"id": aid, "source": "S", "text": text, "published": f"2016-08-{when}:00:00Z"}])])
    placed = store.story_map()
    with store.engine.begin() as conn:  # placed before the order was recorded
        conn.execute(sa.update(store_module.story_members).values(placed=None))
    order = store.placement_order()
    assert order == ["fb", "qa", "fa", "qb"]
    store.save_story_state(b"not a saved index", 4)
    monkeypatch.setattr(storybook, "SAVE_EVERY", 1)  # ingest would save after every placement

    def stop(done: int, _total: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    try:
        rebuild(store, progress=stop, batch=2)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the rebuild was not interrupted")
    try:
        StoryBook(store)
    except DamagedStoryIndex:
        pass  # nothing half-built was saved over it
    else:
        raise AssertionError("an interrupted rebuild saved a partial index")
    assert store.placement_order() == order
    report = newsdesk.rebuild_stories(store)
    assert report.moved == 0 and store.story_map() == placed
    assert store.placement_order() == order
