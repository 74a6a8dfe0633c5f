"""Batch mode: stages over shards in Parquet, local and Ray executors, resume, bad input."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from newsdesk.api import rebuild_stories
from newsdesk.batch import (
    STAGES,
    BatchOptions,
    OnDone,
    ShardTask,
    StageResult,
    WorkerSpec,
    articles_from_table,
    counts_from_table,
    load,
    plan_shards,
    problems_of,
    run_batch,
    stage_files,
    vectors_from_table,
)
from newsdesk.cli_batch import batch as batch_command
from newsdesk.executors import ExecutorError, LocalExecutor, RayExecutor, make_executor, threads_per_worker
from newsdesk.ingest import ingest
from newsdesk.store import Store

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = ROOT / "samples"
SMALL = BatchOptions(shard_files=3)


def _corpus(tmp: Path, n_files: int = 4, per_file: int = 12) -> list[Path]:
    """The fixtures, the two samples, generated JSONL parts with copies across parts, and two
    bad files."""
    vocab = sorted(set(re.findall(r"[A-Za-z]{3,}", "".join(p.read_text() for p in SAMPLES.iterdir()))))
    rng = random.Random(7)
    gen = tmp / "gen"
    gen.mkdir()
    texts: list[str] = []
    for f in range(n_files):
        with (gen / f"part-{f}.jsonl").open("w") as fh:
            for i in range(per_file):
                if texts and i % 5 == 4:  # a syndicated copy of an earlier text, another outlet
                    text = rng.choice(texts) + "\n\n(AP)"
                else:
                    paras = [" ".join(rng.choice(vocab) for _ in range(rng.randint(25, 60))) + "."
                             for _ in range(rng.randint(2, 5))]
                    text = "\n\n".join(paras)
                    texts.append(text)
                rec = {"id": f"g{f}-{i}", "title": " ".join(rng.choice(vocab) for _ in range(6)),
                       "text": text, "source": f"outlet{rng.randint(1, 6)}.example",
                       "published": f"2024-0{1 + f}-{10 + i:02d}T08:00:00Z", "lang": "en"}
                fh.write(json.dumps(rec) + "\n")
    (gen / "broken.json").write_text('{"title": "no end')
    (gen / "binary.txt").write_bytes(bytes(range(256)) * 8)
    return [FIXTURES, SAMPLES, gen]


def _snapshot(store: Store) -> dict[str, object]:
    ids = sorted(store.article_ids())
    arts = store.get_articles(ids)
    vecs = store.get_embeddings(ids)
    return {
        "articles": [(i, arts[i].text, arts[i].title, arts[i].source, arts[i].published) for i in ids],
        "copies": sorted(store.copy_of_map(ids).items()),
        "stories": sorted(store.story_map().items()),
        "embeddings": {i: vecs[i].tobytes() for i in ids if i in vecs},
    }


def _tables(out: Path) -> dict[str, list[dict[str, object]]]:
    return {f"{stage}/{f.name}": pq.read_table(f).to_pylist()
            for stage in (*STAGES, "problems") for f in stage_files(out, stage)}


def test_local_batch_writes_stages_and_loads_the_store_like_ingest(tmp_path: Path) -> None:
    inputs = _corpus(tmp_path)
    out = tmp_path / "out"
    with Store(tmp_path / "batch.db") as store:
        report = run_batch(inputs, out, LocalExecutor(), store=store, options=SMALL)
        snap = _snapshot(store)
        stored_vectors = store.get_embeddings(store.article_ids())
        # the story index rebuilt from the store gives the load's stories back
        placed = store.story_map()
        rebuilt = rebuild_stories(store)
        assert rebuilt.articles == len(placed) and rebuilt.moved == 0
        assert store.story_map() == placed
    assert report.shards == len(plan_shards(inputs, SMALL)) >= 3
    assert report.computed == dict.fromkeys(STAGES, report.shards)
    manifest = json.loads((out / "manifest.json").read_text())
    names = [s["name"] for s in manifest["shards"]]
    assert sorted(manifest["done"]) == sorted(f"{st}/{name}" for st in STAGES for name in names)
    # bad files and records are reported with origin and reason; the rest went on
    problems = problems_of(out)
    origins = {p["origin"] for p in problems}
    assert any(o.endswith("broken.json#line=1") for o in origins)
    assert any(o.endswith("binary.txt") for o in origins)
    assert any("articles.jsonl#line=" in o for o in origins)
    assert all(p["reason"] for p in problems)
    assert report.ingest is not None and report.ingest.counts.inserted == report.articles > 50
    # the batch's embeddings are what the store holds (not recomputed)
    computed: dict[str, np.ndarray] = {}
    for f in stage_files(out, "embeddings"):
        computed.update(vectors_from_table(pq.read_table(f)))
    assert set(computed) == set(stored_vectors)
    assert all(np.array_equal(computed[i], stored_vectors[i]) for i in computed)
    # every article is in a story; copies were folded across shards
    assert len(snap["stories"]) == len(snap["articles"])  # type: ignore[arg-type]
    assert len(snap["copies"]) >= 5  # type: ignore[arg-type]
    # the same articles, texts and copy groups as a plain ingest of the same inputs
    with Store(tmp_path / "ingest.db") as plain:
        ingest(plain, inputs, stories=False)
        ref = _snapshot(plain)
    assert snap["articles"] == ref["articles"]
    assert snap["copies"] == ref["copies"]


def test_the_load_weighs_the_stages_word_counts_instead_of_counting_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The words story placement weighs are counted in the embeddings stage (in parallel);
    the sequential load uses them and places the same stories as a load that counts them
    itself, which it does for an output written before the stage counted them."""
    import importlib
    import shutil

    # (the package's own ``stories`` function hides the module from ``import ... as``)
    stories_mod = importlib.import_module("newsdesk.stories")

    inputs = _corpus(tmp_path)
    out = tmp_path / "out"
    run_batch(inputs, out, LocalExecutor(), options=SMALL)  # the stages only
    arts = {a.id: a for f in stage_files(out, "articles")
            for a in articles_from_table(pq.read_table(f))[0]}
    counts = {k: v for f in stage_files(out, "embeddings")
              for k, v in counts_from_table(pq.read_table(f)).items()}
    assert set(counts) == set(arts) and len(arts) > 50
    for i, a in arts.items():
        want = stories_mod.term_counts(a.text, a.title)
        # equal, and in the same order: weights are summed in the order of the words
        assert list(counts[i].terms.items()) == list(want.terms.items())
        assert list(counts[i].names.items()) == list(want.names.items())

    old = tmp_path / "old"  # as an earlier version wrote it: vectors only
    shutil.copytree(out, old)
    for f in stage_files(old, "embeddings"):
        t = pq.read_table(f)
        meta = {k: v for k, v in (t.schema.metadata or {}).items() if k != b"newsdesk.story_terms"}
        pq.write_table(t.select(["id", "vector"]).replace_schema_metadata(meta), f)
        assert counts_from_table(pq.read_table(f)) == {}

    counted: list[str] = []
    real = stories_mod.term_counts

    def spy(text: str, title: str | None = None) -> stories_mod.TermCounts:
        counted.append(text)
        return real(text, title)

    monkeypatch.setattr(stories_mod, "term_counts", spy)
    snaps, calls = [], []
    for name, folder in (("new", out), ("old", old)):
        counted.clear()
        with Store(tmp_path / f"{name}.db") as store:
            report = load(store, folder)
            snaps.append(_snapshot(store))
        calls.append(len(counted))
    assert snaps[0] == snaps[1] and len(snaps[0]["stories"]) == len(arts)  # type: ignore[arg-type]
    # the old output's load counted every placed article once more (re-cuts count the same)
    assert report.stories_placed == len(arts)
    assert calls[1] - calls[0] == len(arts)


def test_ray_and_local_executors_give_identical_outputs_and_stores(tmp_path: Path) -> None:
    import ray.data  # noqa: F401  (in the dev extra: missing is a failure)
    inputs = _corpus(tmp_path, n_files=3, per_file=10)
    with Store(tmp_path / "local.db") as a, Store(tmp_path / "ray.db") as b:
        run_batch(inputs, tmp_path / "local", LocalExecutor(), store=a, options=SMALL)
        report = run_batch(inputs, tmp_path / "ray", RayExecutor(workers=2), store=b, options=SMALL)
        assert report.computed == dict.fromkeys(STAGES, report.shards)
        local, ray = _tables(tmp_path / "local"), _tables(tmp_path / "ray")
        assert local.keys() == ray.keys() and local == ray
        assert _snapshot(a) == _snapshot(b)


def test_local_process_pool_writes_the_same_parquet(tmp_path: Path) -> None:
    inputs = [FIXTURES, SAMPLES]
    run_batch(inputs, tmp_path / "one", LocalExecutor(), options=SMALL)
    report = run_batch(inputs, tmp_path / "pool", LocalExecutor(workers=2), options=SMALL)
    assert report.shards >= 3 and report.computed == dict.fromkeys(STAGES, report.shards)
    assert _tables(tmp_path / "one") == _tables(tmp_path / "pool")


def test_workers_share_the_cores_instead_of_each_taking_all(tmp_path: Path) -> None:
    assert [threads_per_worker(w, cores=2) for w in (1, 2, 3)] == [2, 1, 1]
    assert threads_per_worker(2, cores=8) == 4
    # a spec's thread cap reaches the worker's model; without one the process's shared model is used
    capped = WorkerSpec(str(tmp_path), BatchOptions(), threads=1).build().embedder
    assert capped.threads == 1
    from newsdesk.storybook import shared_embedder

    assert WorkerSpec(str(tmp_path), BatchOptions()).build().embedder is shared_embedder()


class _Interrupting:
    """A local executor killed (KeyboardInterrupt) after ``after`` shards finished."""

    name = "local"

    def __init__(self, after: int) -> None:
        self.after = after
        self.ran: list[ShardTask] = []

    def run(self, spec: WorkerSpec, tasks: Sequence[ShardTask], on_done: OnDone) -> None:
        def done(results: list[StageResult]) -> None:
            on_done(results)
            if len(self.ran) >= self.after:
                raise KeyboardInterrupt

        def record(task: ShardTask) -> ShardTask:
            self.ran.append(task)
            return task

        worker = spec.build()
        for task in tasks:
            done(worker(record(task)))


def test_interrupted_batch_resumes_without_redoing_finished_shards(tmp_path: Path) -> None:
    inputs = _corpus(tmp_path, n_files=3, per_file=6)
    out = tmp_path / "out"
    n = len(plan_shards(inputs, SMALL))
    with pytest.raises(KeyboardInterrupt):
        run_batch(inputs, out, _Interrupting(after=2), options=SMALL)
    finished = {f: f.stat().st_mtime_ns for stage in STAGES for f in stage_files(out, stage)}
    assert len(finished) == 2 * len(STAGES)
    (out / ".manifest.json.999.tmp").write_text("{half a")  # a write the kill cut short
    again = _Interrupting(after=10**6)
    with Store(tmp_path / "s.db") as store:
        report = run_batch(inputs, out, again, store=store, options=SMALL)
        assert report.reused == dict.fromkeys(STAGES, 2)
        assert report.computed == dict.fromkeys(STAGES, n - 2)
        assert len(again.ran) == n - 2
        assert all(f.stat().st_mtime_ns == t for f, t in finished.items())
        # one stage output lost: only that stage of that shard is redone
        manifest = json.loads((out / "manifest.json").read_text())
        del manifest["done"]["embeddings/shard-00001"]
        (out / "manifest.json").write_text(json.dumps(manifest))
        redo = _Interrupting(after=10**6)
        report = run_batch(inputs, out, redo, store=store, options=SMALL)
        assert [t.stages for t in redo.ran] == [("embeddings",)]
        # every shard was loaded already: the store is left as it was
        assert report.ingest is not None and report.ingest.skipped_inputs == n
        assert report.ingest.counts.inserted == 0


class _Watching:
    """Runs the tasks in this process, in order or backwards, noting after each finished
    task how many articles the store holds."""

    name = "local"

    def __init__(self, store: Store, backwards: bool) -> None:
        self.store = store
        self.backwards = backwards
        self.counts: list[int] = []

    def run(self, spec: WorkerSpec, tasks: Sequence[ShardTask], on_done: OnDone) -> None:
        worker = spec.build()
        for task in (list(reversed(tasks)) if self.backwards else tasks):
            on_done(worker(task))
            self.counts.append(self.store.count_articles())


@pytest.mark.parametrize("load_shards", [1, 2])
def test_shards_load_in_order_while_later_shards_are_still_in_the_stages(tmp_path: Path,
                                                                          load_shards: int) -> None:
    inputs = _corpus(tmp_path, n_files=3, per_file=6)
    options = BatchOptions(shard_files=SMALL.shard_files, load_shards=load_shards)
    n = len(plan_shards(inputs, options))
    snaps = []
    for backwards in (False, True):
        with Store(tmp_path / f"{backwards}.db") as store:
            ex = _Watching(store, backwards)
            run_batch(inputs, tmp_path / f"out-{backwards}", ex, store=store, options=options)
            total = store.count_articles()
            snaps.append(_snapshot(store))
        assert len(ex.counts) == n >= 3 and ex.counts[-1] == total > 0
        if backwards:
            # shard 0 finishes last, and nothing may be loaded before it
            assert ex.counts[:-1] == [0] * (n - 1)
        else:
            # each group of load_shards shards is in the store before the next shard is even
            # read: the count moves only when a group's last shard is done
            ends = [k for k in range(n) if (k + 1) % load_shards == 0 or k == n - 1]
            assert 0 < ex.counts[ends[0]] < total and ex.counts == sorted(ex.counts)
            assert all(ex.counts[k] == (ex.counts[k - 1] if k else 0) for k in range(n) if k not in ends)
    assert snaps[0] == snaps[1]  # the order shards finish in changes nothing


def test_shards_stored_together_give_what_they_give_one_by_one(tmp_path: Path) -> None:
    """Loading shards in groups changes only how many go into one batch: the articles,
    copies and embeddings are those of loading shard by shard. A record given again
    with new text in a later shard of the same group replaces the first, as it does
    when the shards are stored one after the other."""
    inputs = _corpus(tmp_path, n_files=3, per_file=6)
    again = tmp_path / "again"
    again.mkdir()
    first = {"id": "rec-1", "title": "Dam opens", "source": "river.example",
             "text": "The new dam on the river opened on Monday, officials said. " * 3}
    (again / "a.jsonl").write_text(json.dumps(first) + "\n")
    (again / "b.jsonl").write_text(json.dumps(first | {"text": "The dam stayed shut on Monday. " * 4}) + "\n")
    other = first | {"id": "rec-2", "text": "A bridge closed. " * 5}
    (again / "c.jsonl").write_text(json.dumps(other) + "\n")
    snaps: dict[int, list[dict[str, object]]] = {1: [], 4: []}
    for load_shards in (1, 4):
        options = BatchOptions(shard_files=1, load_shards=load_shards)
        assert len(plan_shards(inputs, options)) >= 8  # groups of four hold several shards
        assert len(plan_shards([again], options)) == 3  # one group of three
        for name, paths in (("corpus", inputs), ("again", [again])):
            with Store(tmp_path / f"{name}-{load_shards}.db") as store:
                run_batch(paths, tmp_path / f"out-{name}-{load_shards}", LocalExecutor(), store=store,
                          options=options)
                snap = _snapshot(store)
                if name == "again":
                    arts = store.get_articles(["rec-1", "rec-2"])
                    assert arts["rec-1"].text.startswith("The dam stayed shut") and "rec-2" in arts
            snaps[load_shards].append({k: v for k, v in snap.items() if k != "stories"})
    assert snaps[1] == snaps[4]


def test_a_group_with_vectors_of_two_embedders_stores_each_under_its_own(tmp_path: Path) -> None:
    """An output whose shards' vectors came from different embedders (edited, or mixed
    by hand) is stored in groups as shard by shard: each vector under its own label."""
    import sqlalchemy as sa

    out = tmp_path / "out"
    run_batch([SAMPLES], out, LocalExecutor(), options=BatchOptions(shard_files=1))
    path = stage_files(out, "embeddings")[1]
    table = pq.read_table(path)
    meta = dict(table.schema.metadata) | {b"newsdesk.component": b"embeddings.other.v1"}
    pq.write_table(table.replace_schema_metadata(meta), path)
    labels = []
    for load_shards in (1, 4):
        with Store(tmp_path / f"g{load_shards}.db") as store:
            load(store, out, load_shards=load_shards)
            with store.engine.connect() as conn:
                labels.append(sorted(conn.execute(sa.text("SELECT article_id, component FROM embeddings"))))
    assert labels[0] == labels[1] and len({c for _, c in labels[0]}) == 2


def test_the_last_shards_are_cut_smaller_so_no_worker_waits_long_at_the_end(tmp_path: Path) -> None:
    for i in range(43):
        (tmp_path / f"a-{i:03d}.txt").write_text(f"Story number {i}.\n\nIts body, line {i}.\n")
    opts = BatchOptions(shard_files=8)
    shards = plan_shards([tmp_path], opts)
    sizes = [len(s.paths) for s in shards]
    # 43 files in 8s: five full shards and one of three; the last two (eight files and
    # three) are cut again into shards of two
    assert sizes == [8, 8, 8, 8, 2, 2, 2, 2, 2, 1]
    assert [p for s in shards for p in s.paths] == [str(p) for p in sorted(tmp_path.iterdir())]
    assert len({s.key for s in shards}) == len(shards)
    assert [s.name for s in shards] == [f"shard-{i:05d}" for i in range(len(shards))]
    assert plan_shards([tmp_path], opts) == shards  # the same plan every time
    # a run of one or two shards is left as it is
    assert [len(s.paths) for s in plan_shards(sorted(tmp_path.iterdir())[:12], opts)] == [8, 4]


def test_a_changed_input_redoes_only_its_shard(tmp_path: Path) -> None:
    inputs = _corpus(tmp_path, n_files=3, per_file=4)
    out = tmp_path / "out"
    run_batch(inputs, out, LocalExecutor(), options=SMALL, stories=False)
    part = tmp_path / "gen" / "part-2.jsonl"
    part.write_text(part.read_text().replace("outlet", "newoutlet"))
    spy = _Interrupting(after=10**6)
    report = run_batch(inputs, out, spy, options=SMALL, stories=False)
    assert len(spy.ran) == 1 and report.computed["articles"] == 1
    assert any(str(part) in t.shard.paths for t in spy.ran)


def test_executor_choice_and_missing_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("spark")
    with pytest.raises(ValueError, match="workers"):
        make_executor("local", workers=0)
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ExecutorError, match=r"pip install 'newsdesk\[ray\]'"):
        RayExecutor().run(WorkerSpec("x", BatchOptions()), [], lambda r: None)


def test_batch_module_never_imports_ray() -> None:
    source = (ROOT / "src" / "newsdesk" / "batch.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+ray\b", source, re.M)


def test_cli_batch(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    runner = CliRunner()
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(tmp_path / "out"), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "2 new" in res.output
    with Store(db) as store:
        assert len(store.article_ids()) == 2 and len(store.story_map()) == 2
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(tmp_path / "out"), "--db", str(db)])
    assert res.exit_code == 0 and "1 shard(s) already loaded" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "title": "t"}\n')
    res = runner.invoke(batch_command, [str(bad), "--out", str(tmp_path / "o2"), "--no-store"])
    assert res.exit_code == 1 and "bad.jsonl#line=1" in res.output
    res = runner.invoke(batch_command, [str(bad), "--out", str(tmp_path / "o3"), "--ray-address", "x"])
    assert res.exit_code == 2 and "--ray-address is for the ray executor" in res.output
    # one shard per file, loaded two at a time
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(tmp_path / "o4"), "--db",
                                        str(tmp_path / "g.db"), "--shard-files", "1", "--load-shards", "2"])
    assert res.exit_code == 0 and "2 new" in res.output, res.output
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(tmp_path / "o5"), "--load-shards", "0"])
    assert res.exit_code == 2 and "--load-shards" in res.output


def test_a_damaged_stage_file_is_named_and_redone_once_deleted(tmp_path: Path) -> None:
    import pyarrow as pa

    out, db = tmp_path / "out", tmp_path / "n.db"
    runner = CliRunner()
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(out), "--no-store"])
    assert res.exit_code == 0, res.output
    (emb,) = stage_files(out, "embeddings")
    good = emb.read_bytes()

    # word lists that do not line up (a hand edit): named, nothing of the shard stored
    t = pq.read_table(emb)
    short = [c[:-1] for c in t.column("term_counts").to_pylist()]
    pq.write_table(t.set_column(t.schema.get_field_index("term_counts"), "term_counts",
                                pa.array(short, type=t.schema.field("term_counts").type)), emb)
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(out), "--db", str(db)])
    assert res.exit_code == 1
    assert f"{emb}: damaged stage file (ValueError" in " ".join(res.output.split())
    with Store(db) as store:
        assert store.article_ids() == []

    emb.write_bytes(good[: len(good) // 2])  # a truncated file
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(out), "--db", str(db)])
    assert res.exit_code == 1 and "damaged stage file" in res.output
    assert "delete it and run the batch again to redo stage embeddings" in " ".join(res.output.split())

    emb.unlink()  # the way out the message gives
    res = runner.invoke(batch_command, [str(SAMPLES), "--out", str(out), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "embeddings 1 run/0 reused" in res.output and "2 new" in res.output
    assert emb.read_bytes() == good  # the stage's output again, byte for byte


def test_the_drivers_embedder_reaches_every_worker_and_a_change_redoes_only_embeddings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedder is chosen in the driver and carried to the workers (a Ray worker
    elsewhere does not see the driver's environment); rerun with another embedder, only
    the embeddings stage is done again, and the store refuses to mix the two."""
    import ray.data  # noqa: F401  (in the dev extra: missing is a failure)

    from newsdesk.batch import component_of_table
    from newsdesk.embeddings import component_of
    from newsdesk.store import VectorSpaceError

    monkeypatch.delenv("NEWSDESK_EMBEDDER", raising=False)
    inputs = [FIXTURES, SAMPLES]
    out = tmp_path / "out"
    with Store(tmp_path / "n.db") as store:
        first = run_batch(inputs, out, LocalExecutor(), store=store, options=SMALL)
        assert {component_of_table(pq.read_table(f)) for f in stage_files(out, "embeddings")} == {
            component_of("onnx-int8")}
        again = run_batch(inputs, out, LocalExecutor(), options=SMALL, backend="static")
        assert again.computed == {"articles": 0, "sketches": 0, "embeddings": first.shards}
        assert {component_of_table(pq.read_table(f)) for f in stage_files(out, "embeddings")} == {
            component_of("static")}
        rerun = run_batch(inputs, out, LocalExecutor(), options=SMALL, backend="static")
        assert rerun.computed == dict.fromkeys(STAGES, 0)
    # a store whose vectors are the transformer's takes no static ones
    (tmp_path / "other.jsonl").write_text(json.dumps({
        "id": "other-1", "title": "Harbour reopens", "source": "example.org",
        "text": "The harbour reopened on Monday after repairs to the sea wall, officials said. " * 3}) + "\n")
    with Store(tmp_path / "m.db") as other:
        ingest(other, [tmp_path / "other.jsonl"])
        with pytest.raises(VectorSpaceError, match="static"):
            load(other, out)
    # Ray workers embed with the driver's choice, not their environment's default
    ray_out = tmp_path / "ray"
    report = run_batch(inputs, ray_out, RayExecutor(workers=1), options=SMALL, backend="static")
    assert report.computed["embeddings"] == report.shards
    assert {component_of_table(pq.read_table(f)) for f in stage_files(ray_out, "embeddings")} == {
        component_of("static")}
    assert _tables(ray_out) == _tables(out)


def test_several_local_workers_find_the_model_made_once_before_they_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a fresh machine each worker found the ONNX export (or the static distillation)
    missing and made it, all at once; the executor now makes it first, in a child process."""
    import sys

    from newsdesk.embeddings import Embedder
    from newsdesk.executors import prepare_model

    monkeypatch.setenv("NEWSDESK_MODEL_CACHE", str(tmp_path / "models"))
    spec = WorkerSpec(str(tmp_path / "out"), SMALL, backend="onnx")
    shards = plan_shards([FIXTURES, SAMPLES], SMALL)
    assert not Embedder(backend="onnx").ready()
    prepare_model(spec, [ShardTask(s, ("articles", "sketches")) for s in shards])
    assert not (tmp_path / "models").exists()  # no embeddings to compute: nothing made
    exporter_loaded = "torch.onnx" in sys.modules
    prepare_model(spec, [ShardTask(s, STAGES) for s in shards])
    assert Embedder(backend="onnx").ready()
    assert len(list((tmp_path / "models").glob("*.onnx"))) == 1
    if not exporter_loaded:  # made in another process: the exporter is not loaded here
        assert "torch.onnx" not in sys.modules
    # the workers then load it as it is, and compute what one process computes
    report = run_batch([FIXTURES, SAMPLES], tmp_path / "pool", LocalExecutor(workers=2), options=SMALL,
                       backend="onnx")
    assert report.computed["embeddings"] == len(shards) >= 3
    vectors = {k: v for t in (pq.read_table(f) for f in stage_files(tmp_path / "pool", "embeddings"))
               for k, v in vectors_from_table(t).items()}
    one = Embedder(backend="onnx")
    arts = {a.id: a for t in (pq.read_table(f) for f in stage_files(tmp_path / "pool", "articles"))
            for a in articles_from_table(t)[0]}
    ids = sorted(vectors)[:5]
    np.testing.assert_allclose(np.stack([vectors[i] for i in ids]),
                               one.encode_articles([arts[i] for i in ids]), atol=1e-6)


def test_a_batch_reports_its_progress_shard_by_shard(tmp_path: Path) -> None:
    """Long runs show progress: after each finished shard the callback learns how many
    shards are through the stages and loaded, and how many articles were stored."""
    from newsdesk.batch import BatchProgress

    inputs = _corpus(tmp_path, n_files=3, per_file=6)
    seen: list[BatchProgress] = []
    with Store(tmp_path / "p.db") as store:
        report = run_batch(inputs, tmp_path / "out", LocalExecutor(), store=store, options=SMALL,
                           progress=seen.append)
        assert report.shards >= 3 and report.ingest is not None
        assert all(p.shards == report.shards for p in seen)
        assert [p.staged for p in seen] == sorted(p.staged for p in seen)  # never backwards
        assert [p.loaded for p in seen] == sorted(p.loaded for p in seen)
        assert all(p.loaded <= p.staged for p in seen)
        assert seen[-1] == BatchProgress(report.shards, report.shards, report.shards,
                                         report.ingest.counts.inserted)
        assert len({p.loaded for p in seen}) == report.shards + 1  # every shard's load told
        # a rerun: every shard found finished and loaded, no article stored again
        again: list[BatchProgress] = []
        run_batch(inputs, tmp_path / "out", LocalExecutor(), store=store, options=SMALL,
                  progress=again.append)
        assert again[-1] == BatchProgress(report.shards, report.shards, report.shards, 0)
    # without a store: the stages alone
    alone: list[BatchProgress] = []
    run_batch(inputs, tmp_path / "alone", LocalExecutor(), options=SMALL, progress=alone.append)
    assert alone[0] == BatchProgress(report.shards, 0) and alone[-1] == BatchProgress(report.shards,
                                                                                      report.shards)
