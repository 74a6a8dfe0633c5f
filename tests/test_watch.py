"""`newsdesk watch`: files that appear in a watched folder, and a feed rewritten in
place, are ingested while the watch runs; it stops cleanly and keeps its stories."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import newsdesk
from newsdesk.store import Store
from newsdesk.watch import WatchSummary, watch

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _feed(entries: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f"<item><title>{t}</title><link>https://news.example/{i}</link>"
        f"<description>{body}</description><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>"
        for i, t, body in entries)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Example News</title>'
            f"<link>https://news.example/</link>{items}</channel></rss>")


def _until(cond: Callable[[], bool], timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def _start(store: Store, targets: list[Path], **kw: object) -> tuple[threading.Event, threading.Thread,
                                                                     list[WatchSummary]]:
    stop = threading.Event()
    out: list[WatchSummary] = []
    rounds: list[int] = []
    t = threading.Thread(target=lambda: out.append(watch(
        store, targets, stop=stop, debounce_ms=300, on_report=lambda b, r: rounds.append(1),
        **kw)), daemon=True)  # type: ignore[arg-type]
    t.start()
    assert _until(lambda: len(rounds) >= 1), "the initial ingest did not run"
    return stop, t, out


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_watch_folder_ingests_new_files(tmp_path: Path, polling: bool) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "003_1fbef299465c00bb.txt", inbox / "a.txt")
    store = Store(tmp_path / "n.db")
    stop, thread, out = _start(store, [inbox], force_polling=polling)
    assert store.count_articles() == 1
    # a file written under a temporary name is ignored until it is moved in
    (inbox / "b.txt.part").write_text((SAMPLES / "000_2a837432b18d5e63.txt").read_text())
    time.sleep(1.0)
    assert store.count_articles() == 1
    os.rename(inbox / "b.txt.part", inbox / "sub-b.txt")
    assert _until(lambda: store.count_articles() == 2)
    (inbox / "deep").mkdir()
    shutil.copy(FIXTURES / "feed.atom", inbox / "deep" / "feed.atom")
    assert _until(lambda: store.count_articles() == 3)
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert out and out[0].inserted == 3 and out[0].problems == 0
    # the story index was saved: the two seed reports are one story
    ids = {r["story"] for r in newsdesk.export_articles(store) if r["id"] in _seed_ids(store)}
    assert len(ids) == 1


def _seed_ids(store: Store) -> set[str]:
    return {a.id for a in newsdesk.articles(store) if a.origin.endswith(".txt")}


def test_watch_feed_file_rewritten_in_place(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    one = ("1", "Storm closes port", "The port closed on Monday as the storm arrived, officials said.")
    two = ("2", "Bridge reopens", "The old bridge reopened to traffic on Tuesday after repairs.")
    feed.write_text(_feed([one]))
    (tmp_path / "other.txt").write_text("Not watched: it sits beside the feed.\n\nA second paragraph here.")
    store = Store(tmp_path / "n.db")
    stop, thread, out = _start(store, [feed])
    assert store.count_articles() == 1
    tmp = tmp_path / "feed.xml.tmp"
    tmp.write_text(_feed([one, two]))
    os.replace(tmp, feed)  # how feed fetchers write: a new file renamed over the old
    assert _until(lambda: store.count_articles() == 2)
    feed.write_text(_feed([one, two]))  # unchanged content: nothing new
    time.sleep(1.5)
    stop.set()
    thread.join(timeout=20)
    assert store.count_articles() == 2
    assert out[0].inserted == 2
    assert "Not watched" not in " ".join(a.text for a in newsdesk.articles(store))


def test_watch_reports_a_bad_file_and_goes_on(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = Store(tmp_path / "n.db")
    stop, thread, out = _start(store, [inbox])
    (inbox / "broken.jsonl").write_text('{"id": "x1", "text": "cut sh')
    (inbox / "good.jsonl").write_text('{"id": "g1", "title": "Fine", "text": "A whole article about '
                                      'the harbour, long enough to keep. It has two sentences."}\n')
    assert _until(lambda: store.get_article("g1") is not None)
    stop.set()
    thread.join(timeout=20)
    assert out[0].problems >= 1 and store.get_article("x1") is None


def test_watch_missing_target_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        watch(Store(tmp_path / "n.db"), [tmp_path / "nope"])


def test_watch_command_stops_on_ctrl_c(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "003_1fbef299465c00bb.txt", inbox / "a.txt")
    db = tmp_path / "n.db"
    proc = subprocess.Popen([sys.executable, "-m", "newsdesk", "--db", str(db), "watch", str(inbox)],
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        # each round's line is printed once its ingest, placement and save are done
        assert _until(lambda: any(": 1 new" in x for x in lines), timeout=60), lines
        shutil.copy(SAMPLES / "000_2a837432b18d5e63.txt", inbox / "b.txt")
        assert _until(lambda: any("b.txt: 1 new" in x for x in lines), timeout=60), lines
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    stderr = "".join(lines)
    assert proc.returncode == 0, stderr
    assert "stopped: 2 new" in stderr
    assert Store(db).count_articles() == 2
