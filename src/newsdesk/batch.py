"""Batch mode: the ingest pipeline as stages over shards of input files, in Parquet.

Input files are grouped into shards (a few MB each, in sorted order). Each shard
goes through three stages, each a plain function that reads the previous
stage's Parquet file and writes its own under the output folder:

``articles``   read every record (``readers.read``) and clean it (``ingest.to_article``);
               bad files and records go to ``problems/<shard>.parquet``
``sketches``   copy-detection sketches (word count, shingle hashes, MinHash, anchors)
``embeddings`` all-MiniLM-L6-v2 vectors of title + lead, in the shard's order, and the
               words story placement weighs (``stories.term_counts``)

Where the stages run is an executor's business (``newsdesk.executors``: in
process, a process pool, or Ray Data); this module never imports Ray. A
manifest (``manifest.json``, replaced atomically after every finished shard)
records each finished output with the key of its inputs, so an interrupted run
redoes only unfinished shards. ``load`` then reads the shards in order into a
store, a fixed group of consecutive shards at a time: articles, copy groups (over
the whole result and the store's past, from the sketches), the embeddings as
computed, and story placement.

Every stage output depends only on its shard, so any executor gives the same
files; ``load`` is sequential and in shard order, its groups fixed by position,
so the store is the same too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .copies import DEFAULT_PARAMS, CopySketch, sketch
from .embeddings import COMPONENT as EMBEDDING_COMPONENT
from .embeddings import DIM, Embedder, component_of, default_backend, embedding_text
from .ingest import (
    ArticleError,
    IngestReport,
    finish,
    outlet_line_keys,
    queue_missing,
    store_cleaned,
    to_article,
)
from .readers import iter_inputs, read
from .records import Article, Format, IngestProblem, Removal
from .store import Store
from .stories import TERMS_VERSION, TermCounts, term_counts

log = logging.getLogger(__name__)
_T = TypeVar("_T")

__all__ = [
    "STAGES",
    "BatchOptions",
    "BatchReport",
    "Executor",
    "Loader",
    "Manifest",
    "Shard",
    "ShardWorker",
    "StageFileError",
    "StageResult",
    "articles_from_table",
    "load",
    "plan_shards",
    "run_batch",
]

VERSION = "newsdesk-batch/1"  # part of every shard key: a new layout redoes everything
STAGES = ("articles", "sketches", "embeddings")
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How inputs are read, cut into shards and loaded (the first three are part of every
    shard's key)."""

    format: Format | None = None
    fields: tuple[tuple[str, str], ...] = ()
    source: str | None = None
    shard_bytes: int = 4 << 20  # a shard closes once its files hold this many bytes...
    shard_files: int = 256  # ...or this many files
    load_shards: int = 4  # consecutive shards the driver stores as one batch (``LOAD_SHARDS``)

    def __post_init__(self) -> None:
        if self.shard_bytes < 1 or self.shard_files < 1 or self.load_shards < 1:
            raise ValueError("shard_bytes, shard_files and load_shards must be at least 1")

    def key(self) -> str:
        return json.dumps([VERSION, self.format, list(self.fields), self.source])


@dataclass(frozen=True, slots=True)
class Shard:
    """A group of input files processed together; ``key`` changes when any of them does."""

    name: str
    paths: tuple[str, ...]
    key: str


@dataclass(frozen=True, slots=True)
class StageResult:
    """One stage of one shard finished (or found finished): what it wrote."""

    stage: str
    shard: str
    key: str
    path: str  # relative to the output folder
    rows: int
    problems: int = 0
    seconds: float = 0.0
    computed: bool = True
    component: str | None = None  # the embeddings stage: the label of its vectors


def _file_id(path: Path) -> str:
    st = path.stat()
    return f"{path}\x00{st.st_size}\x00{st.st_mtime_ns}"


# The files of a run's last TAPER_SHARDS shards (as first cut) go in shards of a
# TAPER_SPLIT-th of the size: at the end of a run a worker that finishes first otherwise
# idles while another works through a whole last shard or two (Ray Data queues two per actor).
TAPER_SHARDS = 2
TAPER_SPLIT = 4


def plan_shards(paths: Iterable[str | Path], options: BatchOptions = BatchOptions()) -> list[Shard]:
    """Expand inputs (directories recursively, sorted) and cut them into shards.

    A shard's key hashes the options and each file's path, size and mtime, so a
    changed file redoes its shard. Unreadable paths still join a shard: reading
    them then yields a problem record, as in ``ingest``. The files of the last two
    shards are cut again into quarter shards (``TAPER_SHARDS``), so files added after
    a run's last one redo those few shards.
    """
    files: list[tuple[Path, int]] = []
    for p in iter_inputs(paths):
        if str(p) == "-":
            raise ValueError("batch reads files and directories, not stdin ('-')")
        try:
            size = Path(p).stat().st_size
        except OSError:
            size = 0
        files.append((Path(p), size))
    groups = _cut(files, options.shard_bytes, options.shard_files)
    if len(groups) > TAPER_SHARDS:
        tail = [f for g in groups[-TAPER_SHARDS:] for f in g]
        groups = groups[:-TAPER_SHARDS] + _cut(tail, max(1, options.shard_bytes // TAPER_SPLIT),
                                                max(1, options.shard_files // TAPER_SPLIT))
    shards: list[Shard] = []
    for group in groups:
        h = hashlib.sha256(options.key().encode())
        for f, _ in group:
            try:
                h.update(_file_id(f).encode() + b"\x01")
            except OSError:
                h.update(f"{f}\x00missing\x01".encode())
        shards.append(Shard(f"shard-{len(shards):05d}", tuple(str(f) for f, _ in group), h.hexdigest()))
    return shards


def _cut(files: Sequence[tuple[Path, int]], max_bytes: int, max_files: int) -> list[list[tuple[Path, int]]]:
    """Consecutive groups of (path, size), each closed once it holds ``max_bytes`` or
    ``max_files``."""
    groups: list[list[tuple[Path, int]]] = []
    group: list[tuple[Path, int]] = []
    size = 0
    for f in files:
        group.append(f)
        size += f[1]
        if size >= max_bytes or len(group) >= max_files:
            groups.append(group)
            group, size = [], 0
    if group:
        groups.append(group)
    return groups


# ----------------------------------------------------------------------------- Parquet I/O
ARTICLE_SCHEMA = pa.schema([
    ("id", pa.string()), ("text", pa.string()), ("title", pa.string()), ("source", pa.string()),
    ("url", pa.string()), ("published", pa.string()), ("lang", pa.string()), ("author", pa.string()),
    ("format", pa.string()), ("origin", pa.string()), ("content_hash", pa.string()),
    ("removed", pa.string()), ("dateline", pa.string()), ("raw_hash", pa.string()),
    ("feed_source", pa.string()), ("outlet_lines", pa.list_(pa.string())),
])
PROBLEM_SCHEMA = pa.schema([("origin", pa.string()), ("reason", pa.string()), ("shard", pa.string())])
SKETCH_SCHEMA = pa.schema([
    ("id", pa.string()), ("n_words", pa.int64()), ("shingles", pa.list_(pa.uint32())),
    ("signature", pa.list_(pa.uint32())), ("anchors", pa.list_(pa.int64())),
])
EMBEDDING_SCHEMA = pa.schema([
    ("id", pa.string()), ("vector", pa.list_(pa.float32(), DIM)),
    # story placement's word counts (``stories.term_counts``), counted here in parallel
    # rather than in the sequential load: parallel lists of words and their counts
    ("terms", pa.list_(pa.string())), ("term_counts", pa.list_(pa.int32())),
    ("names", pa.list_(pa.string())), ("name_counts", pa.list_(pa.int32())),
])


def _write_atomic(table: pa.Table, path: Path, key: str, meta: Mapping[str, str] | None = None) -> None:
    """Write a Parquet file under a temporary name, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table.replace_schema_metadata({"newsdesk.shard_key": key, **(meta or {})}), tmp)
    os.replace(tmp, path)


def _article_row(a: Article, outlet_lines: list[str]) -> dict[str, Any]:
    return {
        "id": a.id, "text": a.text, "title": a.title, "source": a.source, "url": a.url,
        "published": a.published.isoformat() if a.published else None, "lang": a.lang,
        "author": a.author, "format": a.format, "origin": a.origin, "content_hash": a.content_hash,
        "removed": json.dumps([[r.line, r.text, r.reason] for r in a.removed], ensure_ascii=False),
        "dateline": a.dateline, "raw_hash": a.raw_hash, "feed_source": a.feed_source,
        "outlet_lines": outlet_lines,
    }


def articles_from_table(table: pa.Table) -> tuple[list[Article], dict[str, list[str]]]:
    """Articles of an ``articles`` stage file, and the outlet-line keys of its plain-text inputs."""
    out: list[Article] = []
    lines: dict[str, list[str]] = {}
    for r in table.to_pylist():
        out.append(Article(
            id=r["id"], text=r["text"], title=r["title"], source=r["source"], url=r["url"],
            published=datetime.fromisoformat(r["published"]) if r["published"] else None,
            lang=r["lang"], author=r["author"], format=r["format"], origin=r["origin"],
            content_hash=r["content_hash"],
            removed=tuple(Removal(int(n), t, why) for n, t, why in json.loads(r["removed"])),
            dateline=r["dateline"], raw_hash=r["raw_hash"], feed_source=r["feed_source"],
        ))
        if r["outlet_lines"]:
            lines[r["id"]] = list(r["outlet_lines"])
    return out, lines


def sketches_from_table(table: pa.Table) -> dict[str, CopySketch]:
    out = {}
    for r in table.to_pylist():
        out[r["id"]] = CopySketch(
            n_words=r["n_words"], shingles=np.asarray(r["shingles"], dtype=np.uint32),
            signature=np.asarray(r["signature"], dtype=np.uint32), anchors=tuple(r["anchors"]))
    return out


def component_of_table(table: pa.Table) -> str:
    """The embedding component that computed an ``embeddings`` stage file."""
    meta = table.schema.metadata or {}
    return meta.get(b"newsdesk.component", EMBEDDING_COMPONENT.encode()).decode()


def counts_from_table(table: pa.Table) -> dict[str, TermCounts]:
    """The word counts of an ``embeddings`` stage file, by id; none when the file has none
    or counted them by other rules (an output written by another version: the load
    counts them again from the text)."""
    meta = table.schema.metadata or {}
    if meta.get(b"newsdesk.story_terms", b"").decode() != TERMS_VERSION:
        return {}
    cols = [table.column(c).to_pylist() for c in ("id", "terms", "term_counts", "names", "name_counts")]
    return {aid: TermCounts(dict(zip(t, tc, strict=True)), dict(zip(n, nc, strict=True)))
            for aid, t, tc, n, nc in zip(*cols, strict=True)}


def vectors_from_table(table: pa.Table) -> dict[str, np.ndarray]:
    ids = table.column("id").to_pylist()
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    mat = np.asarray(flat, dtype=np.float32).reshape(len(ids), DIM)
    return {aid: mat[i] for i, aid in enumerate(ids)}


# ----------------------------------------------------------------------------- stages
def stage_path(stage: str, shard: str) -> str:
    return f"{stage}/{shard}.parquet"


def clean_shard(shard: Shard, out: Path, options: BatchOptions) -> StageResult:
    """Stage ``articles``: read and clean every record of the shard's files, in order."""
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    fields = dict(options.fields) or None
    for path in shard.paths:
        for item in read(path, format=options.format, fields=fields, source=options.source):
            if isinstance(item, IngestProblem):
                problems.append({"origin": item.origin, "reason": item.reason, "shard": shard.name})
                continue
            try:
                article = to_article(item)
            except ArticleError as exc:
                problems.append({"origin": item.origin, "reason": str(exc), "shard": shard.name})
                continue
            except Exception as exc:  # noqa: BLE001 - one record must never stop the run
                log.exception("unexpected failure on %s", item.origin)
                problems.append({"origin": item.origin, "shard": shard.name,
                                 "reason": f"internal error: {type(exc).__name__}: {exc}"})
                continue
            keys = outlet_line_keys(item.text) if item.text is not None and item.source else []
            rows.append(_article_row(article, keys))
    _write_atomic(pa.Table.from_pylist(problems, schema=PROBLEM_SCHEMA),
                  out / stage_path("problems", shard.name), shard.key)
    _write_atomic(pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA),
                  out / stage_path("articles", shard.name), shard.key)
    return StageResult("articles", shard.name, shard.key, stage_path("articles", shard.name), len(rows),
                       len(problems), time.perf_counter() - t0)


def sketch_shard(shard: Shard, out: Path) -> StageResult:
    """Stage ``sketches``: the copy-detection sketch of every article (pure per article)."""
    t0 = time.perf_counter()
    table = pq.read_table(out / stage_path("articles", shard.name), columns=["id", "text"])
    rows = []
    for aid, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True):
        sk = sketch(text, DEFAULT_PARAMS)
        rows.append({"id": aid, "n_words": sk.n_words, "shingles": sk.shingles,
                     "signature": sk.signature, "anchors": list(sk.anchors)})
    _write_atomic(pa.Table.from_pylist(rows, schema=SKETCH_SCHEMA),
                  out / stage_path("sketches", shard.name), shard.key)
    return StageResult("sketches", shard.name, shard.key, stage_path("sketches", shard.name), len(rows),
                       seconds=time.perf_counter() - t0)


def embed_shard(shard: Shard, out: Path, embedder: Embedder) -> StageResult:
    """Stage ``embeddings``: what story placement needs of each article, in order: one
    model call over the shard's articles, and the words it weighs (``term_counts``).

    The vector of a text depends on that text alone (docs/embeddings.md), so every
    executor writes the same vectors.
    """
    t0 = time.perf_counter()
    table = pq.read_table(out / stage_path("articles", shard.name), columns=["id", "title", "text"])
    ids = table.column("id").to_pylist()
    titles, bodies = table.column("title").to_pylist(), table.column("text").to_pylist()
    texts = [embedding_text(t, x) for t, x in zip(titles, bodies, strict=True)]
    vecs = embedder.encode(texts)
    arr = pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1), type=pa.float32()), DIM)
    counts = [term_counts(x, t) for t, x in zip(titles, bodies, strict=True)]
    columns = [
        pa.array(ids, type=pa.string()), arr,
        pa.array([list(c.terms) for c in counts], type=pa.list_(pa.string())),
        pa.array([list(c.terms.values()) for c in counts], type=pa.list_(pa.int32())),
        pa.array([list(c.names) for c in counts], type=pa.list_(pa.string())),
        pa.array([list(c.names.values()) for c in counts], type=pa.list_(pa.int32())),
    ]
    component = str(getattr(embedder, "component", EMBEDDING_COMPONENT))
    _write_atomic(pa.Table.from_arrays(columns, schema=EMBEDDING_SCHEMA),
                  out / stage_path("embeddings", shard.name), shard.key,
                  {"newsdesk.component": component, "newsdesk.story_terms": TERMS_VERSION})
    return StageResult("embeddings", shard.name, shard.key, stage_path("embeddings", shard.name),
                       len(ids), seconds=time.perf_counter() - t0, component=component)


@dataclass(frozen=True, slots=True)
class ShardTask:
    """A shard and the stages still to run on it (in ``STAGES`` order)."""

    shard: Shard
    stages: tuple[str, ...]  # the stages still to run, in order

    def to_json(self) -> str:
        return json.dumps({"shard": asdict(self.shard), "stages": list(self.stages)})

    @classmethod
    def from_json(cls, data: str) -> ShardTask:
        d = json.loads(data)
        s = d["shard"]
        return cls(Shard(s["name"], tuple(s["paths"]), s["key"]), tuple(d["stages"]))


class ShardWorker:
    """Runs a shard's pending stages in order; what an executor places on each worker.

    The embedding model is loaded once per worker, on the first shard that needs it.
    ``threads`` caps the model's threads: workers that share the machine's cores
    would otherwise each start one thread per core and fight over them.
    """

    def __init__(self, out: str | Path, options: BatchOptions, model_path: str | None = None,
                 threads: int | None = None, backend: str | None = None) -> None:
        self.out = Path(out)
        self.options = options
        self.model_path = model_path
        self.threads = threads
        self.backend = backend  # the embedder's, as the driver chose it; None: this process's default
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from .storybook import shared_embedder  # one model per process, as ingest does

            shared = shared_embedder()
            if self.model_path is None and self.threads is None and self.backend in (None, shared.backend):
                self._embedder = shared
            else:
                self._embedder = Embedder(self.model_path, threads=self.threads, backend=self.backend)
        return self._embedder

    def __call__(self, task: ShardTask) -> list[StageResult]:
        results = []
        for stage in task.stages:
            if stage == "articles":
                results.append(clean_shard(task.shard, self.out, self.options))
            elif stage == "sketches":
                results.append(sketch_shard(task.shard, self.out))
            elif stage == "embeddings":
                results.append(embed_shard(task.shard, self.out, self.embedder))
            else:
                raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
        return results


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What every worker needs to build its ``ShardWorker`` (picklable, JSON-able)."""

    out: str
    options: BatchOptions
    model_path: str | None = None
    threads: int | None = None  # the embedding model's threads per worker; None: its default
    # chosen in the driver and carried to every worker: a worker on another machine of a
    # cluster does not see the driver's NEWSDESK_EMBEDDER
    backend: str | None = None

    def build(self) -> ShardWorker:
        return ShardWorker(self.out, self.options, self.model_path, self.threads, self.backend)


OnDone = Callable[[list[StageResult]], None]


class Executor(Protocol):
    """Where shard tasks run. ``on_done`` is called in the calling process for each finished task."""

    name: str

    def run(self, spec: WorkerSpec, tasks: Sequence[ShardTask], on_done: OnDone) -> None: ...


# ----------------------------------------------------------------------------- manifest
@dataclass
class Manifest:
    """Finished stage outputs by ``stage/shard``; saved atomically after every update."""

    path: Path
    shards: list[Shard] = field(default_factory=list)
    done: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, out: Path) -> Manifest:
        path = out / MANIFEST
        m = cls(path)
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                log.warning("%s is unreadable (%s): every shard will be redone", path, exc)
                return m
            if data.get("format") == VERSION:
                m.done = dict(data.get("done", {}))
        return m

    def finished(self, stage: str, shard: Shard, out: Path, component: str | None = None) -> bool:
        """``component``: the vectors' label the embeddings stage must have written (an
        entry of a manifest from before labels were recorded is taken as written so)."""
        entry = self.done.get(f"{stage}/{shard.name}")
        return (entry is not None and entry.get("key") == shard.key
                and (component is None or entry.get("component", component) == component)
                and (out / stage_path(stage, shard.name)).is_file())

    def record(self, results: Iterable[StageResult]) -> None:
        for r in results:
            entry = {"key": r.key, "path": r.path, "rows": r.rows, "problems": r.problems,
                     "seconds": round(r.seconds, 3)}
            if r.component is not None:
                entry["component"] = r.component
            self.done[f"{r.stage}/{r.shard}"] = entry
        self.save()

    def save(self) -> None:
        data = {"format": VERSION, "stages": list(STAGES),
                "shards": [asdict(s) for s in self.shards], "done": self.done}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


# ----------------------------------------------------------------------------- driver
@dataclass(frozen=True, slots=True)
class BatchProgress:
    """Where a batch run is, as its progress callback sees it after each finished shard."""

    shards: int  # in the run
    staged: int  # whose stages are all finished (by this run or an earlier one)
    loaded: int = 0  # loaded into the store by this run, or found loaded
    stored: int = 0  # articles in the shards this run loaded


ProgressFn = Callable[[BatchProgress], None]


@dataclass
class BatchReport:
    """What a batch run did."""

    out: Path
    shards: int = 0
    computed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    reused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    articles: int = 0
    problems: list[IngestProblem] = field(default_factory=list)
    ingest: IngestReport | None = None
    load_seconds: float = 0.0
    load_tail_seconds: float = 0.0


def run_stages(
    paths: Iterable[str | Path],
    out: str | Path,
    executor: Executor,
    *,
    options: BatchOptions = BatchOptions(),
    model_path: str | None = None,
    on_update: Callable[[Sequence[Shard], Mapping[str, Mapping[str, Any]]], None] | None = None,
    backend: str | None = None,
    progress: ProgressFn | None = None,
) -> BatchReport:
    """Run every unfinished stage of every shard with ``executor``; write the manifest and
    ``problems.jsonl`` (every bad file or record, with its origin and reason).

    ``backend``: the embedder's (default: ``NEWSDESK_EMBEDDER`` or newsdesk's default,
    read here, in the driver); a shard embedded with another one is embedded again.

    ``on_update(shards, done)`` is called once before the executor starts and after every
    finished task, with the manifest's finished entries (``Loader.advance`` fits);
    ``progress`` then, with how many shards have all their stages finished."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shards = plan_shards(paths, options)
    manifest = Manifest.open(out)
    manifest.shards = shards
    manifest.save()
    report = BatchReport(out, shards=len(shards))
    backend = backend or default_backend()
    vectors_label = component_of(backend)  # an embeddings output with another label is redone
    tasks = []
    for s in shards:
        pending: list[str] = []
        for stage in STAGES:
            # a stage redone means every later one is redone: its input changed
            label = vectors_label if stage == "embeddings" else None
            if pending or not manifest.finished(stage, s, out, label):
                pending.append(stage)
                # not finished until redone: the loader must not take the entry of a file
                # that is gone (or is about to be rewritten) for a finished stage
                manifest.done.pop(f"{stage}/{s.name}", None)
            else:
                report.reused[stage] += 1
        if pending:
            tasks.append(ShardTask(s, tuple(pending)))
    manifest.save()

    by_name = {s.name: s for s in shards}
    staged: set[str] = set()

    def note(names: Iterable[str]) -> None:  # shards whose last stage may just have finished
        staged.update(n for n in names if all(_stage_done(manifest.done, st, by_name[n]) for st in STAGES))
        if progress is not None:
            progress(BatchProgress(len(shards), len(staged)))

    def on_done(results: list[StageResult]) -> None:
        manifest.record(results)
        for r in results:
            report.computed[r.stage] += 1
            report.seconds[r.stage] += r.seconds
        note({r.shard for r in results})  # before the load it may start
        if on_update is not None:
            on_update(shards, manifest.done)

    note(by_name)  # shards finished by an earlier run
    if on_update is not None:
        on_update(shards, manifest.done)
    if tasks:
        log.info("batch: %d shard(s), %d to run on %s", len(shards), len(tasks), executor.name)
        executor.run(WorkerSpec(str(out), options, model_path, backend=backend), tasks, on_done)
    for s in shards:
        report.articles += manifest.done[f"articles/{s.name}"]["rows"]
        problems = pq.read_table(out / stage_path("problems", s.name))
        report.problems.extend(IngestProblem(r["origin"], r["reason"]) for r in problems.to_pylist())
    tmp = out / f".problems.jsonl.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        for p in report.problems:
            fh.write(json.dumps({"origin": p.origin, "reason": p.reason}, ensure_ascii=False) + "\n")
    os.replace(tmp, out / "problems.jsonl")
    return report


def _load_digest(shard: Shard) -> str:
    return hashlib.sha256(f"batch-load\x00{shard.key}".encode()).hexdigest()


def _stage_done(done: Mapping[str, Mapping[str, Any]], stage: str, shard: Shard) -> bool:
    entry = done.get(f"{stage}/{shard.name}")
    return entry is not None and entry.get("key") == shard.key


# Consecutive shards the driver stores as one batch, by default. Every write lands at
# random places in indexes that grow with the store (about a hundred copy keys an
# article, the search index, the ids); a commit writes each page its batch dirtied, so a
# batch four times larger writes far fewer pages per article once the indexes outgrow a
# batch (the commits of a 50,000-article load 64 -> 25 s, docs/batch.md). Groups are
# fixed by shard position, never by timing, so the store is the same whichever executor
# ran the stages and however fast they finished.
LOAD_SHARDS = 4


class Loader:
    """Reads finished shards into a store, strictly in shard order, as they finish, in
    groups of ``load_shards`` consecutive shards (a group is stored once all of it is).

    Articles are stored as ``ingest`` stores them (unchanged ones skipped), copies
    are folded from the precomputed sketches against everything stored, the batch's
    embeddings are saved and used by story placement. A loaded shard is recorded in
    the store, so loading again (or after an interruption) skips it. Shard order
    makes the store the same whichever executor ran the stages and however their
    shards finished; ``run_batch`` calls :meth:`advance` as tasks finish, so the
    sequential load runs beside the parallel stages instead of after them.
    """

    def __init__(self, store: Store, out: str | Path, *, stories: bool = True,
                 progress: Callable[[str, int], None] | None = None, load_shards: int = LOAD_SHARDS) -> None:
        from .storybook import StoryBook  # the model's runtime is only needed with stories

        if load_shards < 1:
            raise ValueError("load_shards must be at least 1")
        self.store = store
        self.out = Path(out)
        self.progress = progress
        self.load_shards = load_shards
        self.report = IngestReport()
        self.seconds = 0.0  # time spent loading
        self._next = 0
        t0 = time.perf_counter()
        if stories:
            self.report.storybook = StoryBook(store)
            # what a killed load stored but did not place goes with the first shard's articles
            queue_missing(store, self.report)
        self.seconds += time.perf_counter() - t0

    def advance(self, shards: Sequence[Shard], done: Mapping[str, Mapping[str, Any]]) -> None:
        """Load, from the next group of shards on, every group whose stages are all finished."""
        t0 = time.perf_counter()
        try:
            while self._next < len(shards):
                group = shards[self._next:(self._next // self.load_shards + 1) * self.load_shards]
                if not all(_stage_done(done, st, s) for s in group for st in STAGES):
                    break
                self._load(group, done)
                self._next += len(group)
        finally:
            self.seconds += time.perf_counter() - t0

    def finish(self, shards: Sequence[Shard], done: Mapping[str, Mapping[str, Any]]) -> IngestReport:
        """Load what is left (every stage of every shard must be finished) and close the run."""
        self.advance(shards, done)
        if self._next < len(shards):
            s = shards[self._next]
            stage = next(st for st in STAGES if not _stage_done(done, st, s))
            raise ValueError(f"{self.out}: stage {stage} of {s.name} is not finished; run the batch again")
        t0 = time.perf_counter()
        finish(self.report)
        self.seconds += time.perf_counter() - t0
        return self.report

    def _load(self, group: Sequence[Shard], done: Mapping[str, Mapping[str, Any]]) -> None:
        """Store a group of consecutive shards as one batch (see ``LOAD_SHARDS``)."""
        report, store, out = self.report, self.store, self.out
        batch = _LoadBatch()
        for s in group:
            report.inputs += 1
            digest = _load_digest(s)
            if store.input_done(digest):
                report.skipped_inputs += 1
                if self.progress:
                    self.progress(s.name, 0)  # found loaded: counted as done, no article stored
                continue
            arts, lines = _read_stage(out, "articles", s, articles_from_table)
            vectors, component, counts = _read_stage(out, "embeddings", s, lambda t: (
                vectors_from_table(t), component_of_table(t), counts_from_table(t)))
            if batch.ids & {a.id for a in arts} or batch.component not in (None, component):
                # an id again (a record given twice, perhaps changed), or vectors of another
                # embedder: what came before is stored first, as loading shard by shard would
                self._store(batch, done)
                batch = _LoadBatch()
            batch.add(s, digest, arts, lines, _read_stage(out, "sketches", s, sketches_from_table),
                      vectors, component, counts)
        self._store(batch, done)

    def _store(self, batch: _LoadBatch, done: Mapping[str, Mapping[str, Any]]) -> None:
        if not batch.shards:
            return
        out = self.out
        assert batch.component is not None  # every shard added sets it
        store_cleaned(self.store, batch.articles, self.report, sketches=batch.sketches,
                      vectors=batch.vectors, outlet_lines=batch.lines, component=batch.component,
                      word_counts=batch.word_counts)
        # one transaction: a crash leaves the whole group to be stored again, as one batch
        self.store.mark_inputs_done([(digest, f"{out / s.name}", n, done[f"articles/{s.name}"]["problems"])
                                     for s, digest, n in batch.shards])
        if self.progress:
            for s, _, n in batch.shards:
                self.progress(s.name, n)


@dataclass
class _LoadBatch:
    """Finished shards read for one ``store_cleaned`` call."""

    shards: list[tuple[Shard, str, int]] = field(default_factory=list)  # (shard, load digest, articles)
    articles: list[Article] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    lines: dict[str, list[str]] = field(default_factory=dict)
    sketches: dict[str, CopySketch] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    word_counts: dict[str, TermCounts] = field(default_factory=dict)
    component: str | None = None  # the embedder of every shard's vectors in the batch

    def add(self, shard: Shard, digest: str, articles: list[Article], lines: Mapping[str, list[str]],
            sketches: Mapping[str, CopySketch], vectors: Mapping[str, np.ndarray], component: str,
            word_counts: Mapping[str, TermCounts]) -> None:
        self.shards.append((shard, digest, len(articles)))
        self.articles += articles
        self.ids.update(a.id for a in articles)
        self.lines.update(lines)
        self.sketches.update(sketches)
        self.vectors.update(vectors)
        self.word_counts.update(word_counts)
        self.component = component


class StageFileError(ValueError):
    """A finished stage's file that cannot be read back (damaged or edited since)."""


def _read_stage(out: Path, stage: str, shard: Shard, parse: Callable[[pa.Table], _T]) -> _T:
    """Read and parse one stage file; a file that fails is named, with the way out."""
    path = out / stage_path(stage, shard.name)
    try:
        return parse(pq.read_table(path))
    except (OSError, ValueError, KeyError, TypeError, IndexError, pa.ArrowException) as exc:
        # Stage files are written atomically, so this is damage from outside the run (a
        # disk, a copy, a hand edit): redoing the stage is the cure, and a run that finds
        # the file missing redoes it. Nothing of the shard has been stored yet.
        raise StageFileError(
            f"{path}: damaged stage file ({type(exc).__name__}: {exc}); "
            f"delete it and run the batch again to redo stage {stage} of {shard.name}") from exc


def load(
    store: Store,
    out: str | Path,
    *,
    stories: bool = True,
    progress: Callable[[str, int], None] | None = None,
    load_shards: int = LOAD_SHARDS,
) -> IngestReport:
    """Read a finished batch into ``store``, ``load_shards`` shards at a time in order
    (see ``Loader``)."""
    out = Path(out)
    data = json.loads((out / MANIFEST).read_text())
    shards = [Shard(s["name"], tuple(s["paths"]), s["key"]) for s in data["shards"]]
    return Loader(store, out, stories=stories, progress=progress,
                  load_shards=load_shards).finish(shards, data["done"])


def run_batch(
    paths: Iterable[str | Path],
    out: str | Path,
    executor: Executor,
    *,
    store: Store | None = None,
    options: BatchOptions = BatchOptions(),
    stories: bool = True,
    model_path: str | None = None,
    backend: str | None = None,
    progress: ProgressFn | None = None,
) -> BatchReport:
    """Run the stages (resuming finished shards) and load the result into ``store`` if given.

    ``progress(BatchProgress)``: called after every finished task and loaded shard.

    ``backend``: the embedder's; by default the one ``NEWSDESK_EMBEDDER`` names, else the
    kind of vectors ``store`` already holds, else newsdesk's default.

    Shards are loaded as they finish, in order, while later shards are still in the
    stages; ``load_seconds`` is the time spent loading, ``load_tail_seconds`` the part
    of it after the last stage finished.
    """
    if store is None:
        return run_stages(paths, out, executor, options=options, model_path=model_path, backend=backend,
                          progress=progress)
    if backend is None:
        from .storybook import store_embedder  # the store's kind unless NEWSDESK_EMBEDDER names one

        backend = store_embedder(store).backend
    latest: dict[str, Any] = {}
    state = {"shards": 0, "staged": 0, "loaded": 0, "stored": 0}

    def tell(**changes: int) -> None:
        state.update(changes)
        if progress is not None:
            progress(BatchProgress(**state))

    def loaded(_shard: str, n: int) -> None:
        tell(loaded=state["loaded"] + 1, stored=state["stored"] + n)

    loader = Loader(store, out, stories=stories, progress=loaded, load_shards=options.load_shards)

    def on_update(shards: Sequence[Shard], done: Mapping[str, Mapping[str, Any]]) -> None:
        latest["shards"], latest["done"] = shards, done
        loader.advance(shards, done)

    report = run_stages(paths, out, executor, options=options, model_path=model_path,
                        on_update=on_update, backend=backend,
                        progress=lambda p: tell(shards=p.shards, staged=p.staged))
    t0 = time.perf_counter()
    report.ingest = loader.finish(latest["shards"], latest["done"])
    report.load_tail_seconds = time.perf_counter() - t0
    report.load_seconds = loader.seconds
    return report


def stage_files(out: str | Path, stage: str) -> list[Path]:
    """The finished files of one stage, in shard order."""
    return sorted((Path(out) / stage).glob("shard-*.parquet"))


def problems_of(out: str | Path) -> list[dict[str, str]]:
    """The problems of a finished batch (``problems.jsonl``)."""
    path = Path(out) / "problems.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

