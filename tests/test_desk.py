"""The desk behind the server (jobs, saved uploads, resume after a crash), and the
pure helpers of the web UI (file names, charts, highlighted text)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest

from newsdesk import Store, charts
from newsdesk.desk import Desk, safe_filename
from newsdesk.server import _marks, _paragraphs

SEEDS = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize(("name", "expected"), [
    ("story.txt", "story.txt"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\evil.html", "evil.html"),
    ("/abs/path/feed.xml", "feed.xml"),
    ("..", "upload"),
    ("", "upload"),
    (".hidden.jsonl", "hidden.jsonl"),
    ("na\x00me.txt", "name.txt"),
    ("spaces and ünïcode?.warc.gz", "spaces_and_n_code_.warc.gz"),
    ("a" * 300 + ".txt", "a" * 116 + ".txt"),
])
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_jobs_ingest_saved_files_and_name_bad_records(tmp_path: Path) -> None:
    desk = Desk(Store(tmp_path / "news.db"), tmp_path / "data", background=False)
    job = desk.submit_files([(p.name, p.read_bytes()) for p in sorted(SEEDS.glob("*.txt"))])
    assert job.status == "done" and job.new == 2 and job.inputs_done == 2
    assert all(Path(f).is_relative_to(tmp_path / "data" / "uploads") for f in job.files)
    again = desk.submit_files([(p.name, p.read_bytes()) for p in sorted(SEEDS.glob("*.txt"))])
    assert again.new == 0 and again.skipped == 2
    bad = desk.submit_records([{"id": "ok", "title": "T", "text": "A body of text long enough."},
                               {"id": "no-text", "title": "T"}])
    assert bad.new == 1 and bad.article_ids == ["ok"]
    assert bad.problems == [{"origin": "articles.jsonl#line=2", "reason": bad.problems[0]["reason"]}]
    with pytest.raises(ValueError, match="no articles"):
        desk.submit_records([])
    with pytest.raises(ValueError, match="expected an object"):
        desk.submit_records(["not a record"])  # type: ignore[list-item]


def test_uploads_are_copied_from_file_objects_within_the_limit(tmp_path: Path) -> None:
    """The server hands over the uploads' spooled files; they are copied from where they
    stand, the same as bytes, and measured against the limit without being read."""
    desk = Desk(Store(tmp_path / "news.db"), tmp_path / "data", background=False,
                max_upload_bytes=max(p.stat().st_size for p in SEEDS.glob("*.txt")))
    seeds = sorted(SEEDS.glob("*.txt"))
    files = []
    for p in seeds:
        f = tempfile.SpooledTemporaryFile(max_size=1024)  # noqa: SIM115 (closed below)
        f.write(b"junk before the upload's start")
        start = f.tell()
        f.write(p.read_bytes())
        f.seek(start)
        files.append((p.name, f))
    job = desk.submit_files(files)  # type: ignore[arg-type]
    assert job.status == "done" and job.new == 2 and not job.problems
    assert [Path(f).read_bytes() for f in job.files] == [p.read_bytes() for p in seeds]
    big = io.BytesIO(b"x" * (desk.max_upload_bytes + 1))
    with pytest.raises(ValueError, match=r"big\.txt: .* bytes is over the"):
        desk.submit_files([("big.txt", big)])
    assert big.tell() == 0 and len(desk.jobs()) == 1
    for _, f in files:
        f.close()


def test_uploads_saved_before_a_crash_are_ingested_at_start(tmp_path: Path) -> None:
    # A server that died after saving an upload and before ingesting it left this:
    folder = tmp_path / "data" / "uploads" / "deadbeef0000"
    folder.mkdir(parents=True)
    for i, p in enumerate(sorted(SEEDS.glob("*.txt"))):
        (folder / f"{i:04d}-{p.name}").write_bytes(p.read_bytes())
    (folder / "0002-half.txt.part").write_bytes(b"half-written upl")  # never read
    store = Store(tmp_path / "news.db")
    desk = Desk(store, tmp_path / "data")
    desk.start()
    try:
        assert desk.wait_idle(timeout=300)
        assert store.count_articles() == 2
        (resumed,) = desk.jobs()
        assert resumed.status == "done" and resumed.new == 2 and not resumed.problems
    finally:
        desk.close()


def test_account_view_prepares_in_the_background(tmp_path: Path) -> None:
    store = Store(tmp_path / "news.db")
    desk = Desk(store, tmp_path / "data")
    desk.start()
    try:
        job = desk.submit_files([(p.name, p.read_bytes()) for p in sorted(SEEDS.glob("*.txt"))])
        assert job.done_event.wait(300) and job.status == "done"
        sid = store.story_of_map(job.article_ids)[job.article_ids[0]]
        first = desk.account(sid)
        assert first is not None and first.state in ("preparing", "fresh")
        assert desk.wait_idle(timeout=300)
        view = desk.account(sid)
        assert view is not None and view.state == "fresh" and view.data is not None
        assert view.data["story"] == sid
        assert desk.account("st-no-such-story") is None
    finally:
        desk.close()


def test_timeline_chart_places_events_and_articles() -> None:
    account = {"timeline": {
        "events": [{"date": "2024-08", "precision": "month", "mentions": [{"text": "August 2024"}]},
                   {"date": "2024-09-03", "precision": "day", "mentions": [{"text": "3 September"}]},
                   {"date": "someday", "precision": "day", "mentions": []}],
        "articles": [{"article": "a", "outlet": "BBC", "published": "2024-09-03T10:00:00"},
                     {"article": "b", "outlet": "BBC", "published": "2024-09-04T10:00:00"},
                     {"article": "c", "outlet": None, "published": "2024-09-04T12:00:00"},
                     {"article": "d", "outlet": "X", "published": None}]}}
    chart = charts.timeline_chart(account)
    labels = [label for label, _, _ in chart.rows]
    assert labels == ["events in the text", "BBC", "unknown outlet"]
    events = chart.rows[0][2]
    assert len(events) == 2 and events[0].width > events[1].width >= 0  # a month is wider than a day
    assert events[0].x == charts.LABEL_W  # August 1st starts the axis
    bbc = chart.rows[1][2]
    assert [m.href for m in bbc] == ["/articles/a", "/articles/b"] and bbc[0].x < bbc[1].x
    assert max(m.x for _, _, ms in chart.rows for m in ms) <= chart.width - 20
    assert chart.undated == 1 and len(chart.ticks) == 5 and not chart.empty
    assert charts.timeline_chart({"timeline": {"events": [], "articles": []}}).empty


def test_bar_chart_scales_to_the_biggest() -> None:
    chart = charts.bar_chart([("a", [(2, "shared"), (2, "only")], ""),
                              ("b", [(1, "shared"), (0, "only")], "")])
    a, b = chart.bars
    assert len(a.parts) == 2 and len(b.parts) == 1  # a zero segment is not drawn
    assert a.parts[0][1] == a.parts[1][1] == 2 * b.parts[0][1]


def test_marks_escape_everything_but_the_match_markers() -> None:
    out = str(_marks("<img src=x onerror=alert(1)> \x02Kursk\x03 & co"))
    assert out == "&lt;img src=x onerror=alert(1)&gt; <mark>Kursk</mark> &amp; co"


def test_paragraphs_highlight_a_cited_range() -> None:
    text = "First line.\nSecond line here.\n\nThird."
    start = text.index("line here")
    paras = _paragraphs(text, (start, start + len("line here")))
    assert [r[0] for r in paras[1]] == ["Second ", "line here", "."]
    assert [r[1] for r in paras[1]] == [False, True, False]
    assert len(paras) == 3 and paras[2] == [("Third.", False, text.index("Third."))]
