"""Streaming ingest: watch folders and feed files, ingest what appears or changes.

File events come from watchfiles (inotify on Linux, polling where events do not
arrive, such as network mounts). Each batch of changes is one ``ingest`` call
with a story index kept in memory for the whole run and saved after each
batch, so a long watch neither reloads the index per file nor loses more than
one batch if it is killed. Ingest is idempotent, so a feed file rewritten with
one more entry stores one more article, and a file ingested half-written (its
last record cut short is reported) is completed when it changes again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .ingest import IngestReport, ingest
from .records import Format
from .store import Store
from .storybook import StoryBook

__all__ = ["WatchSummary", "watch"]

log = logging.getLogger(__name__)

# Editors' and downloaders' temporary files: the finished file arrives by rename.
_TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".download", ".swp", "~")


@dataclass
class WatchSummary:
    """What a watch did until it stopped."""

    rounds: int = 0
    inserted: int = 0
    updated: int = 0
    problems: int = 0
    reports: list[IngestReport] = field(default_factory=list, repr=False)


def _wanted(path: str) -> bool:
    name = Path(path).name
    return not name.startswith(".") and not name.endswith(_TEMP_SUFFIXES)


def _files(path: Path) -> list[str]:
    """A changed file, or the wanted files under a folder that appeared (polling
    also reports a folder whose contents changed)."""
    if path.is_file():
        return [str(path)]
    return [str(f) for f in path.rglob("*") if f.is_file() and _wanted(str(f))
            and not any(part.startswith(".") for part in f.relative_to(path).parts)]


def watch(
    store: Store,
    targets: Iterable[str | Path],
    *,
    format: Format | None = None,
    fields: Mapping[str, str] | None = None,
    source: str | None = None,
    stop: threading.Event | None = None,
    on_report: Callable[[list[str], IngestReport], None] | None = None,
    initial: bool = True,
    force_polling: bool | None = None,
    debounce_ms: int = 1600,
) -> WatchSummary:
    """Ingest everything under ``targets`` (folders, recursively, or single files
    such as a feed that is rewritten in place), then every file that appears or
    changes, until ``stop`` is set (or Ctrl-C). Returns what was done.

    ``initial`` first ingests what is already there (files that arrived while
    nothing was watching). ``on_report(paths, report)`` is called after each batch.
    """
    import watchfiles  # imported here: only `watch` needs it

    paths = [Path(t) for t in targets]
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder to watch")
    book = StoryBook(store)
    summary = WatchSummary()

    def run(batch: list[str]) -> None:
        report = ingest(store, batch, format=format, fields=fields, source=source, storybook=book)
        book.save()
        summary.rounds += 1
        summary.inserted += report.counts.inserted
        summary.updated += report.counts.updated
        summary.problems += len(report.problems)
        summary.reports.append(report)
        if on_report:
            on_report(batch, report)

    watched_files = {str(p.resolve()) for p in paths if p.is_file()}

    def accept(change: watchfiles.Change, path: str) -> bool:
        if change == watchfiles.Change.deleted:
            return False  # a deleted file takes nothing out of the store
        return str(Path(path).resolve()) in watched_files or _wanted(path)

    # Watch the folder of a single file: editors and downloaders replace a file
    # by renaming a new one over it, which a watch on the old inode misses.
    roots = sorted({str(p if p.is_dir() else p.parent) for p in paths})
    dirs = [p.resolve() for p in paths if p.is_dir()]
    started = False
    try:
        # yield_on_timeout: the first (possibly empty) yield says the watcher is
        # running; the initial ingest runs then, so a file that arrives while it
        # runs is caught by the watcher instead of falling between the two.
        for changes in watchfiles.watch(*roots, watch_filter=accept, stop_event=stop,
                                        debounce=debounce_ms, force_polling=force_polling,
                                        raise_interrupt=False, yield_on_timeout=True,
                                        rust_timeout=500):
            if not started:
                started = True
                if initial:
                    run([str(p) for p in paths])
            # A folder that appears is read whole: files written into it before its
            # own watch was set up send no event.
            batch = sorted({
                path for _, path in changes
                if (Path(path).is_file() or Path(path).is_dir()) and (
                    str(Path(path).resolve()) in watched_files
                    or any(Path(path).resolve().is_relative_to(d) for d in dirs))
            })
            batch = sorted({f for path in batch for f in _files(Path(path))})
            if batch:
                run(batch)
    except KeyboardInterrupt:
        # Ctrl-C during an ingest: what was stored is kept (each batch of records
        # commits on its own) and articles not yet placed are placed by the next
        # run's catch-up; stopping is not an error.
        log.info("watch stopped during an ingest")
    finally:
        book.save()
    return summary
