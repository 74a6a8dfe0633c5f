"""``newsdesk batch``: the ingest pipeline as stages over shards, on this machine or Ray.

Registered in ``cli.py`` (``main.add_command(batch)``); one library call
(``batch.run_batch``) plus printing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import api
from .batch import BatchOptions, BatchProgress, StageFileError, run_batch
from .executors import EXECUTORS, ExecutorError, make_executor
from .records import FORMATS

err = Console(stderr=True, soft_wrap=True)


def _fields(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        name, sep, other = v.partition("=")
        if not sep or not name or not other:
            raise click.BadParameter(f"{v!r}: expected NAME=INPUT_FIELD, e.g. text=body")
        if name not in api.JSON_FIELDS:
            known = ", ".join(api.JSON_FIELDS)
            raise click.BadParameter(f"{name!r} is not a newsdesk field; use one of {known}")
        out.append((name, other))
    return tuple(out)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for the Parquet stage outputs, manifest and problems (reused to resume).")
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
              help="Where the stages run: this machine, or Ray Data (pip install 'newsdesk[ray]').")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes (local) or Ray actors working on shards at once.")
@click.option("--ray-address", help="A Ray cluster to join (e.g. ray://head:10001); default: a local Ray.")
@click.option("--db", help="Store to load the result into (default: the global --db).")
@click.option("--no-store", is_flag=True, help="Only write the Parquet outputs.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Skip detection; read all as this.")
@click.option("--field", "fields", multiple=True, metavar="NAME=INPUT",
              help="Map a JSON field, e.g. --field text=body.")
@click.option("--source", help="Outlet name for inputs that carry none (plain text files).")
@click.option("--shard-mb", type=click.FloatRange(min=0.01), default=4.0, show_default=True,
              help="Input megabytes per shard.")
@click.option("--shard-files", type=click.IntRange(min=1), default=256, show_default=True,
              help="At most this many files per shard (the last few shards a quarter of it).")
@click.option("--load-shards", type=click.IntRange(min=1), default=BatchOptions().load_shards,
              show_default=True,
              help="Consecutive shards stored as one batch (fewer index pages written per article).")
@click.option("-q", "--quiet", is_flag=True, help="No summary.")
@click.pass_context
def batch(
    ctx: click.Context, paths: tuple[str, ...], out: str, executor: str, workers: int,
    ray_address: str | None, db: str | None, no_store: bool, fmt: str | None, fields: tuple[str, ...],
    source: str | None, shard_mb: float, shard_files: int, load_shards: int, quiet: bool,
) -> None:
    """Ingest files or directories as stages over shards (read+clean, copy sketches,
    embeddings) written as Parquet under --out, then load them into the store:
    articles, copies, embeddings and stories. An interrupted run resumes: run the
    same command again."""
    options = BatchOptions(format=fmt, fields=_fields(fields), source=source,  # type: ignore[arg-type]
                           shard_bytes=int(shard_mb * (1 << 20)), shard_files=shard_files,
                           load_shards=load_shards)
    try:
        ex = make_executor(executor, workers=workers, address=ray_address)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    db = db or (ctx.obj if isinstance(ctx.obj, str) else "newsdesk.db")
    store = None if no_store else api.open_store(db)
    # two bars: shards through the stages (on the executor), shards loaded into the store
    bars = Progress(TextColumn("[bold]{task.description:<7}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("shards"), TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                    console=err, transient=True, disable=quiet)
    staged = bars.add_task("stages", total=None, note="")
    stored = None if no_store else bars.add_task("load", total=None, note="")

    def show(p: BatchProgress) -> None:
        bars.update(staged, completed=p.staged, total=p.shards)
        if stored is not None:
            bars.update(stored, completed=p.loaded, total=p.shards, note=f"{p.stored:,} articles")

    try:
        with bars:
            report = run_batch(paths, out, ex, store=store, options=options, progress=show)
    except (ExecutorError, StageFileError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if store is not None:
            store.close()
    for problem in report.problems:
        err.print(f"[red]error[/red] {escape(str(problem))}", highlight=False)
    if not quiet:
        done = ", ".join(f"{s} {report.computed[s]} run/{report.reused[s]} reused" for s in report.computed)
        err.print(f"{report.shards} shard(s) on {ex.name}: {done}; {report.articles} article(s), "
                  f"{len(report.problems)} problem(s) (see {Path(out) / 'problems.jsonl'})", highlight=False)
        if report.ingest is not None:
            r, c = report.ingest, report.ingest.counts
            err.print(f"store: {c.inserted} new, {c.updated} updated, {c.unchanged} unchanged article(s), "
                      f"{r.copies} copy(ies) folded, {r.stories_placed} placed in stories; "
                      f"{r.skipped_inputs} shard(s) already loaded", highlight=False)
    if report.problems:
        sys.exit(1)
