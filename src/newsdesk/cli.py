"""The ``newsdesk`` command line: each command is one library call plus printing."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import api, render
from .cleaning import removals_by_reason
from .embeddings import BACKENDS, DEFAULT_BACKEND, ENV_BACKEND, EmbedderError
from .readers import iter_inputs
from .records import FORMATS, Article
from .store import DamagedStoryIndex, Store, VectorSpaceError
from .storybook import StoryBook

err = Console(stderr=True, soft_wrap=True)


def _out() -> Console:
    # Piped output keeps whole lines (no hard wrapping at 80 columns).
    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def _parse_fields(values: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for v in values:
        name, sep, other = v.partition("=")
        if not sep or not name or not other:
            raise click.BadParameter(f"{v!r}: expected NAME=INPUT_FIELD, e.g. text=body")
        if name not in api.JSON_FIELDS:
            raise click.BadParameter(
                f"{name!r} is not a newsdesk field; use one of {', '.join(api.JSON_FIELDS)}"
            )
        fields[name] = other
    return fields


class _Group(click.Group):
    """The command group; a store whose saved story index cannot be read, or whose
    vectors another embedder's would be mixed with, or an embedder that is not
    installed, is a message naming it, not a traceback, whichever command found it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (DamagedStoryIndex, VectorSpaceError, EmbedderError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    default="newsdesk.db",
    envvar="NEWSDESK_DB",
    show_default=True,
    help="SQLite file, or a database URL such as postgresql://host/db.",
)
@click.option(
    "--embedder",
    type=click.Choice(BACKENDS, case_sensitive=False),
    envvar=ENV_BACKEND,
    help=f"Article vectors: {DEFAULT_BACKEND} (the default), onnx, torch, or static (about 20x less "
    "CPU an article, at some cost in telling similar events apart; docs/embeddings.md). "
    "A store keeps the kind it started with.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="newsdesk")
@click.pass_context
def main(ctx: click.Context, db: str, embedder: str | None, verbose: int) -> None:
    """newsdesk: turn news articles from many outlets into checked stories."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if embedder:
        # the library reads the variable wherever it builds an embedder (ingest, batch, serve)
        os.environ[ENV_BACKEND] = embedder.lower()
    ctx.obj = db


def _store(ctx: click.Context) -> Store:
    return api.open_store(ctx.obj)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Skip detection; read all as this.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME=INPUT",
    help="Map a JSON field, e.g. --field text=body --field published=meta.date.",
)
@click.option("--source", help="Outlet name for inputs that carry none (plain text files).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[str, ...], fmt: str | None, fields: tuple[str, ...],
    source: str | None, quiet: bool,
) -> None:
    """Ingest files, directories (recursively) or - (stdin).

    Formats are detected by content and extension: plain text, HTML, JSONL/JSON,
    RSS/Atom feeds, WARC (.warc, .warc.gz).
    """
    field_map = _parse_fields(fields)
    total = sum(1 for _ in iter_inputs(paths))
    with _store(ctx) as store:
        progress = Progress(
            TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
            TextColumn("{task.fields[articles]:,} articles"), TimeElapsedColumn(),
            TextColumn("{task.fields[name]}"), console=err, transient=True, disable=quiet,
        )
        with progress:
            task = progress.add_task("ingest", total=total, name="", articles=0)
            stored = 0

            def tick(origin: str, _n: int) -> None:
                progress.update(task, advance=1, name=Path(origin).name[-40:])

            def batch_done(origin: str, n: int) -> None:
                nonlocal stored
                stored += n
                progress.update(task, articles=stored, name=Path(origin).name[-40:])

            report = api.ingest(
                store, paths, format=fmt, fields=field_map, source=source,  # type: ignore[arg-type]
                progress=tick, on_batch=batch_done,
            )
    for problem in report.problems:
        err.print(f"[red]error[/red] {escape(str(problem))}", highlight=False)
    if not quiet:
        c = report.counts
        err.print(
            f"{report.inputs} input(s): {c.inserted} new, {c.updated} updated, "
            f"{c.unchanged} unchanged article(s), {report.copies} copy(ies) folded, "
            f"{report.stories_placed} placed in stories; "
            f"{report.skipped_inputs} input(s) already "
            f"ingested; {len(report.problems)} problem(s)",
            highlight=False,
        )
    if report.problems:
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Skip detection; read all as this.")
@click.option("--field", "fields", multiple=True, metavar="NAME=INPUT", help="Map a JSON field.")
@click.option("--source", help="Outlet name for inputs that carry none (plain text files).")
@click.option("--poll", is_flag=True, help="Poll instead of file events (network mounts).")
@click.pass_context
def watch(ctx: click.Context, paths: tuple[str, ...], fmt: str | None, fields: tuple[str, ...],
          source: str | None, poll: bool) -> None:
    """Ingest folders (recursively) or files such as a feed rewritten in place, then
    every file that appears or changes, until Ctrl-C.

    Write files elsewhere and move them in (or name them *.part while writing):
    a file caught half-written is ingested again when it changes.
    """
    from .watch import watch as run_watch

    field_map = _parse_fields(fields)

    def report(batch: list[str], r: api.IngestReport) -> None:
        c = r.counts
        what = batch[0] if len(batch) == 1 else f"{len(batch)} file(s)"
        err.print(f"{datetime.now():%H:%M:%S} {escape(what)}: {c.inserted} new, {c.updated} updated, "
                  f"{c.unchanged} unchanged, {r.copies} copy(ies), {r.stories_placed} placed; "
                  f"{len(r.problems)} problem(s)", highlight=False)
        for problem in r.problems:
            err.print(f"[red]error[/red] {escape(str(problem))}", highlight=False)

    err.print(f"watching {', '.join(paths)} (Ctrl-C stops)", highlight=False)
    with _store(ctx) as store:
        try:
            summary = run_watch(store, paths, format=fmt, fields=field_map,  # type: ignore[arg-type]
                                source=source, on_report=report, force_polling=poll or None)
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    err.print(f"stopped: {summary.inserted} new and {summary.updated} updated article(s) in "
              f"{summary.rounds} round(s), {summary.problems} problem(s)", highlight=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default is reachable from this machine only.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Where uploaded files are kept (default: beside the SQLite file, DB.d/).")
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.option("--token", envvar="NEWSDESK_TOKEN", show_envvar=True,
              help="Require this token (16+ characters) to change the store: API clients send "
                   "'Authorization: Bearer TOKEN', browsers log in once at /login.")
@click.option("--private", is_flag=True, help="Require the token for reading too (needs --token).")
@click.option("--insecure", is_flag=True,
              help="Listen on a non-loopback --host without a token (anyone reaching it can "
                   "change the store).")
@click.option("--max-upload-mb", type=click.FloatRange(min=0), default=512, show_default=True,
              help="Largest request body (an upload of all its files together) accepted, in MiB.")
@click.option("--page-cache-mb", type=click.FloatRange(min=0), default=64, show_default=True,
              help="Memory for rendered story pages, kept until the store changes (0: none).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, data_dir: str | None, access_log: bool,
          token: str | None, private: bool, insecure: bool, max_upload_mb: float,
          page_cache_mb: float) -> None:
    """Serve the web UI and the HTTP API (OpenAPI document at /docs) until Ctrl-C."""
    import uvicorn

    from .server import KEEP_ALIVE_SECONDS, create_app
    from .websecurity import LOOPBACK_NAMES, check_serve_options, is_loopback

    token = token.strip() if token and token.strip() else None
    try:
        warning = check_serve_options(host, token, insecure=insecure, private=private)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if warning:
        err.print(f"[yellow]warning[/yellow]: {escape(warning)}", highlight=False)
    # Bound to loopback, answer only to loopback names: a DNS-rebinding page cannot reach us.
    trusted = (*LOOPBACK_NAMES, host) if is_loopback(host) else None
    app = create_app(ctx.obj, data_dir=data_dir, token=token, private=private, trusted_hosts=trusted,
                     max_upload_bytes=int(max_upload_mb * 1024 * 1024),
                     page_cache_bytes=int(page_cache_mb * 1024 * 1024))
    err.print(f"newsdesk serving {escape(str(ctx.obj))} on http://{host}:{port}/ (Ctrl-C stops)",
              highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=access_log,
                timeout_keep_alive=KEEP_ALIVE_SECONDS)


@main.command("articles")
@click.option("--source", help="Only this outlet.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--offset", type=int, default=0)
@click.pass_context
def list_articles(ctx: click.Context, source: str | None, limit: int, offset: int) -> None:
    """List stored articles, oldest first."""
    with _store(ctx) as store:
        rows = list(store.iter_articles(source=source, limit=limit, offset=offset))
        total = store.count_articles()
    table = Table(title=f"{len(rows)} of {total} article(s)", show_lines=False)
    table.add_column("id", no_wrap=True)
    for col in ("published", "source", "lang", "words"):
        table.add_column(col, no_wrap=True)
    table.add_column("title", overflow="fold")
    for a in rows:
        table.add_row(
            a.id, a.published.date().isoformat() if a.published else "", a.source or "",
            a.lang or "", str(len(a.text.split())), escape(a.title or ""),
        )
    _out().print(table)


# Lines of each removal reason that ``show`` prints unless asked for all: a
# whole-page scrape can lose hundreds of menu lines to one reason.
REMOVED_SHOWN = 5


def _print_article(a: Article, out: Console, copy: dict[str, object] | None = None,
                   all_removed: bool = False) -> None:
    out.print(f"[bold]{escape(a.title or '(no title)')}[/bold]")
    meta = [
        ("id", a.id), ("source", a.source), ("url", a.url),
        ("published", a.published.isoformat() if a.published else None),
        ("lang", a.lang), ("author", a.author), ("dateline", a.dateline),
        ("format", a.format), ("origin", a.origin),
    ]
    for k, v in meta:
        if v:
            out.print(f"[dim]{k:>9}[/dim] {escape(str(v))}", highlight=False)
    if copy:
        evidence = "; ".join(f"{e['method']} {e['score']:.2f} ({e['detail']})"
                             for e in copy["evidence"])  # type: ignore[attr-defined]
        out.print(f"[dim]{'copy of':>9}[/dim] {copy['original_id']}: {escape(evidence)}",
                  highlight=False)
    out.print()
    out.print(escape(a.text), highlight=False)
    if a.removed:
        groups = removals_by_reason(a.removed)
        out.print()
        out.print(f"[bold]Removed by cleaning[/bold] ({len(a.removed)}): "
                  + ", ".join(f"{reason} {len(rs)}" for reason, rs in groups), highlight=False)
        for reason, rs in groups:
            shown = rs if all_removed else rs[:REMOVED_SHOWN]
            for r in shown:
                out.print(f"[dim]line {r.line + 1:>4}[/dim] [yellow]{r.reason}[/yellow]: "
                          f"[strike]{escape(r.text)}[/strike]", highlight=False)
            if len(shown) < len(rs):
                out.print(f"[dim]     ... {len(rs) - len(shown)} more {reason} lines "
                          "(show --all-removed lists every line)[/dim]", highlight=False)


@main.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.option("--all-removed", is_flag=True,
              help=f"List every line cleaning removed (by default at most {REMOVED_SHOWN} a reason; "
              "--json always has them all).")
@click.pass_context
def show(ctx: click.Context, article_id: str, as_json: bool, all_removed: bool) -> None:
    """Print one cleaned article, its metadata and what cleaning removed."""
    with _store(ctx) as store:
        article = api.get_article(store, article_id)
        copy = api.copy_info(store, article.id) if article else None
    if article is None:
        raise click.ClickException(f"no article with id {article_id!r}")
    if as_json:
        record = article.to_export() | {
            "copy_of": copy["original_id"] if copy else None,
            "copy_evidence": copy["evidence"] if copy else None,
            "removed": [{"line": r.line, "text": r.text, "reason": r.reason} for r in article.removed]
        }
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        _print_article(article, _out(), copy, all_removed)


@main.command()
@click.argument("article_id")
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many articles.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per article.")
@click.pass_context
def similar(ctx: click.Context, article_id: str, k: int, as_json: bool) -> None:
    """Articles closest in meaning to one (embedding cosine), most similar first."""
    with _store(ctx) as store:
        try:
            hits = api.similar_articles(store, article_id, k)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
    if as_json:
        for a, cos in hits:
            click.echo(json.dumps({"id": a.id, "cosine": round(cos, 4), "title": a.title, "source": a.source,
                                   "published": a.published.isoformat() if a.published else None},
                                  ensure_ascii=False))
        return
    table = Table(title=f"{len(hits)} article(s) like {article_id}")
    for col in ("cosine", "id", "published", "source"):
        table.add_column(col, no_wrap=True)
    table.add_column("title", overflow="fold")
    for a, cos in hits:
        table.add_row(f"{cos:.3f}", a.id, render.when(a.published), a.source or "", escape(a.title or ""))
    _out().print(table)


@main.command("stories")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def list_stories(ctx: click.Context, limit: int) -> None:
    """List stories, newest first: title, first and last seen, articles, independent outlets."""
    with _store(ctx) as store:
        rows = api.stories(store)
    table = Table(title=f"{min(limit, len(rows))} of {len(rows)} story(ies)")
    table.add_column("story", no_wrap=True)
    for col in ("first seen", "last seen", "articles", "outlets"):
        table.add_column(col, no_wrap=True, justify="right" if col in ("articles", "outlets") else "left")
    table.add_column("title", overflow="fold")
    for s in rows[:limit]:
        table.add_row(s["id"], render.when(s["first"]), render.when(s["last"]), str(s["articles"]),
                      str(s["outlets"]), escape(s["title"] or ""))
    _out().print(table)


@main.command("story")
@click.argument("story_id")
@click.option("--json", "as_json", is_flag=True, help="Print the story and its account as JSON.")
@click.option("--brief", is_flag=True, help="Only the articles and copy groups, no account.")
@click.option("--all", "show_all", is_flag=True, help="Every claim and quote, not the first 12 of each.")
@click.pass_context
def show_story(ctx: click.Context, story_id: str, as_json: bool, brief: bool, show_all: bool) -> None:
    """Show one story: its cited summary, entities, aligned quotes with their wording
    differences, claims by status, coverage by outlet, timeline, and its articles."""
    with _store(ctx) as store:
        st = api.story(store, story_id)
        if st is None:
            raise click.ClickException(f"no story with id {story_id!r}")
        account = None if brief else _account_with_progress(store, st["id"])
    if as_json:
        click.echo(json.dumps(st | ({"account": account} if account else {}), default=str,
                              ensure_ascii=False, indent=2))
        return
    out = _out()
    out.print(f"[bold]{escape(st['title'] or '(untitled story)')}[/bold]")
    span = f" · {render.when(st['first'])} – {render.when(st['last'])}" if st["first"] else " · undated"
    out.print(f"[dim]{st['id']} · {st['articles']} article(s) from {st['outlets']} independent "
              f"outlet(s){span}[/dim]", highlight=False)
    if account is not None:
        render.account(out, account, limit=None if show_all else 12)
    out.print()
    out.print("[bold]Articles[/bold]")
    number = {a["id"]: i + 1 for i, a in enumerate(account["articles"])} if account else {}
    by_outlet: dict[str, list[dict[str, Any]]] = {}
    for m in st["members"]:
        by_outlet.setdefault(m["source"] or "(unknown outlet)", []).append(m)
    for outlet, members in sorted(by_outlet.items(), key=lambda kv: (kv[1][0]["published"] is None,
                                                                     kv[1][0]["published"] or 0)):
        out.print(f"[bold cyan]{escape(outlet)}[/bold cyan]")
        for m in members:
            n = f"[{number[m['id']]}]" if m["id"] in number else ""
            out.print(f"  {n:5}{render.when(m['published']):16} {m['id']}  {escape(m['title'] or '')}",
                      highlight=False)
            if m["original_id"]:
                why = "; ".join(f"{e['method']} {e['score']:.2f}" for e in m["evidence"] or [])
                out.print(f"  {'':21} [yellow]copy of {m['original_id']}[/yellow] ({escape(why)})",
                          highlight=False)


def _account_with_progress(store: Store, story_id: str) -> dict[str, Any] | None:
    progress = Progress(TextColumn("[bold]analyse"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("articles"), TimeElapsedColumn(), console=err, transient=True)
    with progress:
        task = progress.add_task("analyse", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return api.story_account(store, story_id, progress=tick)


@main.command()
@click.argument("into")
@click.argument("other")
@click.pass_context
def merge(ctx: click.Context, into: str, other: str) -> None:
    """Merge story OTHER into story INTO. Later ingests keep them together."""
    with _store(ctx) as store:
        try:
            survivor = api.merge_stories(store, into, other)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
    click.echo(survivor)


@main.command()
@click.argument("story_id")
@click.argument("article_ids", nargs=-1, required=True)
@click.pass_context
def split(ctx: click.Context, story_id: str, article_ids: tuple[str, ...]) -> None:
    """Move ARTICLE_IDS out of STORY_ID into a new story (printed). Later ingests keep it."""
    with _store(ctx) as store:
        try:
            new_id = api.split_story(store, story_id, article_ids)
        except (KeyError, ValueError) as exc:
            raise click.ClickException(str(exc.args[0])) from None
    click.echo(new_id)


@main.command("rebuild-stories")
@click.option("--force", is_flag=True,
              help="Rebuild even when the saved index can be read (stories placed "
                   "differently get new ids).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
@click.pass_context
def rebuild_stories(ctx: click.Context, force: bool, quiet: bool) -> None:
    """Build the story index again from the stored articles; replay merges and splits.

    The cure for a saved story index that cannot be read. Articles are placed oldest
    first from their stored embeddings; a story keeps its id when it comes out the same.
    """
    with _store(ctx) as store:
        try:
            StoryBook(store)
        except DamagedStoryIndex as exc:
            if exc.newer and not force:
                raise
        else:
            if not force:
                raise click.ClickException(
                    "the saved story index can be read; nothing to repair "
                    "(--force rebuilds it anyway)")
        progress = Progress(
            TextColumn("[bold]rebuild stories"), BarColumn(), MofNCompleteColumn(),
            TextColumn("articles"), TimeElapsedColumn(), console=err, transient=True,
            disable=quiet,
        )
        with progress:
            task = progress.add_task("rebuild", total=None)
            report = api.rebuild_stories(
                store, progress=lambda done, total: progress.update(task, completed=done, total=total))
    for skipped in report.skipped:
        err.print(f"[yellow]not replayed[/yellow] {escape(skipped)}", highlight=False)
    if not quiet:
        err.print(
            f"{report.articles:,} article(s) placed in {report.stories:,} stories; "
            f"{report.moved:,} changed story; {report.replayed} correction(s) replayed, "
            f"{len(report.skipped)} not",
            highlight=False,
        )


@main.group()
def export() -> None:
    """Write stored data: articles, quotes and claims as JSONL, a story as JSON or Markdown."""


@export.command("story")
@click.argument("story_id")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json",
              show_default=True)
@click.option("-o", "--out", type=click.File("w", encoding="utf-8"), default="-",
              help="Output file (default stdout).")
@click.pass_context
def export_story(ctx: click.Context, story_id: str, fmt: str, out: TextIO) -> None:
    """A story's account: entities, aligned quotes, claims, coverage, timeline, cited summary."""
    with _store(ctx) as store:
        data = _account_with_progress(store, story_id)
    if data is None:
        raise click.ClickException(f"no story with id {story_id!r}")
    if fmt == "json":
        out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(api.account_markdown(data))


def _export_rows(ctx: click.Context, which: str, story_id: str | None, out: TextIO) -> None:
    fn = api.export_quotes if which == "quotes" else api.export_claims
    with _store(ctx) as store:
        progress = Progress(TextColumn(f"[bold]{which}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("stories"), TimeElapsedColumn(), console=err, transient=True,
                            disable=story_id is not None)
        with progress:
            task = progress.add_task(which, total=None)
            try:
                for row in fn(store, story_id=story_id,
                              progress=lambda d, t: progress.update(task, completed=d, total=t)):
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            except KeyError as exc:
                raise click.ClickException(str(exc.args[0])) from None


@export.command("quotes")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--story", "story_id", help="Only this story (default: every story).")
@click.option("-o", "--out", type=click.File("w", encoding="utf-8"), default="-",
              help="Output file (default stdout).")
@click.pass_context
def export_quotes(ctx: click.Context, fmt: str, story_id: str | None, out: TextIO) -> None:
    """One JSON object per quote: article, story, start, end, quote, speaker, verb, kind,
    aligned_id (start/end are offsets into the article's cleaned text)."""
    _export_rows(ctx, "quotes", story_id, out)


@export.command("claims")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--story", "story_id", help="Only this story (default: every story).")
@click.option("-o", "--out", type=click.File("w", encoding="utf-8"), default="-",
              help="Output file (default stdout).")
@click.pass_context
def export_claims(ctx: click.Context, fmt: str, story_id: str | None, out: TextIO) -> None:
    """One JSON object per claim: story, claim, value, unit, status (corroborated,
    single-source, contradicted), outlets, articles, sentences."""
    _export_rows(ctx, "claims", story_id, out)


@export.command("articles")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("-o", "--out", type=click.File("w", encoding="utf-8"), default="-",
              help="Output file (default stdout).")
@click.option("--source", help="Only this outlet.")
@click.pass_context
def export_articles(ctx: click.Context, fmt: str, out: TextIO, source: str | None) -> None:
    """One JSON object per line: id, title, source, url, published, lang, text, story, copy_of."""
    with _store(ctx) as store:
        for record in api.export_articles(store, source=source):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


from .cli_batch import batch  # noqa: E402  (a module of its own: batch pulls in pyarrow)

main.add_command(batch)
