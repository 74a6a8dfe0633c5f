"""Hostile input: every parser and the cleaner, under property tests (hypothesis), explicit
worst cases (a 200 MB page, 100,000 nested elements, gzip bombs, billion laughs, huge
and deeply nested JSON) and the replay of every input the fuzzers once failed on.

The contract: a reader yields RawDocument or IngestProblem values and never raises;
a document becomes an Article or an ArticleError with a reason; nothing hangs and
memory stays bounded. Wall-clock bounds here are hang guards, not benchmarks.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import sys
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_readers import PAGE, make_warc, split

import newsdesk
from newsdesk.cleaning import MAX_CLEAN_LINES, REASONS, clean_text
from newsdesk.ingest import ArticleError, to_article
from newsdesk.readers import MAX_DOCUMENT_BYTES, MAX_FEED_MARKUP, read
from newsdesk.records import FORMATS, Format, IngestProblem, RawDocument
from newsdesk.store import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))
import targets  # noqa: E402 - fuzz/targets.py, shared with the atheris harness

CORPUS = Path(__file__).parent / "fuzz_corpus"
FIXTURES = Path(__file__).parent / "fixtures"
SEEDS: dict[Format, bytes] = {
    "text": (ROOT / "samples" / "000_2a837432b18d5e63.txt").read_bytes(),
    "html": PAGE.format(title="Bridge reopens", body="The bridge reopened on Saturday.").encode(),
    "jsonl": (FIXTURES / "articles.jsonl").read_bytes(),
    "feed": (FIXTURES / "feed.rss").read_bytes(),
    "warc": make_warc([("https://a.example/one", PAGE.format(title="One", body="First page."))], gz=False),
}
# Few examples, no deadline (the first call imports trafilatura): the suite runs twice in CI.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)


@contextmanager
def bounded(seconds: float = 30.0, mb: float | None = None) -> Iterator[None]:
    """Fail when the block takes longer than ``seconds`` (a hang guard) or, with ``mb``,
    allocates more than ``mb`` MB at its peak (traced Python allocations)."""
    if mb is not None:
        tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1] if mb is not None else 0
        if mb is not None:
            tracemalloc.stop()
    took = time.monotonic() - started
    assert took < seconds, f"took {took:.1f} s"
    if mb is not None:
        assert peak < mb * 2**20, f"peak allocation {peak / 2**20:.0f} MB"


def gzip_member(prefix: bytes, megabytes: int, suffix: bytes = b"") -> bytes:
    """One gzip member holding prefix + ``megabytes`` MB of spaces + suffix, built in well
    under a second: after a full flush every 1 MB block compresses to the same bytes."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block_in = b" " * 2**20
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(block_in) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.compress(suffix) + co.flush()
    crc = zlib.crc32(prefix)
    for _ in range(megabytes):
        crc = zlib.crc32(block_in, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + megabytes * 2**20 + len(suffix)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + block * megabytes + tail
            + struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


def check_items(items: list[RawDocument | IngestProblem], origin: str) -> list[RawDocument]:
    """Every item is a document or a problem with a reason; every document cleans to an
    Article or an ArticleError (never another exception)."""
    docs = []
    for item in items:
        assert isinstance(item, RawDocument | IngestProblem), item
        assert item.origin.startswith(origin)
        if isinstance(item, IngestProblem):
            assert item.reason.strip()
            continue
        docs.append(item)
        try:
            assert to_article(item).text.strip()
        except ArticleError as exc:
            assert str(exc).strip()
    return docs


# --- property tests ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@FAST
@given(data=st.binary(max_size=2048))
def test_any_bytes_never_crash_a_reader(fmt: Format, data: bytes) -> None:
    check_items(list(read(f"x.{fmt}", data=data, format=fmt)), f"x.{fmt}")


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """A valid input with a few bytes flipped, inserted or deleted, or cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from([b"<", b">", b"&", b"\x00", b"{", b"\"", b"\r\n",
                                                  b"]]>", b"<![CDATA[", b"\xff\xfe", b"&#0;"]))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == "cut":
            del data[pos:]
    return bytes(data)


@pytest.mark.parametrize("fmt", FORMATS)
@FAST
@given(st.data())
def test_mutated_valid_inputs_never_crash_a_reader(fmt: Format, data: st.DataObject) -> None:
    blob = data.draw(mutated(SEEDS[fmt]))
    check_items(list(read(f"x.{fmt}", data=blob, format=fmt)), f"x.{fmt}")


@FAST
@given(st.data())
def test_gzipped_mutated_inputs_never_crash(data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(FORMATS))
    blob = gzip.compress(data.draw(mutated(SEEDS[fmt])))
    if data.draw(st.booleans()):  # a broken gzip layer: zlib.error is no OSError
        blob = data.draw(mutated(blob))
    check_items(list(read(f"x.{fmt}.gz", data=blob)), f"x.{fmt}.gz")


GOOD = st.builds(lambda i, words: {"id": f"good-{i}", "text": f"Report {i}: " + " ".join(words)},
                 st.integers(0, 10**6), st.lists(st.sampled_from(
                     ["council", "voted", "budget", "roads", "Tuesday", "officials", "said."]),
                     min_size=8, max_size=30))
# Each bad line and the reason it must be given.
BAD = st.sampled_from([
    ('{"id": "x", "text": "cut', "invalid JSON"),
    ('{"id": "x", "title": "no body"}', "no 'text' or 'html'"),
    ('{"id": "x", "text": "Body text.", "published": "not a date"}', "unreadable date"),
    ("42", "expected a JSON object"),
    ('{"id": "x", "text": 42}', "must be a string"),
    ('{"text": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
    ("\x00\x01 binary", "invalid JSON"),
])


@FAST
@given(st.lists(st.one_of(GOOD.map(lambda r: ("good", r)), BAD.map(lambda b: ("bad", b))),
                min_size=1, max_size=12))
def test_jsonl_mix_keeps_every_good_record_and_names_every_bad_one(
        lines: list[tuple[str, object]]) -> None:
    text = "\n".join(json.dumps(v) if kind == "good" else v[0] for kind, v in lines)  # type: ignore[index]
    docs, problems = split(list(read("mix.jsonl", data=text.encode())))
    good = [(n, v) for n, (kind, v) in enumerate(lines, 1) if kind == "good"]
    assert [d.id for d in docs] == [v["id"] for _, v in good]  # type: ignore[index]
    bad = {n: v[1] for n, (kind, v) in enumerate(lines, 1) if kind == "bad"}  # type: ignore[index]
    got = {int(p.origin.rsplit("#line=", 1)[1]): p.reason for p in problems}
    assert set(got) == set(bad)
    for n, reason in bad.items():
        assert reason in got[n], (n, got[n])


@FAST
@given(st.text(max_size=3000), st.booleans(), st.none() | st.text(max_size=80))
def test_cleaning_never_crashes_and_only_removes(text: str, extracted: bool, title: str | None) -> None:
    cleaned = clean_text(text, title=title, extracted=extracted)
    assert all(r.reason in REASONS for r in cleaned.removed)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert all(0 <= r.line < len(lines) for r in cleaned.removed)
    assert len(cleaned.text) <= len(text) + len(lines)  # NFC may compose, never invents text


@FAST
@given(st.lists(st.sampled_from([",", " ", ";", ".", "a", "-", ":", "the ", "source: http://",
                                 "www.", "said ", "The post ", "appeared first on ", "\t", "\u00a0"]),
                min_size=1, max_size=6), st.booleans())
def test_cleaning_is_linear_on_long_lines(tokens: list[str], extracted: bool) -> None:
    """A 100,000-character line of repeated separators or URL-ish pieces: once quadratic."""
    line = ("".join(tokens) * (100_000 // len("".join(tokens)) + 1))[:100_000]
    with bounded(10):
        clean_text(f"x{line}x\nA second line of ordinary text here.", extracted=extracted)


# --- explicit worst cases ---------------------------------------------------------------


def test_a_200_mb_page_is_refused_without_being_read(tmp_path: Path) -> None:
    page = tmp_path / "huge.html"
    with page.open("wb") as fh:
        fh.write(b"<html><body><article><p>")
        fh.write(b"The council voted on the budget. " * 1000)
        fh.seek(200 * 2**20)
        fh.write(b"</p></article></body></html>")
    with bounded(30, mb=5):
        docs, problems = split(list(read(page)))
    assert not docs and "200 MB, over the 10 MB limit" in problems[0].reason


def test_a_page_over_the_limit_given_as_bytes_or_gzip_is_refused() -> None:
    big = b"<html><body>" + b"<p>Text of a paragraph.</p>" * (MAX_DOCUMENT_BYTES // 27 + 10)
    with bounded(30):
        docs, problems = split(list(read("up.html", data=big)))
        assert not docs and "over the 10 MB limit" in problems[0].reason
        docs, problems = split(list(read("up.html.gz", data=gzip.compress(big, 1))))
        assert not docs and "over the 10 MB limit" in problems[0].reason


def test_a_gzip_bomb_as_a_plain_file_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip_member(b"Headline\n\n", 1024))  # 1 GB of spaces in 1 MB
    with bounded(30, mb=200):
        docs, problems = split(list(read(bomb)))
    assert not docs and "decompresses to more than 64 MB" in problems[0].reason


def test_a_zip_bomb_is_refused_as_binary(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", b"\x00" * 50 * 2**20)
    bomb = tmp_path / "bomb.txt"
    bomb.write_bytes(buf.getvalue())
    with bounded(30, mb=20):
        docs, problems = split(list(read(bomb)))
    assert not docs and "binary" in problems[0].reason


def test_100000_nested_elements_do_not_crash_extraction() -> None:
    para = "<p>The council voted on Tuesday to approve the budget for road repairs, officials said.</p>"
    for tag in ("div", "span", "table"):
        html = "<html><body>" + f"<{tag}>" * 100_000 + para + f"</{tag}>" * 100_000 + "</body></html>"
        for fmt in ("html", "feed"):
            doc = RawDocument(origin="deep", format=fmt, html=html)  # type: ignore[arg-type]
            with bounded(30):
                try:
                    assert to_article(doc).text
                except ArticleError as exc:
                    assert "text" in str(exc)


def _warc_record(uri: str, http: bytes, body_len: int) -> bytes:
    return (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: " + uri.encode()
            + b"\r\nWARC-Date: 2025-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:" + uri.encode()
            + b">\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: "
            + str(len(http) + body_len).encode() + b"\r\n\r\n" + http)


def test_a_gzip_bomb_inside_a_warc_is_refused_and_the_other_records_kept(tmp_path: Path) -> None:
    good = make_warc([("https://a.example/one", PAGE.format(title="One", body="First page."))])
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
    # A record that inflates to 1 GB (the member is 1 MB).
    bomb = gzip_member(_warc_record("https://bomb.example/", http, 2**30), 1024, b"\r\n\r\n")
    # A record whose HTTP body is Content-Encoding: gzip and inflates to 1 GB.
    payload = gzip_member(b"<html><body>", 1024)
    http_gz = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n"
    encoded = gzip.compress(_warc_record("https://encoded.example/", http_gz, len(payload))
                            + payload + b"\r\n\r\n", 1)
    crawl = tmp_path / "crawl.warc.gz"
    crawl.write_bytes(good + bomb + encoded + good)
    with bounded(30, mb=100):
        docs, problems = split(list(read(crawl)))
    assert [d.url for d in docs] == ["https://a.example/one", "https://a.example/one"]
    assert sorted(p.origin.split(" <")[1] for p in problems) == ["https://bomb.example/>",
                                                                 "https://encoded.example/>"]
    assert all("over the 10 MB limit" in p.reason for p in problems)


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
          .replace("&lol0;", "&lol;")
          + ']><rss version="2.0"><channel><title>t</title><item><title>Laughs</title>'
          "<description>&lol9; and the news.</description></item></channel></rss>")


def test_a_billion_laughs_feed_is_not_expanded() -> None:
    with bounded(30, mb=100):
        items = list(read("laughs.xml", data=LAUGHS.encode()))
    for item in items:
        if isinstance(item, RawDocument):
            assert "lollol" not in (item.html or "") and len(item.html or "") < 1000


def test_a_deeply_nested_feed_is_read_and_a_feed_of_too_much_markup_refused() -> None:
    item = "<item><title>Deep</title><description>{}</description></item>"
    deep = "<x>" * 20_000 + "The deep entry text." + "</x>" * 20_000
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            + item.format(deep) + item.format("A plain entry.") + "</channel></rss>")
    with bounded(30):
        docs = check_items(list(read("deep.xml", data=feed.encode())), "deep.xml")
    assert len(docs) == 2
    flood = feed.replace(deep, "<b>x</b>" * (MAX_FEED_MARKUP // 2 + 1))
    with bounded(5):
        docs, problems = split(list(read("flood.xml", data=flood.encode())))
    assert not docs and "tags and entities, over the 400,000 limit" in problems[0].reason


def test_a_feed_entity_never_reads_a_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    feed = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<rss version="2.0"><channel><title>t</title><item><title>x</title>'
            "<description>&xxe; news</description></item></channel></rss>")
    items = list(read("xxe.xml", data=feed.encode()))
    assert not any("TOP-SECRET" in str(i) for i in items)


def test_a_huge_jsonl_line_is_refused_and_the_other_lines_kept() -> None:
    lines = [json.dumps({"id": "a", "text": "First article body, long enough."}),
             json.dumps({"id": "huge", "text": "word " * (MAX_DOCUMENT_BYTES // 5 + 10)}),
             json.dumps({"id": "b", "text": "Second article body, long enough."})]
    with bounded(30):
        docs, problems = split(list(read("big.jsonl", data="\n".join(lines).encode())))
    assert [d.id for d in docs] == ["a", "b"]
    (p,) = problems
    assert p.origin.endswith("#line=2") and "'text' is 10 MB, over the 10 MB limit" in p.reason


def test_deeply_nested_json_is_a_clear_problem() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with bounded(30):
        docs, problems = split(list(read("deep.json", data=deep.encode())))
        assert not docs and "nested too deeply" in problems[0].reason
        docs, problems = split(list(read("deep.jsonl", data=(
            '{"id": "a", "text": "A good article body."}\n{"x": ' + deep + "}\n").encode())))
    assert [d.id for d in docs] == ["a"] and "nested too deeply" in problems[0].reason


def test_a_text_of_too_many_lines_is_refused_by_cleaning() -> None:
    text = "\n".join(f"Line {i} of a list." for i in range(MAX_CLEAN_LINES + 1))
    with bounded(30):
        with pytest.raises(ArticleError, match="too large to clean"):
            to_article(RawDocument(origin="long.txt", format="text", text=text))


def test_one_run_keeps_every_good_record_among_hostile_files(tmp_path: Path) -> None:
    """End to end through the store: hostile files and records are named, good ones stored."""
    (tmp_path / "good.txt").write_bytes(SEEDS["text"])
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "bomb.txt.gz").write_bytes(gzip_member(b"x", 128))
    (tmp_path / "laughs.xml").write_text(LAUGHS)
    (tmp_path / "mix.jsonl").write_text(
        json.dumps({"id": "j1", "text": "The harbour council voted on Tuesday to repair the sea wall."})
        + "\n{broken\n" + '{"text": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
    (tmp_path / "crawl.warc").write_bytes(make_warc([(
        "https://a.example/one", PAGE.format(title="One", body="First page body text."))], gz=False)
        + b"WARC/1.0\r\ngarbage")
    store = Store(tmp_path / "n.db")
    with bounded(60):
        report = newsdesk.ingest(store, [tmp_path], stories=False)
    stored = {a.origin.removeprefix(f"{tmp_path}/") for a in newsdesk.articles(store)}
    assert {"good.txt", "mix.jsonl#line=1", "crawl.warc#record=1 <https://a.example/one>"} <= stored
    reasons = {p.origin.removeprefix(f"{tmp_path}/"): p.reason for p in report.problems}
    assert "nested too deeply" in reasons["deep.json"]
    assert "decompresses to more than" in reasons["bomb.txt.gz"]
    assert "invalid JSON" in reasons["mix.jsonl#line=2"]
    assert "nested too deeply" in reasons["mix.jsonl#line=3"]
    assert all(r.strip() for r in reasons.values())


# --- the fuzzers' regression corpus -----------------------------------------------------

CORPUS_FILES = sorted(p for p in CORPUS.glob("*/*") if p.is_file())


def test_the_corpus_covers_every_target() -> None:
    assert {p.parent.name for p in CORPUS_FILES} == set(targets.TARGETS)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fuzz_corpus_replays_clean(path: Path) -> None:
    """Seeds and every input a fuzzer once failed on, through the same target."""
    with bounded(30):
        targets.TARGETS[path.parent.name](path.read_bytes())
