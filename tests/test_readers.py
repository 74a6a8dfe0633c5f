"""Readers: every format, and a clear problem for every kind of bad input."""

from __future__ import annotations

import gzip
import io
from datetime import datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsdesk.readers import detect_format, read
from newsdesk.records import IngestProblem, RawDocument

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "samples"

PAGE = """<html><head><title>{title}</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1><p>{body}</p><p>Officials said the work would continue through the winter
and that residents would be kept informed at every stage of the project.</p></article>
<footer>Copyright 2025</footer></body></html>"""


def split(items: list[RawDocument | IngestProblem]) -> tuple[list[RawDocument], list[IngestProblem]]:
    docs = [i for i in items if isinstance(i, RawDocument)]
    problems = [i for i in items if isinstance(i, IngestProblem)]
    return docs, problems


def make_warc(pages: list[tuple[str, str]], *, gz: bool = True) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    writer.write_record(writer.create_warcinfo_record("test.warc", {"software": "tests"}))
    for uri, html in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")
        rec = writer.create_warc_record(
            uri, "response", payload=io.BytesIO(html.encode()), http_headers=headers,
            warc_headers_dict={"WARC-Date": "2025-09-03T10:00:00Z"},
        )
        writer.write_record(rec)
    # A non-HTML response must be skipped, not reported.
    headers = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        "https://x.example/logo.png", "response", payload=io.BytesIO(b"\x89PNG\r\n"),
        http_headers=headers))
    return buf.getvalue()


def test_detect_format_by_content_and_extension() -> None:
    assert detect_format("a.txt", b"Just some text") == "text"
    assert detect_format("a.txt", b"[Census] Leftovers, by a poet") == "text"
    assert detect_format("a.txt", b"{Updated} Council votes") == "text"
    assert detect_format("a.txt", b"<!DOCTYPE html><html>") == "html"
    assert detect_format("a.html", b"<html><body>") == "html"
    assert detect_format("a.jsonl", b'{"text": "x"}') == "jsonl"
    assert detect_format("a", b'{"text": "x"}') == "jsonl"
    assert detect_format("feed.xml", b'<?xml version="1.0"?><rss>') == "feed"
    assert detect_format("x", b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">') == "feed"
    assert detect_format("x.warc.gz", b"\x1f\x8b") == "warc"
    assert detect_format("noext", b"WARC/1.0\r\n") == "warc"


def test_text_file() -> None:
    docs, problems = split(list(read(SAMPLES / "003_1fbef299465c00bb.txt")))
    assert not problems
    assert len(docs) == 1 and docs[0].format == "text"
    assert docs[0].text.startswith("Vladimir Putin thanks Kim Jong-un")


def test_jsonl_keeps_good_records_and_names_bad_ones() -> None:
    docs, problems = split(list(read(FIXTURES / "articles.jsonl")))
    assert [d.id for d in docs] == ["wire-001", "wire-002", "wire-006"]
    assert docs[0].source == "Coastal Post"
    assert docs[0].published == datetime(2025, 9, 5, 9, 0)
    # A +02:00 offset is stored as UTC.
    assert docs[2].published == datetime(2025, 9, 8, 16, 30)
    assert docs[1].html and not docs[1].text
    reasons = {p.origin.rsplit("#", 1)[1]: p.reason for p in problems}
    assert set(reasons) == {"line=3", "line=4", "line=5", "line=6"}
    assert "invalid JSON" in reasons["line=3"]
    assert "no 'text' or 'html'" in reasons["line=4"]
    assert "published" in reasons["line=5"] and "unreadable date" in reasons["line=5"]
    assert "expected a JSON object" in reasons["line=6"]
    assert all(str(FIXTURES / "articles.jsonl") in p.origin for p in problems)


def test_jsonl_field_mapping_with_nested_fields() -> None:
    fields = {"id": "guid", "url": "link", "title": "headline", "text": "body",
              "source": "meta.site", "published": "meta.date"}
    docs, problems = split(list(read(FIXTURES / "custom_fields.jsonl", fields=fields)))
    assert not problems
    (d,) = docs
    assert (d.id, d.source, d.title) == ("c-1", "Mountain Herald", "Avalanche warning raised")
    assert d.published == datetime(2025, 12, 7, 7, 0)


def test_json_array(tmp_path: Path) -> None:
    p = tmp_path / "batch.json"
    p.write_text('[{"text": "First article body with enough words."}, {"title": "no body"}]')
    docs, problems = split(list(read(p)))
    assert len(docs) == 1 and len(problems) == 1
    assert problems[0].origin.endswith("#record=1")


def test_rss_keeps_original_publisher_as_outlet() -> None:
    docs, problems = split(list(read(FIXTURES / "feed.rss")))
    assert len(docs) == 2
    assert docs[0].source == "Harbour Daily News"  # from <source>, not the aggregator
    assert docs[1].source == "World Wire Aggregator"
    assert docs[0].published == datetime(2025, 9, 2, 8, 30)
    assert docs[0].url == "https://harbour-news.example/bridge-reopens"
    assert "4.2 million dollars" in docs[0].html
    assert len(problems) == 1 and problems[0].origin.endswith("#entry=2")
    assert "neither content nor summary" in problems[0].reason


def test_atom_source_and_author() -> None:
    docs, problems = split(list(read(FIXTURES / "feed.atom")))
    assert not problems
    (d,) = docs
    assert d.source == "Valley Times" and d.author == "Ana Ruiz"
    assert d.published == datetime(2025, 9, 4, 4, 15)


def test_warc_gz(tmp_path: Path) -> None:
    p = tmp_path / "crawl.warc.gz"
    p.write_bytes(make_warc([
        ("https://a.example/one", PAGE.format(title="One", body="First page body text.")),
        ("https://b.example/two", PAGE.format(title="Two", body="Second page body text.")),
    ]))
    docs, problems = split(list(read(p)))
    assert not problems
    assert [d.url for d in docs] == ["https://a.example/one", "https://b.example/two"]
    assert docs[0].published == datetime(2025, 9, 3, 10, 0)
    assert "First page body text." in docs[0].html


def test_truncated_warc_keeps_earlier_records(tmp_path: Path) -> None:
    data = make_warc([
        ("https://a.example/one", PAGE.format(title="One", body="First page body text.")),
        ("https://b.example/two", PAGE.format(title="Two", body="Second " * 3000)),
    ], gz=False)
    p = tmp_path / "cut.warc"
    p.write_bytes(data[: int(len(data) * 0.6)])
    docs, problems = split(list(read(p)))
    assert [d.url for d in docs] == ["https://a.example/one"]
    assert problems and str(p) in problems[0].origin


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("bad.json", b"[{\"text\": \"cut", "invalid JSON"),
        ("feed.rss", b"<?xml version='1.0'?><rss><channel><title>x</title></channel></rss>", "no entries"),
        ("broken.txt.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
        ("junk.warc", b"WARC/1.0\r\nnot really a warc", "WARC"),
    ],
)
def test_bad_files_get_a_clear_problem(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    docs, problems = split(list(read(p)))
    assert not docs
    assert len(problems) == 1
    assert str(p) in problems[0].origin
    assert reason.lower() in problems[0].reason.lower(), problems[0].reason


def test_wrongly_encoded_text_is_refused(tmp_path: Path) -> None:
    # Bytes that are neither UTF-8 nor any plausible legacy encoding.
    p = tmp_path / "mojibake.txt"
    p.write_bytes(bytes(range(128, 256)) * 20)
    docs, problems = split(list(read(p)))
    assert not docs and "not valid UTF-8" in problems[0].reason


def test_latin1_text_is_decoded(tmp_path: Path) -> None:
    p = tmp_path / "latin1.txt"
    p.write_bytes("Le président a déclaré mercredi que la réforme des retraites était "
                  "nécessaire pour l'équilibre des comptes publics.".encode("latin-1"))
    docs, problems = split(list(read(p)))
    assert not problems and "président" in docs[0].text


def test_missing_file() -> None:
    docs, problems = split(list(read("/nonexistent/article.txt")))
    assert not docs and problems[0].reason == "no such file"


def test_gzipped_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(gzip.compress(b'{"text": "A body of text long enough to be an article."}\n'))
    docs, problems = split(list(read(p)))
    assert len(docs) == 1 and not problems
