"""Fuzz targets shared by the atheris harness (fuzz/fuzz_targets.py) and the corpus
replay test (tests/test_fuzz.py): one function per parser, plus cleaning.

Each takes raw bytes and checks the contract every input must keep: the reader
yields RawDocument or IngestProblem values and never raises; a document becomes an
Article or an ArticleError (a clear reason), never any other exception.
"""

from __future__ import annotations

from collections.abc import Callable

from newsdesk.cleaning import TextTooLarge, clean_text
from newsdesk.ingest import ArticleError, to_article
from newsdesk.readers import read
from newsdesk.records import Format, IngestProblem, RawDocument


def _read_and_clean(data: bytes, fmt: Format) -> None:
    items = list(read(f"fuzz.{fmt}", data=data, format=fmt))
    for item in items:
        if isinstance(item, IngestProblem):
            assert item.reason and item.origin.startswith(f"fuzz.{fmt}"), item
            continue
        assert isinstance(item, RawDocument), item
        assert (item.text is None) != (item.html is None), item
        try:
            article = to_article(item)
        except ArticleError as exc:
            assert str(exc), item.origin
            continue
        assert article.text.strip() and article.id


def fuzz_text(data: bytes) -> None:
    _read_and_clean(data, "text")


def fuzz_html(data: bytes) -> None:
    _read_and_clean(data, "html")


def fuzz_jsonl(data: bytes) -> None:
    _read_and_clean(data, "jsonl")


def fuzz_feed(data: bytes) -> None:
    _read_and_clean(data, "feed")


def fuzz_warc(data: bytes) -> None:
    _read_and_clean(data, "warc")


def fuzz_clean(data: bytes) -> None:
    """The cleaner alone, on any text: both modes, with and without a known title."""
    if not data:
        return
    flags, text = data[0], data[1:].decode("utf-8", errors="replace")
    title = text.split("\n", 1)[0] if flags & 2 else None
    try:
        cleaned = clean_text(text, title=title, extracted=bool(flags & 1))
    except TextTooLarge:
        return
    n_lines = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for removal in cleaned.removed:
        assert removal.reason and 0 <= removal.line < n_lines, removal
    assert cleaned.text.count("\n") < n_lines


TARGETS: dict[str, Callable[[bytes], None]] = {
    "text": fuzz_text,
    "html": fuzz_html,
    "jsonl": fuzz_jsonl,
    "feed": fuzz_feed,
    "warc": fuzz_warc,
    "clean": fuzz_clean,
}
