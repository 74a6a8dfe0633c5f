"""Ingest: raw documents -> clean articles -> store.

``to_article`` is pure (a RawDocument in, an Article out); ``ingest`` does the I/O:
it reads files, stores articles in batches and records finished inputs so an
interrupted run resumes without redoing them.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cleaning import TextTooLarge, clean_text, normalize_line
from .copies import CopyIndex, CopySketch
from .embeddings import COMPONENT as EMBEDDING_COMPONENT
from .extraction import ExtractionError, extract_html
from .metadata import (
    article_id,
    content_hash,
    detect_language,
    find_dateline,
    find_stamp_date,
    find_text_date,
    outlet_from_attribution,
    outlet_from_title_line,
    outlet_from_url,
)
from .readers import iter_inputs, read
from .records import Article, Format, IngestProblem, RawDocument
from .store import SqlBuckets, Store, WriteCounts
from .stories import TermCounts
from .storybook import StoryBook

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# A short line on this many articles of one outlet is that outlet's boilerplate
# ("Follow us on Facebook", a newsletter prompt). Five keeps a phrase that two or
# three stories happen to share.
OUTLET_MIN_PAGES = 5
OUTLET_LINE_MAX_CHARS = 200


def outlet_line_keys(text: str) -> list[str]:
    """The normalised short lines of a scraped text, as the outlet memory counts them."""
    keys = []
    for line in text.splitlines():
        if 0 < len(line.strip()) <= OUTLET_LINE_MAX_CHARS:
            key = normalize_line(line)
            if key:
                keys.append(key[:300])
    return keys


class ArticleError(ValueError):
    """A record that was read but holds no usable article."""


def to_article(
    raw: RawDocument,
    *,
    outlet_boilerplate: frozenset[str] = frozenset(),
    line_df: Mapping[str, int] | None = None,
) -> Article:
    """Clean one raw document and fill in its metadata. Raises ArticleError.

    ``outlet_boilerplate``: normalised lines known to repeat across the outlet's pages;
    ``line_df``: on how many of the outlet's pages each line of this text occurs
    (a feature of the line classifier).
    """
    try:
        return _to_article(raw, outlet_boilerplate, line_df)
    except TextTooLarge as exc:
        raise ArticleError(f"too large to clean: {exc}") from None


def _to_article(raw: RawDocument, outlet_boilerplate: frozenset[str],
                line_df: Mapping[str, int] | None) -> Article:
    title = raw.title
    author, sitename, url, published, lang = raw.author, None, raw.url, raw.published, raw.lang
    if raw.html is not None:
        try:
            ext = extract_html(raw.html, url=raw.url, fragment=raw.format == "feed")
        except ExtractionError as exc:
            raise ArticleError(str(exc)) from None
        title = title or ext.title
        author = author or ext.author
        sitename = ext.sitename
        url = url or ext.url
        # A WARC date is when the page was crawled; the page's own date is better.
        published = (ext.published or published) if raw.format == "warc" else (published or ext.published)
        lang = lang or ext.lang
        cleaned = clean_text(ext.text, title=title, extracted=True)
    elif raw.text is not None:
        cleaned = clean_text(raw.text, title=title, outlet_boilerplate=outlet_boilerplate,
                             line_df=line_df)
    else:
        raise ArticleError("record has no text")
    text = cleaned.text.strip()
    if not text:
        raise ArticleError("nothing is left after cleaning: the input is all boilerplate")
    title = title or cleaned.title
    source = raw.source or sitename or outlet_from_url(url)
    if source is None:
        for removal in cleaned.removed:
            if removal.reason == "attribution-spam":
                source = outlet_from_attribution(removal.text)
                if source:
                    break
    if source is None and cleaned.title:
        # the page's <title> line, paired with the headline by cleaning, names the site
        for removal in cleaned.removed:
            if removal.reason == "repeated-headline" and removal.text != cleaned.title:
                source = outlet_from_title_line(removal.text, cleaned.title)
                if source:
                    break
    if published is None:
        published = find_stamp_date(text) or find_text_date(raw.text or text)
    return Article(
        id=raw_id(raw),
        text=text,
        title=title,
        source=source,
        url=url,
        published=published,
        lang=lang or detect_language(text),
        author=author,
        format=raw.format,
        origin=raw.origin,
        content_hash=content_hash(text),
        removed=cleaned.removed,
        dateline=find_dateline(text),
        raw_hash=raw_hash(raw),
        feed_source=raw.extra.get("publisher") if raw.format == "feed" else None,
    )


def raw_id(raw: RawDocument) -> str:
    """The article id: the input's own id, else a hash of its URL and body."""
    return raw.id or article_id(raw.url, raw.text if raw.text is not None else raw.html or "")


def raw_hash(raw: RawDocument) -> str:
    """Everything the input says about an article; equal hashes mean nothing to redo."""
    h = hashlib.sha256()
    for value in (raw.format, raw.text, raw.html, raw.id, raw.url, raw.title, raw.source,
                  raw.published.isoformat() if raw.published else None, raw.lang, raw.author):
        h.update(b"\x01" if value is None else b"\x02" + value.encode())
    return h.hexdigest()


@dataclass
class IngestReport:
    """What an ingest run did."""

    inputs: int = 0
    skipped_inputs: int = 0  # already fully ingested earlier
    counts: WriteCounts = field(default_factory=WriteCounts)
    problems: list[IngestProblem] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    copies: int = 0  # new articles found to copy a stored (or same-batch) one
    stories_placed: int = 0
    copy_index: CopyIndex | None = field(default=None, repr=False)
    storybook: StoryBook | None = field(default=None, repr=False)
    # stored articles waiting to be embedded and placed: one article per HTML or text
    # file would otherwise mean one embedding call per file (twice as slow here)
    unplaced: list[Article] = field(default_factory=list, repr=False)
    # their words counted already (by a batch run's stages), by id
    unplaced_counts: dict[str, TermCounts] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems


class _OutletLines:
    """The outlet line counts of one batch, held back to be written with its articles
    (``Store.add_articles``) and read meanwhile as if written: each page still sees the
    pages before it, and a crash cannot count a page whose article was not stored."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: dict[str, Counter[str]] = {}

    def add(self, source: str, keys: Iterable[str]) -> None:
        self.pending.setdefault(source, Counter()).update(set(keys))

    def counts(self, source: str, lines: Iterable[str]) -> dict[str, int]:
        lines = set(lines)
        out = self.store.outlet_line_counts(source, lines)
        for ln, n in self.pending.get(source, {}).items():
            if ln in lines:
                out[ln] = out.get(ln, 0) + n
        return out

    def boilerplate(self, source: str, *, min_pages: int) -> frozenset[str]:
        stored = self.store.outlet_boilerplate(source, min_pages=min_pages)
        pending = self.pending.get(source)
        if not pending:
            return stored
        return stored | {ln for ln, n in self.counts(source, pending).items() if n >= min_pages}


def _store_batch(store: Store, docs: list[RawDocument], report: IngestReport) -> tuple[int, int]:
    """Clean and store a batch, skipping inputs already stored unchanged.

    Returns (articles, problems) and records both in ``report``.
    """
    if not docs:
        return 0, 0
    known = store.raw_hashes(raw_id(d) for d in docs)
    # Stored by a run killed before it folded them as copies: folded now, in their
    # place in the input, as the uninterrupted run would have.
    refold = store.get_articles(store.unfolded(list(known))) if known else {}
    batch: list[Article] = []
    fold: list[Article] = []  # what the copy index gets: the batch and ``refold``, in input order
    lines = _OutletLines(store)
    memory: dict[str, frozenset[str]] = {}
    ok = bad = 0
    for doc in docs:
        aid = raw_id(doc)
        if known.get(aid) == raw_hash(doc):
            # Unchanged input: nothing to clean or write again.
            report.counts += WriteCounts(unchanged=1)
            report.article_ids.append(aid)
            if aid in refold:
                fold.append(refold.pop(aid))
            ok += 1
            continue
        boilerplate: frozenset[str] = frozenset()
        line_df: dict[str, int] | None = None
        if doc.text is not None and doc.source:
            if doc.source not in memory:
                memory[doc.source] = lines.boilerplate(doc.source, min_pages=OUTLET_MIN_PAGES)
            boilerplate = memory[doc.source]
            line_df = _line_df(store, doc.source, doc.text, lines)
        try:
            article = to_article(doc, outlet_boilerplate=boilerplate, line_df=line_df)
        except ArticleError as exc:
            report.problems.append(IngestProblem(doc.origin, str(exc)))
            bad += 1
            continue
        except Exception as exc:  # noqa: BLE001 - one record must never stop the run
            log.exception("unexpected failure on %s", doc.origin)
            report.problems.append(IngestProblem(doc.origin, f"internal error: {type(exc).__name__}: {exc}"))
            bad += 1
            continue
        batch.append(article)
        fold.append(article)
        if doc.text is not None and article.source and aid not in known:
            lines.add(article.source, outlet_line_keys(doc.text))
            memory.pop(article.source, None)  # the next page of this outlet sees the new counts
        report.article_ids.append(aid)
        ok += 1
    report.counts += store.add_articles(batch, outlet_lines=lines.pending)
    if fold:
        changed = [a.id for a in fold if a.id in known]  # updated, or stored but never folded
        _fold_copies(store, fold, changed=changed, report=report)
    if batch:
        if report.storybook is not None:
            _queue(report, batch)
            if len(report.unplaced) >= BATCH_SIZE:
                _place_unplaced(report)
    return ok, bad


def store_cleaned(
    store: Store,
    batch: Sequence[Article],
    report: IngestReport,
    *,
    sketches: Mapping[str, CopySketch] | None = None,
    vectors: Mapping[str, np.ndarray] | None = None,
    outlet_lines: Mapping[str, Sequence[str]] | None = None,
    component: str = EMBEDDING_COMPONENT,
    word_counts: Mapping[str, TermCounts] | None = None,
) -> None:
    """Store articles cleaned elsewhere (a batch run) as ``ingest`` stores its own.

    Unchanged articles are skipped; new and changed ones are written, folded as
    copies (with their precomputed ``sketches``), given their precomputed
    embeddings (``vectors``, which story placement then reuses) and queued for
    story placement when ``report.storybook`` is set. ``outlet_lines``: the
    short-line keys of each plain-text input, counted into the outlet memory;
    ``component``: the embedding component that computed ``vectors``; ``word_counts``:
    precomputed ``stories.term_counts`` of the articles, which placement then reuses.
    """
    known = store.raw_hashes(a.id for a in batch)
    fresh: list[Article] = []  # new or changed since stored
    same: list[str] = []  # stored unchanged
    for a in batch:
        report.article_ids.append(a.id)
        if known.get(a.id) == a.raw_hash:
            report.counts += WriteCounts(unchanged=1)
            same.append(a.id)
        else:
            fresh.append(a)
    # Stored by a load killed before it folded them as copies and saved their vectors:
    # finished now, in their place in the input, as the uninterrupted load would have
    # (without this a resumed batch left them unfolded for good: no copy keys, so no later
    # copy of them was ever found). Their story places come from the catch-up queue.
    unfolded = set(store.unfolded(same)) if same else set()
    line_counts: dict[str, Counter[str]] = {}
    for a in fresh:
        lines = (outlet_lines or {}).get(a.id)
        if lines and a.source and a.id not in known:
            line_counts.setdefault(a.source, Counter()).update(set(lines))
    # The outlet line counts go in the articles' own transaction: counted apart, a crash
    # between the two writes made the rerun count those pages a second time.
    report.counts += store.add_articles(fresh, outlet_lines=line_counts)
    fresh_ids = {a.id for a in fresh}
    fold = [a for a in batch if a.id in fresh_ids or a.id in unfolded]
    if not fold:
        return
    _fold_copies(store, fold, changed=[a.id for a in fold if a.id in known], report=report,
                 sketches=sketches)
    if vectors:
        vectorless = unfolded - store.embedded_ids(list(unfolded)) if unfolded else set()
        store.save_embeddings(component, {a.id: vectors[a.id] for a in fold
                                          if a.id in vectors and (a.id in fresh_ids or a.id in vectorless)})
    if not fresh:
        return
    if report.storybook is not None:
        _queue(report, fresh, word_counts)
        if len(report.unplaced) >= BATCH_SIZE:
            _place_unplaced(report)


def finish(report: IngestReport, *, save: bool = True) -> None:
    """Place what is still queued and save the story index (the end of a run)."""
    _place_unplaced(report)
    if report.storybook is not None and save:
        report.storybook.save()


def _queue(report: IngestReport, articles: Iterable[Article],
           word_counts: Mapping[str, TermCounts] | None = None) -> None:
    """Queue stored articles for placement, with their word counts where known (an id
    queued again without them loses the old ones: they were of its earlier text)."""
    for a in articles:
        report.unplaced.append(a)
        c = word_counts.get(a.id) if word_counts else None
        if c is not None:
            report.unplaced_counts[a.id] = c
        else:
            report.unplaced_counts.pop(a.id, None)


def queue_missing(store: Store, report: IngestReport) -> None:
    """Queue the stored articles the story index does not know (a run killed between index
    saves) with the run's own articles instead of placing them first: a rerun after a crash
    then places them in the same call, in the same order, as the run that died would have
    (story ids are their founding article's, so order matters)."""
    assert report.storybook is not None
    missing = report.storybook.missing()
    for i in range(0, len(missing), BATCH_SIZE):
        _queue(report, store.get_articles(missing[i:i + BATCH_SIZE]).values())
        if len(report.unplaced) >= BATCH_SIZE:
            _place_unplaced(report)
    report.storybook.caught_up = True


def _place_unplaced(report: IngestReport) -> None:
    # A crash before this point loses nothing: the next ingest's catch-up places
    # stored articles that the story index has not seen.
    if report.storybook is not None and report.unplaced:
        # once each (caught up after a crash and changed again by this run: the latest)
        batch = list({a.id: a for a in report.unplaced}.values())
        placed = report.storybook.place(batch, word_counts=report.unplaced_counts)
        report.stories_placed += len(placed)
    report.unplaced = []
    report.unplaced_counts = {}


# Line page-frequencies mean something once an outlet has this many stored pages.
LINE_DF_MIN_PAGES = 10


def _line_df(store: Store, source: str, text: str,
             lines: _OutletLines | None = None) -> dict[str, int] | None:
    """Page counts of this text's lines among the outlet's stored pages, this page included
    (as the classifier was trained: frequency within a corpus of pages)."""
    if store.count_source_articles(source) < LINE_DF_MIN_PAGES:
        return None
    keys = {normalize_line(line) for line in text.splitlines()} - {""}
    wanted = [k[:300] for k in keys]
    stored = lines.counts(source, wanted) if lines is not None else store.outlet_line_counts(source, wanted)
    return {k: stored.get(k[:300], 0) + 1 for k in keys}


def _fold_copies(store: Store, batch: Sequence[Article], *, changed: list[str], report: IngestReport,
                 sketches: Mapping[str, CopySketch] | None = None) -> None:
    """Place new and changed articles in the copy index and record what they copy."""
    store.forget_copies(changed)
    if report.copy_index is None:
        report.copy_index = CopyIndex(buckets=store.copy_buckets(), fetch=store.copy_records)
    index = report.copy_index
    feed_sources = {a.id: a.feed_source for a in batch if a.feed_source}
    matches = index.place_batch(batch, feed_sources=feed_sources, sketches=sketches)
    buckets = index.buckets
    found = [m for m in matches if m is not None]
    # Keys and matches in one transaction: an article has keys only once its copies are saved.
    store.save_copy_matches(found, keys=buckets if isinstance(buckets, SqlBuckets) else None)
    report.copies += len(found)


ProgressFn = Callable[[str, int], None]  # (origin of the input just finished, articles in it)
BatchFn = Callable[[str, int], None]  # (origin being read, articles stored by the batch just done)


def _digest(path: str | Path, options: str) -> str | None:
    """Identity of an input for resume: its bytes plus the options it was read with."""
    if str(path) == "-":
        return None
    h = hashlib.sha256(options.encode())
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def ingest(
    store: Store,
    paths: Iterable[str | Path],
    *,
    format: Format | None = None,
    fields: Mapping[str, str] | None = None,
    source: str | None = None,
    progress: ProgressFn | None = None,
    stories: bool = True,
    on_batch: BatchFn | None = None,
    storybook: StoryBook | None = None,
) -> IngestReport:
    """Read every input, clean each article, store it, fold copies and place it in a story.

    Bad files and records are reported in ``IngestReport.problems`` and never stop
    the others. Ingesting the same input twice changes nothing. ``stories=False``
    skips story placement (no embedding model needed); a later ingest with
    stories on places every article the story index has not seen. ``progress`` is
    called when an input is finished, ``on_batch`` after every stored batch (a
    single big JSONL or WARC file holds many batches).

    Loading and saving the story index costs time that grows with the store
    (about 1.2 s at 4,500 articles), so a caller that ingests many small inputs
    one call at a time passes one ``StoryBook`` to every call and saves it once
    at the end (``storybook.save()``); it is still saved every 2,000 placements
    or every tenth of the index, and what a crash loses is placed again by the next ingest.
    """
    report = IngestReport()
    if stories:
        report.storybook = storybook if storybook is not None else StoryBook(store)
        if not report.storybook.caught_up:  # once per book: a shared one pays it on its first call
            queue_missing(store, report)
    options = repr((format, sorted((fields or {}).items()), source))
    for path in iter_inputs(paths):
        report.inputs += 1
        digest = _digest(path, options)
        if digest is not None and store.input_done(digest):
            report.skipped_inputs += 1
            if progress:
                progress(str(path), 0)
            continue
        n_articles, n_problems = 0, 0
        pending: list[RawDocument] = []

        for item in read(path, format=format, fields=fields, source=source):
            if isinstance(item, IngestProblem):
                report.problems.append(item)
                n_problems += 1
                continue
            pending.append(item)
            if len(pending) >= BATCH_SIZE:
                ok, bad = _store_batch(store, pending, report)
                n_articles, n_problems, pending = n_articles + ok, n_problems + bad, []
                if on_batch:
                    on_batch(str(path), ok)
        ok, bad = _store_batch(store, pending, report)
        n_articles, n_problems = n_articles + ok, n_problems + bad
        if on_batch and ok:
            on_batch(str(path), ok)
        if digest is not None:
            store.mark_input_done(digest, str(path), n_articles, n_problems)
        if progress:
            progress(str(path), n_articles)
    _place_unplaced(report)
    if report.storybook is not None and storybook is None:
        report.storybook.save()
    return report
