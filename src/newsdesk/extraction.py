"""Article body and metadata from HTML, with trafilatura."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .readers import parse_datetime


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None
    author: str | None
    sitename: str | None
    url: str | None
    published: datetime | None
    lang: str | None


class ExtractionError(ValueError):
    """No article text could be found in a page."""


# trafilatura takes about a second per MB of dense markup and its memory grows with
# the tree; a bigger page is refused before parsing (readers refuse bigger files).
MAX_HTML_CHARS = 10 * 2**20


def extract_html(html: str, *, url: str | None = None, fragment: bool = False) -> Extracted:
    """The main text of a page and its metadata.

    ``fragment`` is for feed entry content: a bare snippet of markup where
    boilerplate detection would throw away short but real text, so all of its
    text is kept.
    """
    if len(html) > MAX_HTML_CHARS:
        raise ExtractionError(f"page is {len(html) / 2**20:.0f} MB of markup, over the "
                              f"{MAX_HTML_CHARS // 2**20} MB limit")
    import trafilatura
    from trafilatura.settings import Document

    if fragment:
        wrapped = f"<html><body><article>{html}</article></body></html>"
        text = trafilatura.extract(wrapped, favor_recall=True, include_tables=True) or ""
        if not text.strip():
            text = trafilatura.html2txt(wrapped, clean=True) or ""
        if not text.strip():
            raise ExtractionError("entry content has no text")
        return Extracted(text.strip(), None, None, None, url, None, None)

    # fast: no second opinion from trafilatura's readability and jusText fallbacks. On
    # scrapinghub_aeb token F1 0.963 -> 0.965 and 24.4 -> 20.8 ms a page (bench_html.py,
    # 2026-12-06); a page the main extractor finds nothing in still gets html2txt below.
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        fast=True,
    )
    # bare_extraction returns a Document (dicts only with as_dict=True, not used here).
    text = (doc.text if isinstance(doc, Document) else None) or ""
    if not isinstance(doc, Document) or not text.strip():
        # trafilatura gives up on very short pages; its plain-text fallback keeps them.
        text = trafilatura.html2txt(html, clean=True) or ""
        if not text.strip():
            raise ExtractionError("no article text found in the HTML")
        return Extracted(text.strip(), None, None, None, url, None, None)
    try:
        published = parse_datetime(doc.date) if doc.date else None
    except ValueError:
        published = None
    return Extracted(
        text=text,
        title=doc.title or None,
        author=doc.author or None,
        sitename=doc.sitename or None,
        url=doc.url or url,
        published=published,
        lang=doc.language or None,
    )
