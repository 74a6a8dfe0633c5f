"""A long-running newsdesk over one store, as the HTTP server runs it.

Three things a one-shot CLI call does not need:

- one writer at a time: ingest jobs, merges and splits share one story index
  (``StoryBook``), loaded once and reloaded only when another process saved
  a newer one;
- ingest as background jobs with progress, from files saved in the data
  folder first (so a crash loses nothing: the next start ingests what was
  saved but not finished, and ingest skips what was);
- accounts prepared in the background: a story page shows the stored account
  at once (marked stale when its inputs changed) instead of waiting seconds
  for spaCy.
"""

from __future__ import annotations

import io
import json
import logging
import queue
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO, Literal

from . import accountbook, api
from .ingest import ingest
from .records import IngestProblem
from .store import Store
from .storybook import StoryBook

log = logging.getLogger(__name__)

__all__ = ["AccountView", "Desk", "Job", "safe_filename"]

MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # default; a news page is kilobytes, a WARC can be large
JobStatus = Literal["queued", "running", "done", "failed"]
AccountState = Literal["fresh", "stale", "preparing", "failed"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


COPY_BLOCK = 1 << 20  # bytes per read when an upload is copied to the data folder


def _remaining(f: BinaryIO) -> int:
    """Bytes left to read in a seekable file object (its position is kept)."""
    here = f.tell()
    end = f.seek(0, io.SEEK_END)
    f.seek(here)
    return end - here


def safe_filename(name: str, fallback: str = "upload") -> str:
    """A client's file name reduced to a harmless base name: no folders (POSIX or
    Windows), no leading dots, only letters, digits, ``._-``, at most 120 characters.
    The extension survives, since ingest detects formats by it."""
    base = PureWindowsPath(PurePosixPath(name.replace("\x00", "")).name).name
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base)[-120:].lstrip("._")
    return base or fallback


@dataclass
class Job:
    """One ingest run submitted to the desk."""

    id: str
    files: list[str]
    status: JobStatus = "queued"
    inputs_done: int = 0
    articles: int = 0  # records stored so far (new or already there)
    new: int = 0
    skipped: int = 0  # files ingested before (same content): nothing to do
    problems: list[dict[str, str]] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    error: str | None = None
    created: str = field(default_factory=_now)
    finished: str | None = None
    done_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "files": [Path(f).name for f in self.files],
                "inputs": len(self.files), "inputs_done": self.inputs_done, "articles": self.articles,
                "new": self.new, "skipped": self.skipped, "problems": self.problems,
                "article_ids": self.article_ids, "error": self.error, "created": self.created,
                "finished": self.finished}


@dataclass(frozen=True)
class AccountView:
    """What a story page shows of an account: the data (None until the first one
    is ready) and whether it is fresh, stale (being refreshed), preparing or failed."""

    data: dict[str, Any] | None
    state: AccountState
    error: str | None = None


class Desk:
    """The store plus its writer, its ingest jobs and its account worker."""

    def __init__(self, store: Store, data_dir: str | Path, *, background: bool = True,
                 max_upload_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.store = store
        self.max_upload_bytes = max_upload_bytes
        self.data_dir = Path(data_dir).resolve()
        self.uploads = self.data_dir / "uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.background = background
        self._write = threading.RLock()  # ingest, merge, split: one at a time
        self._book: StoryBook | None = None
        self._book_stamp: object = None
        self._jobs: dict[str, Job] = {}
        self._job_queue: queue.Queue[Job | None] = queue.Queue()
        self._account_queue: queue.Queue[str | None] = queue.Queue()
        self._preparing: set[str] = set()
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()  # guards the dicts and sets above
        self._threads: list[threading.Thread] = []
        self._stopping = False

    # --- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the job and account workers, and ingest uploads a crash left unfinished."""
        workers: list[tuple[queue.Queue[Any], Callable[[Any], None], str]] = [
            (self._job_queue, self._run_job, "newsdesk-ingest"),
            (self._account_queue, self._prepare, "newsdesk-accounts")]
        for q, handle, name in workers:
            t = threading.Thread(target=self._serve_queue, args=(q, handle), name=name, daemon=True)
            t.start()
            self._threads.append(t)
        leftover = sorted(p for p in self.uploads.rglob("*") if p.is_file() and p.suffix != ".part")
        if leftover:
            # Ingest skips every file it finished before (by content digest), so this
            # redoes only what was saved and not yet ingested when the server stopped.
            self._submit(leftover, job_id="resume-" + uuid.uuid4().hex[:8])

    def _serve_queue(self, q: queue.Queue[Any], handle: Callable[[Any], None]) -> None:
        """A worker: handle items in order until ``close`` puts None."""
        while True:
            item = q.get()
            if item is None or self._stopping:
                return
            handle(item)

    def close(self) -> None:
        self._stopping = True
        self._job_queue.put(None)
        self._account_queue.put(None)
        for t in self._threads:
            t.join(timeout=30)

    # --- ingest -----------------------------------------------------------------------
    def submit_files(self, files: Sequence[tuple[str, bytes | BinaryIO]]) -> Job:
        """Save uploaded files under the data folder, then ingest them in the background.

        Each file is its bytes or a binary file object open for reading (an upload's
        spooled temporary file), copied from its current position in blocks so that a
        large upload is never held in memory whole."""
        if not files:
            raise ValueError("no files to ingest")
        for name, data in files:  # all checked before anything is written
            size = len(data) if isinstance(data, bytes) else _remaining(data)
            if size > self.max_upload_bytes:
                raise ValueError(f"{name}: {size:,} bytes is over the "
                                 f"{self.max_upload_bytes:,}-byte limit")
        job_id = uuid.uuid4().hex[:12]
        folder = self.uploads / job_id
        folder.mkdir(parents=True)
        paths = []
        for i, (name, data) in enumerate(files):
            path = (folder / f"{i:04d}-{safe_filename(name)}").resolve()
            if not path.is_relative_to(folder):  # safe_filename makes this impossible; belt and braces
                raise ValueError(f"{name}: not a plain file name")
            tmp = path.with_name(path.name + ".part")
            if isinstance(data, bytes):
                tmp.write_bytes(data)
            else:
                with tmp.open("wb") as out:
                    shutil.copyfileobj(data, out, COPY_BLOCK)
            tmp.rename(path)  # never a half-written file for a resumed ingest to read
            paths.append(path)
        return self._submit(paths, job_id=job_id)

    def submit_records(self, records: Sequence[Mapping[str, Any]]) -> Job:
        """Ingest article records (the JSONL fields: id, url, title, text or html, source,
        published, lang) in the background, saved first as one JSONL file."""
        if not records:
            raise ValueError("no articles to ingest")
        lines = []
        for i, r in enumerate(records):
            if not isinstance(r, Mapping):
                raise ValueError(f"article {i}: expected an object, got {type(r).__name__}")
            lines.append(json.dumps(r, ensure_ascii=False))
        return self.submit_files([("articles.jsonl", ("\n".join(lines) + "\n").encode())])

    def _submit(self, paths: Sequence[Path], *, job_id: str) -> Job:
        job = Job(id=job_id, files=[str(p) for p in paths])
        with self._lock:
            self._jobs[job.id] = job
        if self.background:
            self._job_queue.put(job)
        else:
            self._run_job(job)
        return job

    def job(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def _run_job(self, job: Job) -> None:
        job.status = "running"

        def on_input(path: str, n: int) -> None:
            job.inputs_done += 1

        def on_batch(path: str, n: int) -> None:
            job.articles += n

        try:
            with self._write:
                book = self._storybook()
                report = ingest(self.store, job.files, progress=on_input, on_batch=on_batch,
                                storybook=book)
                book.save()
                self._book_stamp = self.store.story_state_stamp()
            job.new = report.counts.inserted + report.counts.updated
            job.skipped = report.skipped_inputs
            job.article_ids = list(dict.fromkeys(report.article_ids))
            job.problems = [_problem(p, self.uploads) for p in report.problems]
            job.status = "done"
        except Exception as exc:  # a job failing must not kill the worker
            log.exception("ingest job %s failed", job.id)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            self._book = None  # its state may be half-updated; reload from the store
        finally:
            job.finished = _now()
            job.done_event.set()

    def _storybook(self) -> StoryBook:
        """The shared story index, reloaded when another process saved one since ours."""
        stamp = self.store.story_state_stamp()
        if self._book is None or stamp != self._book_stamp:
            self._book = StoryBook(self.store)
            self._book_stamp = stamp
        return self._book

    # --- corrections ------------------------------------------------------------------
    def merge(self, into: str, other: str) -> str:
        with self._write:
            book = self._storybook()
            try:
                sid = api.merge_stories(self.store, into, other, storybook=book)
            except Exception:
                self._book = None
                raise
            self._book_stamp = self.store.story_state_stamp()
        self.prepare_account(sid)
        return sid

    def split(self, story_id: str, article_ids: Sequence[str]) -> str:
        with self._write:
            book = self._storybook()
            try:
                new = api.split_story(self.store, story_id, article_ids, storybook=book)
            except Exception:
                self._book = None
                raise
            self._book_stamp = self.store.story_state_stamp()
        return new

    # --- accounts ---------------------------------------------------------------------
    def account(self, story_id: str, *, wait: bool = False) -> AccountView | None:
        """The account of a story for display; None when there is no such story.
        A missing or stale one is queued for the account worker (or computed here
        with ``wait=True``)."""
        if wait or not self.background:
            data = accountbook.story_account(self.store, story_id)
            return AccountView(data, "fresh") if data is not None else None
        found = accountbook.cached_account(self.store, story_id)
        if found is None:
            return None
        data, fresh = found
        if fresh:
            return AccountView(data, "fresh")
        sid = self.store.resolve_story_id(story_id) or story_id
        with self._lock:
            error = self._failed.get(sid)
        if error is not None:
            return AccountView(data, "failed", error)
        self.prepare_account(sid)
        return AccountView(data, "stale" if data is not None else "preparing")

    def prepare_account(self, story_id: str) -> None:
        with self._lock:
            if story_id in self._preparing:
                return
            self._preparing.add(story_id)
            self._failed.pop(story_id, None)
        if self.background:
            self._account_queue.put(story_id)
        else:
            self._prepare(story_id)

    def _prepare(self, sid: str) -> None:
        try:
            accountbook.story_account(self.store, sid)
        except Exception as exc:
            log.exception("account of story %s failed", sid)
            with self._lock:
                self._failed[sid] = f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._preparing.discard(sid)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no job and no account is pending (tests, and a clean shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = bool(self._preparing) or any(j.status in ("queued", "running")
                                                    for j in self._jobs.values())
            if not busy:
                return True
            time.sleep(0.05)
        return False


def _problem(p: IngestProblem, uploads: Path) -> dict[str, str]:
    """A problem as the client sees it: its file named as uploaded (the server's
    folder and the ``0001-`` order prefix dropped), with the record part kept."""
    path, sep, where = p.origin.partition("#")
    if Path(path).is_relative_to(uploads):
        path = re.sub(r"^\d{4}-", "", Path(path).name)
    return {"origin": path + sep + where, "reason": p.reason}
