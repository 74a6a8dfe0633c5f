"""Readers: turn files (plain text, HTML, JSONL/JSON, RSS/Atom, WARC) into RawDocuments.

Every reader yields ``RawDocument`` or ``IngestProblem`` values, never raises for bad
input: one broken record must not lose the others in the same file.
"""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import io
import json
import logging
import os
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from .records import FORMATS, Format, IngestProblem, RawDocument

log = logging.getLogger(__name__)

# Bounds on hostile input: a single document larger than this is refused, not parsed
# (a file, a WARC record, a JSON record's text or html, a feed entry). Extraction takes
# about a second per MB of dense markup; real news pages stay under a few MB.
MAX_DOCUMENT_BYTES = 10 * 2**20
# JSONL and feed files may be larger (up to this, decompressed); WARC files are streamed
# from disk record by record and have no size limit.
MAX_FEED_BYTES = 64 * 2**20

_EXTENSIONS: dict[str, Format] = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
    ".warc": "warc",
    ".arc": "warc",
}

# The JSONL fields newsdesk understands; ``fields`` maps them to other input names.
JSON_FIELDS = ("id", "url", "title", "text", "html", "source", "published", "lang", "author")


class ReadError(Exception):
    """A whole file cannot be read; the message says why."""


def iter_inputs(paths: Iterable[str | Path]) -> Iterator[str | Path]:
    """Expand directories recursively (sorted, hidden files skipped); ``-`` is stdin."""
    for p in paths:
        if str(p) == "-":
            yield "-"
            continue
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def format_from_name(name: str) -> Format | None:
    lower = name.lower()
    for suffix in (".gz", ".bz2"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    if lower.endswith(".warc") or ".warc" in lower:
        return "warc"
    return _EXTENSIONS.get(os.path.splitext(lower)[1])


def sniff_format(head: bytes) -> Format | None:
    """Guess a format from the first bytes of a file (after any gzip layer)."""
    if head.startswith(b"WARC/"):
        return "warc"
    text = _strip_bom(head)[:2048].lstrip().lower()
    if text.startswith((b"{", b"[")):
        return "jsonl"
    if text.startswith(b"<?xml") or text.startswith(b"<rss") or text.startswith(b"<feed"):
        if b"<html" in text and b"<rss" not in text and b"<feed" not in text:
            return "html"
        return "feed"
    if text.startswith(b"<!doctype") or b"<html" in text or text.startswith((b"<head", b"<body")):
        return "html"
    return None


def detect_format(name: str, head: bytes) -> Format:
    """Content first (a ``.txt`` holding HTML is HTML), then the extension, then text.

    A ``.txt`` that merely starts with ``[`` or ``{`` ("[Census] Leftovers ...") stays
    text: only markup and WARC headers are unambiguous enough to override it.
    """
    sniffed = sniff_format(head)
    by_name = format_from_name(name)
    if sniffed == "jsonl" and by_name == "text":
        return "text"
    if sniffed == "warc" or (sniffed and by_name in (None, "text")):
        return sniffed
    if by_name == "feed" and sniffed == "html":
        return "html"
    return by_name or sniffed or "text"


def read(
    path: str | Path,
    *,
    format: Format | None = None,
    fields: Mapping[str, str] | None = None,
    source: str | None = None,
    data: bytes | None = None,
) -> Iterator[RawDocument | IngestProblem]:
    """Read one file (or ``-`` for stdin, or given ``data``) into raw documents.

    ``source`` names the outlet for inputs that carry none (plain text files).
    """
    origin = str(path)
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if data is None and origin != "-" and (format or format_from_name(origin)) == "warc":
        # Streamed from the file: a WARC may be far bigger than memory.
        try:
            with open(path, "rb") as fh:
                for item in _read_warc(fh, origin, fields or {}, source):
                    yield _without_nul(item) if isinstance(item, RawDocument) else item
        except ReadError as exc:
            yield IngestProblem(origin, str(exc))
        except OSError as exc:
            yield IngestProblem(origin, _os_reason(exc))
        return
    try:
        if data is None:
            data = _read_bytes(path)
        data = _gunzip(data, origin)
    except ReadError as exc:
        yield IngestProblem(origin, str(exc))
        return
    fmt = format or detect_format(origin if origin != "-" else "", data[:4096])
    reader = _READERS[fmt]
    try:
        for item in reader(data, origin, fields or {}, source):
            yield _without_nul(item) if isinstance(item, RawDocument) else item
    except ReadError as exc:
        yield IngestProblem(origin, str(exc))


_STR_FIELDS = ("text", "html", "id", "url", "title", "source", "lang", "author")


# NUL (PostgreSQL cannot store it in text) and STX/ETX (search snippets mark matches with
# them: one in an article would let its text open or close a highlight on the page).
_DROPPED = "\x00\x02\x03"
_DROP = str.maketrans("", "", _DROPPED)


def _without_nul(doc: RawDocument) -> RawDocument:
    """NUL, STX and ETX characters (a JSON ``\\u0000``, a broken page) dropped: they carry
    nothing, and both stores keep the same article."""
    changes: dict[str, Any] = {
        name: value.translate(_DROP) for name in _STR_FIELDS
        if isinstance(value := getattr(doc, name), str) and any(c in value for c in _DROPPED)
    }
    if any(c in v for v in doc.extra.values() for c in _DROPPED):
        changes["extra"] = {k: v.translate(_DROP) for k, v in doc.extra.items()}
    return dataclasses.replace(doc, **changes) if changes else doc


# --- bytes and text -------------------------------------------------------------------


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read: {exc.strerror or exc}"


def _read_bytes(path: str | Path) -> bytes:
    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_FEED_BYTES + 1)  # never more than the limit in memory
        if len(data) > MAX_FEED_BYTES:
            raise ReadError(f"standard input is over the {MAX_FEED_BYTES // 2**20} MB limit")
        return data
    p = Path(path)
    try:
        size = p.stat().st_size
        limit = MAX_FEED_BYTES if format_from_name(p.name) in ("jsonl", "feed", "warc") else None
        if limit is None:
            limit = MAX_DOCUMENT_BYTES
        if size > limit:  # refused from its size alone: nothing of it is read
            raise ReadError(f"file is {size / 2**20:.0f} MB, over the {limit // 2**20} MB limit")
        return p.read_bytes()
    except FileNotFoundError:
        raise ReadError("no such file") from None
    except IsADirectoryError:
        raise ReadError("is a directory") from None
    except PermissionError:
        raise ReadError("permission denied") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None


def _gunzip(data: bytes, origin: str) -> bytes:
    """Undo one gzip layer, except for WARC which the WARC reader streams itself."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            head = gz.read(8)
            if head.startswith(b"WARC/"):
                return data
            rest = gz.read(MAX_FEED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # zlib.error is no OSError (found by fuzzing)
        raise ReadError(f"broken gzip data: {exc}") from None
    out = head + rest
    if len(out) > MAX_FEED_BYTES:
        raise ReadError(f"decompresses to more than {MAX_FEED_BYTES // 2**20} MB; refused")
    return out


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(codecs.BOM_UTF8) else data


def decode_text(data: bytes) -> str:
    """Decode bytes to text: UTF-8 (or a BOM's encoding), else a reliable detected encoding.

    Raises ReadError for binary data and for bytes whose encoding cannot be told.
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc)
            except UnicodeDecodeError as exc:
                raise ReadError(f"invalid {enc} after its byte-order mark at byte {exc.start}") from None
    if b"\x00" in data[:8192]:
        raise ReadError("binary data (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    # A legacy single-byte page (cp1252, latin-1) is common and fine; a guess full of
    # control characters or mojibake is not, and ingesting it would store garbage.
    if best is None or best.chaos > 0.15:
        raise ReadError(
            f"not valid UTF-8 (bad byte at offset {utf8_error.start}) and its encoding "
            "cannot be determined"
        )
    text = str(data.decode(best.encoding, errors="strict"))
    log.info("decoded as %s", best.encoding)
    return text


# --- per-format readers ----------------------------------------------------------------

_Reader = Any  # Callable[[bytes, str, Mapping[str, str], str | None], Iterator[...]]


def _check_size(data: bytes, limit: int, what: str) -> None:
    """Input given as bytes (stdin, an upload, a gzip layer) meets the limit a file meets."""
    if len(data) > limit:
        raise ReadError(f"{what} is {len(data) / 2**20:.0f} MB, over the {limit // 2**20} MB limit")


def _read_text(
    data: bytes, origin: str, fields: Mapping[str, str], source: str | None
) -> Iterator[RawDocument | IngestProblem]:
    _check_size(data, MAX_DOCUMENT_BYTES, "document")
    text = decode_text(data)
    if not text.strip():
        raise ReadError("empty file")
    yield RawDocument(origin=origin, format="text", text=text, source=source)


def _read_html(
    data: bytes, origin: str, fields: Mapping[str, str], source: str | None
) -> Iterator[RawDocument | IngestProblem]:
    _check_size(data, MAX_DOCUMENT_BYTES, "page")
    html = decode_text(data)
    if not html.strip():
        raise ReadError("empty file")
    yield RawDocument(origin=origin, format="html", html=html, source=source)


def _lookup(record: Mapping[str, Any], name: str) -> Any:
    """Field ``name`` of a record; dotted names reach into nested objects."""
    cur: Any = record
    for part in name.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 (or a POSIX timestamp) to a naive UTC datetime; ValueError if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    s = value.strip()
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        from dateutil import parser

        try:
            dt = parser.parse(s)
        except (ValueError, OverflowError):
            raise ValueError(f"unreadable date {value!r}") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def record_to_document(
    record: Any, origin: str, fields: Mapping[str, str], source: str | None
) -> RawDocument | IngestProblem:
    """One JSON object to a RawDocument, or a problem saying what is wrong with it."""
    if not isinstance(record, Mapping):
        return IngestProblem(origin, f"expected a JSON object, got {type(record).__name__}")
    values: dict[str, Any] = {}
    for name in JSON_FIELDS:
        values[name] = _lookup(record, fields.get(name, name))
    for name in ("id", "url", "title", "text", "html", "source", "lang", "author"):
        v = values[name]
        if v is not None and not isinstance(v, str):
            if name == "id" and isinstance(v, int) and not isinstance(v, bool):
                values[name] = str(v)
            else:
                return IngestProblem(origin, f"field {fields.get(name, name)!r} must be a string")
    text, html = values["text"], values["html"]
    for name, body in (("text", text), ("html", html)):
        if body is not None and len(body) > MAX_DOCUMENT_BYTES:
            return IngestProblem(origin, f"field {fields.get(name, name)!r} is {len(body) / 2**20:.0f} MB, "
                                         f"over the {MAX_DOCUMENT_BYTES // 2**20} MB limit")
    if not (text and text.strip()) and not (html and html.strip()):
        wanted = " or ".join(repr(fields.get(n, n)) for n in ("text", "html"))
        return IngestProblem(origin, f"record has no {wanted} (or it is empty)")
    try:
        published = parse_datetime(values["published"])
    except ValueError as exc:
        return IngestProblem(origin, f"field {fields.get('published', 'published')!r}: {exc}")
    known = {fields.get(n, n).split(".")[0] for n in JSON_FIELDS}
    extra = {k: v for k, v in record.items() if k not in known and isinstance(v, str)}
    return RawDocument(
        origin=origin,
        format="jsonl",
        text=text if text and text.strip() else None,
        html=html if not (text and text.strip()) else None,
        id=values["id"] or None,
        url=values["url"] or None,
        title=values["title"] or None,
        source=values["source"] or source,
        published=published,
        lang=values["lang"] or None,
        author=values["author"] or None,
        extra=extra,
    )


# json.loads recurses once per nesting level: 100,000 "[" raised RecursionError and
# stopped the whole file (found by the hostile-input tests).
_TOO_DEEP = "JSON nested too deeply to read"


def _read_jsonl(
    data: bytes, origin: str, fields: Mapping[str, str], source: str | None
) -> Iterator[RawDocument | IngestProblem]:
    _check_size(data, MAX_FEED_BYTES, "file")
    try:
        # Valid UTF-8 is read line by line even with a NUL in it: only that line is bad
        # (decode_text would refuse the whole file as binary and lose the good lines).
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = decode_text(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ReadError("empty file")
    stripped = text.lstrip()
    if stripped.startswith("["):
        # A JSON array of records: one parse, then per-record checks.
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ReadError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise ReadError(_TOO_DEEP) from None
        for i, rec in enumerate(records):
            yield record_to_document(rec, f"{origin}#record={i}", fields, source)
        return
    lines = text.splitlines()
    if len(lines) > 1 and lines[0].strip() == "{":
        # One pretty-printed object spread over several lines.
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ReadError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise ReadError(_TOO_DEEP) from None
        yield record_to_document(whole, origin, fields, source)
        return
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{origin}#line={lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            yield IngestProblem(where, f"invalid JSON at column {exc.colno}: {exc.msg}")
            continue
        except RecursionError:
            yield IngestProblem(where, _TOO_DEEP)
            continue
        yield record_to_document(rec, where, fields, source)


# feedparser handles about 10,000 tags or entities a second (its sanitiser is pure
# Python), whatever their nesting: 400,000 is some 40 s, and four times a big real
# feed (1,000 full-text entries). Counted before parsing, so a 64 MB feed of tags
# is refused at once instead of taking many minutes.
MAX_FEED_MARKUP = 400_000


def _feed_datetime(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return datetime(*t[:6])
    return None


def _read_feed(
    data: bytes, origin: str, fields: Mapping[str, str], source: str | None
) -> Iterator[RawDocument | IngestProblem]:
    import feedparser

    _check_size(data, MAX_FEED_BYTES, "file")
    if not data.strip():
        raise ReadError("empty file")
    markup = data.count(b"<") + data.count(b"&")
    if markup > MAX_FEED_MARKUP:
        raise ReadError(f"feed has {markup:,} tags and entities, over the {MAX_FEED_MARKUP:,} limit")
    try:
        parsed = feedparser.parse(data)
    except Exception as exc:  # noqa: BLE001 - feedparser raises what its decoders raise
        # e.g. ValueError "embedded null character" for a NUL in the declared encoding
        # (found by fuzzing, tests/fuzz_corpus/feed/)
        raise ReadError(f"not a readable feed: {type(exc).__name__}: {exc}") from None
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            raise ReadError(f"not a readable feed: {parsed.get('bozo_exception')}")
        raise ReadError("feed has no entries")
    feed_title = (parsed.get("feed") or {}).get("title")
    for i, entry in enumerate(entries):
        where = f"{origin}#entry={i}"
        content = ""
        if entry.get("content"):
            content = "\n".join(c.get("value", "") for c in entry["content"])
        if not content.strip():
            content = entry.get("summary", "") or ""
        if not content.strip():
            yield IngestProblem(where, "entry has neither content nor summary")
            continue
        if len(content) > MAX_DOCUMENT_BYTES:
            yield IngestProblem(where, f"entry content over the {MAX_DOCUMENT_BYTES // 2**20} MB limit")
            continue
        # The original publisher (RSS <source>, Atom source/title) is the outlet.
        publisher = (entry.get("source") or {}).get("title")
        yield RawDocument(
            origin=where,
            format="feed",
            html=content,
            url=entry.get("link"),
            title=entry.get("title"),
            source=publisher or source or feed_title,
            published=_feed_datetime(entry),
            author=entry.get("author"),
            lang=(parsed.get("feed") or {}).get("language"),
            extra={k: v for k, v in (("guid", entry.get("id")), ("feed", feed_title),
                                     ("publisher", publisher)) if v},
        )


def _read_warc(
    data: bytes | BinaryIO, origin: str, fields: Mapping[str, str], source: str | None
) -> Iterator[RawDocument | IngestProblem]:
    """Response records of a WARC (bytes, or a file streamed record by record).

    A record over the size limit is refused after reading at most the limit; skipping
    the rest of it means inflating it (a gzip bomb costs about 2 s per GB, in bounded
    memory), so the records after it are still read."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    valid = 0
    index = -1
    try:
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        for index, record in enumerate(ArchiveIterator(stream)):
            if not record.rec_headers.get_header("WARC-Type"):
                raise ReadError(f"record {index} has no WARC-Type header: not a WARC file?")
            valid += 1
            if record.rec_type != "response":
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI")
            where = f"{origin}#record={index}" + (f" <{uri}>" if uri else "")
            http = record.http_headers
            ctype = (http.get_header("Content-Type") if http else "") or ""
            if http is None or ("html" not in ctype.lower() and ctype):
                continue
            status = http.get_statuscode() if http else "200"
            if status and not str(status).startswith("2"):
                continue
            try:
                body = record.content_stream().read(MAX_DOCUMENT_BYTES + 1)
            except Exception as exc:  # noqa: BLE001 - zlib/chunking errors vary by library
                yield IngestProblem(where, f"unreadable record body: {exc}")
                continue
            # warcio stops quietly at the end of the data; a block shorter than its
            # declared Content-Length means the file was cut off inside this record.
            if getattr(record.raw_stream, "limit", 0) > 0 and len(body) <= MAX_DOCUMENT_BYTES:
                yield IngestProblem(where, "record truncated: the file ends inside it")
                continue
            if len(body) > MAX_DOCUMENT_BYTES:
                yield IngestProblem(where, f"page over the {MAX_DOCUMENT_BYTES // 2**20} MB limit")
                continue
            try:
                html = decode_text(body)
            except ReadError as exc:
                yield IngestProblem(where, str(exc))
                continue
            if not html.strip():
                yield IngestProblem(where, "empty response body")
                continue
            try:
                published = parse_datetime(record.rec_headers.get_header("WARC-Date"))
            except ValueError:
                published = None
            yield RawDocument(
                origin=where, format="warc", html=html, url=uri, source=source,
                published=published,
            )
    except ArchiveLoadFailed as exc:
        raise ReadError(f"not a readable WARC file after record {index}: {exc}") from None
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - warcio fails on corrupt headers in many ways
        # OSError, EOFError, ValueError, and AttributeError for a response record without
        # a WARC-Target-URI (found by fuzzing, tests/fuzz_corpus/warc/)
        raise ReadError(f"WARC data truncated or corrupt after record {index}: "
                        f"{type(exc).__name__}: {exc}") from None
    if valid == 0:
        raise ReadError("no WARC records found")


_READERS: dict[Format, _Reader] = {
    "text": _read_text,
    "html": _read_html,
    "jsonl": _read_jsonl,
    "feed": _read_feed,
    "warc": _read_warc,
}
