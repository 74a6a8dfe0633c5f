"""The store: articles and ingest bookkeeping in SQLite (default) or PostgreSQL.

SQLAlchemy Core keeps one schema for both dialects. Migrations are named and
recorded in ``schema_migrations`` so later releases can add tables without
touching what exists.
"""

from __future__ import annotations

import bisect
import functools
import io
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from .copies import DEFAULT_PARAMS as DEFAULT_COPY_PARAMS
from .copies import CopyMatch, CopyRecord
from .embeddings import vector_space
from .records import Article, Removal
from .textquery import KeywordQuery, parse_query, phrase_query

log = logging.getLogger(__name__)

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("source", sa.String(300), index=True),
    sa.Column("url", sa.Text),
    sa.Column("published", sa.DateTime, index=True),
    sa.Column("lang", sa.String(16)),
    sa.Column("author", sa.Text),
    sa.Column("dateline", sa.String(200)),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False, index=True),
    sa.Column("raw_hash", sa.String(64), nullable=False),
    sa.Column("feed_source", sa.String(300)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("removed", sa.Text, nullable=False),  # JSON list of Removal
    sa.Column("ingested_at", sa.DateTime, nullable=False),
)

# Inputs (files) whose every record was processed: a rerun skips them, so an
# interrupted ingest resumes where it stopped.
ingested_inputs = sa.Table(
    "ingested_inputs",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("problems", sa.Integer, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=False),
)

# Short lines of scraped text per outlet, with the number of distinct articles they
# appear in: a line on many pages of one outlet is that site's boilerplate.
outlet_lines = sa.Table(
    "outlet_lines",
    metadata,
    sa.Column("source", sa.String(300), primary_key=True),
    sa.Column("line", sa.String(300), primary_key=True),
    sa.Column("pages", sa.Integer, nullable=False),
)

# Candidate keys of the copy index (exact hash, MinHash LSH bands, anchors): one
# row per key and article, looked up by key.
copy_keys = sa.Table(
    "copy_keys",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.BigInteger, nullable=False, index=True),
    sa.Column("article_id", sa.String(200), nullable=False, index=True),
)

# What copy verification needs of each placed article (0010): its word count, the
# wires it credits and its sorted distinct 32-bit shingle hashes (uint32,
# little-endian), so a candidate is verified without re-tokenising its text. Written
# with its copy keys; articles placed before 0010 have none and are read from text.
copy_sketches = sa.Table(
    "copy_sketches",
    metadata,
    sa.Column("article_id", sa.Text, primary_key=True),  # unbounded, as 0005 made article ids
    sa.Column("n_words", sa.Integer, nullable=False),
    sa.Column("credits", sa.Text, nullable=False),  # JSON list of wire names
    sa.Column("shingle_words", sa.Integer, nullable=False),  # k of the k-word shingles
    sa.Column("shingles", sa.LargeBinary, nullable=False),
)

# One row per article that copies another: its group's original and why.
copies = sa.Table(
    "copies",
    metadata,
    sa.Column("article_id", sa.String(200), primary_key=True),
    sa.Column("original_id", sa.String(200), nullable=False, index=True),
    sa.Column("matched_id", sa.String(200), nullable=False),
    sa.Column("method", sa.String(40), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON list of {method, score, detail}
    sa.Column("component", sa.String(40), nullable=False),
)

# The embedding of each article (semantic search and story placement reuse it).
embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("article_id", sa.String(200), primary_key=True),
    sa.Column("component", sa.String(80), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, little-endian
)

# The story of each article, as the story index last decided (or a user corrected).
story_members = sa.Table(
    "story_members",
    metadata,
    sa.Column("article_id", sa.String(200), primary_key=True),
    sa.Column("story_id", sa.String(40), nullable=False, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("component", sa.String(40), nullable=False),
    # the order articles were placed in (0013): a rebuilt index places them in it again,
    # since the index's stories depend on it (NULL: placed before 0013)
    sa.Column("placed", sa.BigInteger, index=True),
)

# The serialised incremental story index, so the next ingest continues from it.
story_index_state = sa.Table(
    "story_index",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# The saved story index in parts (0012): one value is capped at 1 GB by both SQLite and
# PostgreSQL, and the state passes that at a few hundred thousand articles. A state saved
# in parts leaves the ``story_index`` row's ``data`` empty; a row written before 0012
# keeps the whole state there and is still read.
story_index_parts = sa.Table(
    "story_index_parts",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
# Small parts: a part is in memory two or three times while it is stored (the writer's
# buffer, the bytes handed to the driver, the driver's own copy). With 64 MB parts a
# save's own peak reached 275 MB at 20,000 articles; with 8 MB parts a 40,000-article
# load peaks at 522 MB of RSS instead of 776 (docs/batch.md).
STATE_PART_BYTES = 8 << 20

# Users' corrections (merge, split), kept so a rebuilt index replays them.
story_corrections = sa.Table(
    "story_corrections",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)


# What the account components extracted from one article (sentences, mentions,
# quotes, figures, dates), as JSON, with a hash of their inputs: the article's
# content and every component's version. Recomputed only when that hash changes.
article_analyses = sa.Table(
    "article_analyses",
    metadata,
    sa.Column("article_id", sa.String(200), primary_key=True),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# A story's account as JSON, with a hash of its inputs (members, their analyses,
# copy folding, component versions); recomputed only when that hash changes.
story_accounts = sa.Table(
    "story_accounts",
    metadata,
    sa.Column("story_id", sa.String(40), primary_key=True),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The names and aliases of the entities in each cached story account, casefolded:
# what the story listing's entity filter looks up (written by ``save_account``).
story_entities = sa.Table(
    "story_entities",
    metadata,
    sa.Column("story_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True, index=True),
)

# The summary of each story as the story listing shows it (see ``story_summaries``),
# recomputed for the stories a write touches by every store method that writes
# members, articles or copies: the listing then sorts and pages one row per story
# instead of aggregating every member on each request.
story_stats = sa.Table(
    "story_stats",
    metadata,
    sa.Column("story_id", sa.Text, primary_key=True),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("first_seen", sa.DateTime),
    sa.Column("last_seen", sa.DateTime),
    sa.Column("title", sa.Text),
    sa.Column("outlets", sa.Integer, nullable=False),
    sa.Column("sources", sa.Text, nullable=False),  # JSON [[outlet, articles], ...], biggest first
    # Covers the listing's date filter and sort keys, so neither reads the wide rows.
    sa.Index("ix_story_stats_seen", "last_seen", "first_seen", "articles", "story_id"),
)

# Counters bumped by triggers whenever a table changes, whoever writes it: a cheap
# way for a long-running process to tell that its cache of that table is stale.
change_markers = sa.Table(
    "change_markers",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)


def _m0001_articles(conn: Connection) -> None:
    for table in (articles, ingested_inputs, outlet_lines):
        table.create(conn, checkfirst=True)


def _m0002_copies(conn: Connection) -> None:
    for table in (copy_keys, copies):
        table.create(conn, checkfirst=True)


def _m0003_stories(conn: Connection) -> None:
    for table in (embeddings, story_members, story_index_state, story_corrections):
        table.create(conn, checkfirst=True)


def _m0004_accounts(conn: Connection) -> None:
    for table in (article_analyses, story_accounts):
        table.create(conn, checkfirst=True)


# The tables of migrations 0001-0004, whose String(n) columns 0005 widens on PostgreSQL.
_TABLES_0001_0004 = (schema_migrations, articles, ingested_inputs, outlet_lines, copy_keys, copies,
                     embeddings, story_members, story_index_state, story_corrections,
                     article_analyses, story_accounts)


def _m0005_postgres_text(conn: Connection) -> None:
    """On PostgreSQL, every VARCHAR(n) becomes TEXT: SQLite never enforced those lengths,
    and an outlet name or an input id longer than them must store the same on both.
    (New tables use sa.Text for strings.) No table rewrite: the types are binary-coercible."""
    if conn.dialect.name != "postgresql":
        return
    for table in _TABLES_0001_0004:
        for col in table.columns:
            if isinstance(col.type, sa.String) and not isinstance(col.type, sa.Text) and col.type.length:
                conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ALTER COLUMN "{col.name}" TYPE TEXT')


def _m0006_embedding_vectors(conn: Connection) -> None:
    """On PostgreSQL with pgvector, embeddings also in a vector(384) column with an HNSW
    (cosine) index, for ``Store.nearest_articles``. Elsewhere nothing: the float32 bytes
    stay the record, and search falls back to exact numpy. A store opened later on a
    server that has gained pgvector gets the column then (``_ensure_pg_vectors``)."""
    _ensure_pg_vectors(conn)


def _m0007_search(conn: Connection) -> None:
    """Keyword search over title + cleaned text, what the story listing filters on,
    and a change marker on embeddings.

    SQLite: an FTS5 index (``article_search``) kept in step with ``articles`` by
    triggers. It reads its text from ``articles`` (external content) through
    ``article_search_docs``, which gives each article a stable integer key: the
    implicit rowid of ``articles`` (its key is a string) may change on VACUUM.
    PostgreSQL: a GIN index on a ``to_tsvector`` expression (a stored column since
    0008). Both tokenise without stemming, so the same words match on either backend
    and in any language (see ``SEARCH_CONFIG``).
    """
    for table in (story_entities, story_stats, change_markers):
        table.create(conn, checkfirst=True)
    _refresh_story_stats(conn, None)
    if conn.scalar(sa.select(change_markers.c.name).where(change_markers.c.name == "embeddings")) is None:
        conn.execute(change_markers.insert().values(name="embeddings", value=0))
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_SEARCH_DDL:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO article_search_docs (article_id) SELECT id FROM articles "
                             "WHERE id NOT IN (SELECT article_id FROM article_search_docs)")
        conn.exec_driver_sql("INSERT INTO article_search (article_search) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_articles_search ON articles "
                             f"USING gin (({_PG_DOCUMENT.format(t='')}))")
        schema = '"' + str(conn.scalar(sa.text("SELECT current_schema()"))).replace('"', '""') + '"'
        conn.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {schema}.newsdesk_bump_marker() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN UPDATE {schema}.change_markers SET value = value + 1 "
            f"WHERE name = TG_ARGV[0]; RETURN NULL; END $$")
        conn.exec_driver_sql(
            f"CREATE TRIGGER embeddings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON embeddings FOR EACH STATEMENT EXECUTE FUNCTION {schema}.newsdesk_bump_marker('embeddings')")
    for row in conn.execute(sa.select(story_accounts.c.story_id, story_accounts.c.data)):
        _write_story_entities(conn, row.story_id, row.data)


# Tokenisers without stemming: a news archive mixes languages, and English stemming
# would also make the two backends disagree on what matches. Both fold diacritics
# (Quebec finds Québec): SQLite's tokenizer does it; on PostgreSQL, 0011 switches
# the index to UNACCENT_CONFIG, 'simple' behind the unaccent extension's filter,
# where the server has unaccent (it stays on 'simple', without folding, where not).
SEARCH_CONFIG = "simple"
UNACCENT_CONFIG = "newsdesk_search"
_SQLITE_TOKENIZE = "unicode61 remove_diacritics 2"
# The document 0007 indexed on PostgreSQL (0008 replaces the index with a stored
# column). {t} qualifies the columns.
_PG_DOCUMENT = (f"to_tsvector('{SEARCH_CONFIG}'::regconfig, "
                "coalesce({t}title, '') || ' ' || {t}\"text\")")

_SQLITE_SEARCH_DDL = (
    "CREATE TABLE IF NOT EXISTS article_search_docs ("
    "doc INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE)",
    "CREATE VIEW IF NOT EXISTS article_search_content AS SELECT d.doc AS doc, a.title AS title, "
    "a.text AS text FROM article_search_docs d JOIN articles a ON a.id = d.article_id",
    "CREATE VIRTUAL TABLE IF NOT EXISTS article_search USING fts5(title, text, "
    f"content='article_search_content', content_rowid='doc', tokenize='{_SQLITE_TOKENIZE}')",
    # An external-content index must be told the exact values it indexed to forget
    # them: the triggers pass the old row. (An INSERT OR REPLACE of an article runs
    # the delete trigger because the store turns recursive_triggers on.)
    "CREATE TRIGGER IF NOT EXISTS articles_search_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO article_search_docs (article_id) VALUES (new.id); "
    "INSERT INTO article_search (rowid, title, text) "
    "SELECT doc, new.title, new.text FROM article_search_docs WHERE article_id = new.id; END",
    "CREATE TRIGGER IF NOT EXISTS articles_search_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO article_search (article_search, rowid, title, text) "
    "SELECT 'delete', doc, old.title, old.text FROM article_search_docs WHERE article_id = old.id; "
    "DELETE FROM article_search_docs WHERE article_id = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS articles_search_update AFTER UPDATE OF id, title, text ON articles BEGIN "
    "INSERT INTO article_search (article_search, rowid, title, text) "
    "SELECT 'delete', doc, old.title, old.text FROM article_search_docs WHERE article_id = old.id; "
    "UPDATE article_search_docs SET article_id = new.id WHERE article_id = old.id; "
    "INSERT INTO article_search (rowid, title, text) "
    "SELECT doc, new.title, new.text FROM article_search_docs WHERE article_id = new.id; END",
    *(f"CREATE TRIGGER IF NOT EXISTS embeddings_changed_{op.lower()} AFTER {op} ON embeddings BEGIN "
      "UPDATE change_markers SET value = value + 1 WHERE name = 'embeddings'; END"
      for op in ("INSERT", "UPDATE", "DELETE")),
)


def _m0008_search_vector(conn: Connection) -> None:
    """On PostgreSQL, the keyword index moves from an expression (0007) to a stored
    ``search_vector`` column (title weighted B, text D) with a GIN index. With only the
    expression, ranking and every phrase check parsed each matching article again:
    at 100,000 articles a phrase found in 871 took 0.7 s, a word found in most 17 s.
    SQLite: nothing (FTS5 keeps its own index)."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_articles_search")
    expr = _PG_VECTOR_EXPR.format(cfg=_literal(SEARCH_CONFIG))
    conn.exec_driver_sql(f"ALTER TABLE articles ADD COLUMN IF NOT EXISTS {_PG_VECTOR} tsvector "
                         f"GENERATED ALWAYS AS ({expr}) STORED")
    conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_articles_search_vector ON articles "
                         f"USING gin ({_PG_VECTOR})")


# The stored document on PostgreSQL (0008): title words weigh double in ts_rank.
_PG_VECTOR = "search_vector"
_PG_VECTOR_EXPR = ("setweight(to_tsvector({cfg}::regconfig, coalesce(title, '')), 'B') || "
                   "setweight(to_tsvector({cfg}::regconfig, \"text\"), 'D')")


def _quoted(name: str) -> str:
    """An SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """An SQL string literal (for names that must be written into DDL)."""
    return "'" + text.replace("'", "''") + "'"


def _unaccent_config(conn: Connection) -> str | None:
    """The store's accent-folding search configuration (schema-qualified, quoted),
    when its schema has one."""
    found = conn.scalar(sa.text(
        "SELECT n.nspname FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace "
        "WHERE c.cfgname = :cfg AND n.nspname = current_schema()"), {"cfg": UNACCENT_CONFIG})
    return f"{_quoted(str(found))}.{_quoted(UNACCENT_CONFIG)}" if found is not None else None


def _ensure_pg_unaccent(conn: Connection, *, announce: bool = True) -> None:
    """Fold diacritics in PostgreSQL's keyword index, as SQLite's does: create
    UNACCENT_CONFIG ('simple' with the unaccent filter before it, the extension's
    documented use) and rebuild ``search_vector`` with it. Nothing when the store
    already has it, or when the server has no unaccent or this role may not enable it
    (search then works as before, without folding)."""
    if conn.dialect.name != "postgresql" or _unaccent_config(conn) is not None:
        return
    ext = _extension_schema(conn, "unaccent")
    if ext is None:
        say = log.warning if announce else log.info
        say("PostgreSQL's unaccent extension is not available: keyword search will not "
            "fold diacritics (Quebec will not find Québec)")
        return
    log.info("rebuilding the keyword index to fold diacritics (unaccent)")
    schema = _quoted(str(conn.scalar(sa.text("SELECT current_schema()"))))
    cfg = f"{schema}.{_quoted(UNACCENT_CONFIG)}"
    try:
        # All or nothing, and never fatal: a role that may not alter the tables (not
        # their owner) still opens the store, searching without folding.
        with conn.begin_nested():
            conn.exec_driver_sql(f"CREATE TEXT SEARCH CONFIGURATION {cfg} (COPY = pg_catalog.simple)")
            # Only the token types that can hold letters outside ASCII go through unaccent.
            conn.exec_driver_sql(f"ALTER TEXT SEARCH CONFIGURATION {cfg} ALTER MAPPING FOR word, "
                                 f"hword, hword_part WITH {_quoted(ext)}.unaccent, pg_catalog.simple")
            # A generated column's expression cannot be altered before PostgreSQL 17:
            # drop it (its index goes with it) and add it again, recomputing every row.
            conn.exec_driver_sql(f"ALTER TABLE articles DROP COLUMN IF EXISTS {_PG_VECTOR}")
            conn.exec_driver_sql(f"ALTER TABLE articles ADD COLUMN {_PG_VECTOR} tsvector GENERATED "
                                 f"ALWAYS AS ({_PG_VECTOR_EXPR.format(cfg=_literal(cfg))}) STORED")
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_articles_search_vector ON articles "
                                 f"USING gin ({_PG_VECTOR})")
    except sa.exc.DBAPIError as exc:
        say = log.warning if announce else log.info
        say("could not rebuild the keyword index to fold diacritics: %s", exc.orig)


def _m0011_search_unaccent(conn: Connection) -> None:
    """On PostgreSQL, keyword search folds diacritics as it does on SQLite (see
    ``_ensure_pg_unaccent``). SQLite: nothing (its tokenizer folds them since 0007)."""
    _ensure_pg_unaccent(conn)


# The tables a story page reads (members, their articles and copy originals, the
# stored account): a change to any of them bumps the ``stories`` marker (0009).
_STORY_TABLES = ("articles", "copies", "story_members", "story_accounts")


def _m0009_story_marker(conn: Connection) -> None:
    """A ``stories`` change marker, bumped by triggers on every write to the tables a
    story page reads, whoever writes them: the server keeps rendered story pages until
    it moves (``Store.change_marker``). SQLite: row triggers (one UPDATE of one row
    each, in the writer's transaction); PostgreSQL: statement triggers, as for the
    embeddings marker of 0007."""
    if conn.scalar(sa.select(change_markers.c.name).where(change_markers.c.name == "stories")) is None:
        conn.execute(change_markers.insert().values(name="stories", value=0))
    if conn.dialect.name == "sqlite":
        for table in _STORY_TABLES:
            for op in ("INSERT", "UPDATE", "DELETE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_changed_{op.lower()} AFTER {op} ON {table} "
                    "BEGIN UPDATE change_markers SET value = value + 1 WHERE name = 'stories'; END")
    elif conn.dialect.name == "postgresql":
        schema = '"' + str(conn.scalar(sa.text("SELECT current_schema()"))).replace('"', '""') + '"'
        for table in _STORY_TABLES:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.newsdesk_bump_marker('stories')")


def _m0010_copy_sketches(conn: Connection) -> None:
    copy_sketches.create(conn, checkfirst=True)


def _m0012_story_index_parts(conn: Connection) -> None:
    story_index_parts.create(conn, checkfirst=True)


def _m0013_placement_order(conn: Connection) -> None:
    """``story_members.placed``. A store created since has it from 0003 (which creates
    the table as defined now); an older one gets the column and its index here."""
    if "placed" in {c["name"] for c in sa.inspect(conn).get_columns("story_members")}:
        return
    conn.exec_driver_sql("ALTER TABLE story_members ADD COLUMN placed BIGINT")
    conn.exec_driver_sql("CREATE INDEX ix_story_members_placed ON story_members (placed)")


# Append only; never edit a migration that has shipped.
MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_articles", _m0001_articles),
    ("0002_copies", _m0002_copies),
    ("0003_stories", _m0003_stories),
    ("0004_accounts", _m0004_accounts),
    ("0005_postgres_text", _m0005_postgres_text),
    ("0006_embedding_vectors", _m0006_embedding_vectors),
    ("0007_search", _m0007_search),
    ("0008_search_vector", _m0008_search_vector),
    ("0009_story_marker", _m0009_story_marker),
    ("0010_copy_sketches", _m0010_copy_sketches),
    ("0011_search_unaccent", _m0011_search_unaccent),
    ("0012_story_index_parts", _m0012_story_index_parts),
    ("0013_placement_order", _m0013_placement_order),
]

# Embeddings by length: (article ids, float32 matrix, row norms).
_Matrices = dict[int, tuple[list[str], np.ndarray, np.ndarray]]

VECTOR_DIM = 384  # all-MiniLM-L6-v2 (embeddings.DIM); other lengths are searched with numpy
VECTOR_COLUMN = "embedding"


def _extension_schema(conn: Connection, name: str) -> str | None:
    """The schema a PostgreSQL extension lives in, creating the extension where the
    server offers it and this role may; None when it cannot be had."""
    found = conn.scalar(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = :name"), {"name": name})
    if found is not None:
        return str(found)
    if not conn.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = :name"),
                       {"name": name}):
        return None
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
    except sa.exc.DBAPIError as exc:
        log.info("%s is installed on the server but could not be enabled: %s", name, exc.orig)
        return None
    return _extension_schema(conn, name)


def _pgvector_schema(conn: Connection) -> str | None:
    """The schema pgvector lives in (created where it can be); None when it cannot be had."""
    return _extension_schema(conn, "vector")


def _has_vector_column(conn: Connection) -> bool:
    return bool(conn.scalar(sa.text(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'embeddings' AND column_name = :c"), {"c": VECTOR_COLUMN}))


def _ensure_pg_vectors(conn: Connection) -> None:
    """Add the pgvector column and its HNSW index where they are missing and can be had,
    filling it from the stored bytes."""
    if conn.dialect.name != "postgresql" or _has_vector_column(conn):
        return
    schema = _pgvector_schema(conn)
    if schema is None:
        return
    log.info("adding pgvector column and HNSW index to embeddings")
    conn.exec_driver_sql(
        f'ALTER TABLE embeddings ADD COLUMN {VECTOR_COLUMN} "{schema}".vector({VECTOR_DIM})')
    update = sa.text(f'UPDATE embeddings SET {VECTOR_COLUMN} = CAST(:v AS "{schema}".vector) '
                     "WHERE article_id = :a")
    last = ""
    while True:
        rows = conn.execute(sa.select(embeddings.c.article_id, embeddings.c.vector)
                            .where(embeddings.c.article_id > last)
                            .order_by(embeddings.c.article_id).limit(1000)).all()
        if not rows:
            break
        last = rows[-1].article_id
        params = [{"a": r.article_id, "v": _vector_literal(np.frombuffer(r.vector, dtype="<f4"))}
                  for r in rows if len(r.vector) == 4 * VECTOR_DIM]
        if params:
            conn.execute(update, params)
    conn.exec_driver_sql(
        f'CREATE INDEX IF NOT EXISTS embeddings_{VECTOR_COLUMN}_hnsw ON embeddings '
        f'USING hnsw ({VECTOR_COLUMN} "{schema}".vector_cosine_ops)')


def _vector_literal(v: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in np.asarray(v, dtype=np.float32)) + "]"


def database_url(db: str | Path) -> str:
    """A path becomes an SQLite URL; anything with ``://`` is used as given."""
    s = str(db)
    if "://" in s:
        if s.startswith("postgresql://"):
            s = "postgresql+psycopg://" + s[len("postgresql://"):]
        return s
    return f"sqlite:///{Path(s).expanduser()}"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


# When Store.refresh_statistics analyzes a PostgreSQL table: after more than
# ANALYZE_MIN_CHANGES + ANALYZE_SHARE x its rows were written since its last ANALYZE.
ANALYZE_MIN_CHANGES = 100
ANALYZE_SHARE = 0.2



class _PartWriter:
    """A write-only, unseekable file that stores what is written to it as story index
    parts of ``STATE_PART_BYTES``, each as soon as it is full (``zipfile`` writes to it
    with data descriptors, since it cannot seek back)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._buf = bytearray()
        self._part = 0
        self.written = 0

    def write(self, data: bytes | memoryview) -> int:
        # slices of ``data`` go into the buffer up to one part, so the buffer never
        # holds more than a part, however large the array being written
        view = memoryview(data).cast("B")
        n = len(view)
        pos = 0
        while pos < n:
            take = min(n - pos, STATE_PART_BYTES - len(self._buf))
            self._buf += view[pos:pos + take]
            pos += take
            if len(self._buf) >= STATE_PART_BYTES:
                self._insert(bytes(self._buf))
                self._buf = bytearray()
        self.written += n
        return n

    def flush(self) -> None:
        pass  # parts are stored when full; the last one on close()

    def close(self) -> None:
        if self._buf or self._part == 0:  # an empty state is one empty part, as before
            self._insert(bytes(self._buf))
            self._buf = bytearray()

    def _insert(self, data: bytes) -> None:
        # the values as parameters, not in the statement: SQLAlchemy caches a compiled
        # statement with the statement it came from, and so kept a part's bytes alive
        self._conn.execute(story_index_parts.insert(), {"name": "default", "part": self._part, "data": data})
        self._part += 1



class _PartsReader(io.RawIOBase):
    """A read-only, seekable file over a saved story index's parts, in order."""

    def __init__(self, parts: list[bytes]) -> None:
        super().__init__()
        self._parts = parts
        self._starts = list(itertools.accumulate((len(p) for p in parts), initial=0))
        self.size = self._starts[-1]
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, b: Any) -> int:
        out = memoryview(b).cast("B")
        n = 0
        while n < len(out) and self._pos < self.size:
            k = bisect.bisect_right(self._starts, self._pos) - 1
            part, at = self._parts[k], self._pos - self._starts[k]
            take = min(len(out) - n, len(part) - at)
            out[n:n + take] = memoryview(part)[at:at + take]
            n += take
            self._pos += take
        return n


class Store:
    """All reads and writes of newsdesk data go through here."""

    def __init__(self, db: str | Path = "newsdesk.db", *, echo: bool = False) -> None:
        self.url = database_url(db)
        self._vector_schema: str | None = None  # pgvector's schema, when embeddings has its column
        self._search_config = _literal(SEARCH_CONFIG)  # PostgreSQL's, as an SQL literal (see 0011)
        self._search_logged = False
        self._analyze_warned = False
        # (change marker, {length: (ids, matrix, norms)}): the exact search's copy of the embeddings.
        self._embedding_cache: tuple[int | None, _Matrices] | None = None
        self._embedding_lock = threading.Lock()
        self._vector_space: str | None = None  # of the stored vectors, once read (save_embeddings)
        self.engine: Engine = sa.create_engine(self.url, echo=echo, future=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.migrate()

    # --- schema --------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations in order; returns the names applied.

        Safe when several processes open a new store at once: PostgreSQL takes an
        advisory lock; on SQLite the loser of the race retries once the winner's
        transaction is done.
        """
        for attempt in range(20):
            try:
                return self._migrate_once()
            except (sa.exc.OperationalError, sa.exc.IntegrityError, sa.exc.ProgrammingError):
                if attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return []

    def _migrate_once(self) -> list[str]:
        applied: list[str] = []
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7365001)"))
            schema_migrations.create(conn, checkfirst=True)
            done = set(conn.scalars(sa.select(schema_migrations.c.name)))
            for name, step in MIGRATIONS:
                if name in done:
                    continue
                log.info("applying migration %s", name)
                step(conn)
                conn.execute(schema_migrations.insert().values(name=name, applied_at=_utcnow()))
                applied.append(name)
            self._vector_schema = None
            if self.engine.dialect.name == "postgresql":
                if "0006_embedding_vectors" in done:
                    _ensure_pg_vectors(conn)  # pgvector may have been installed since
                if _has_vector_column(conn):
                    self._vector_schema = _pgvector_schema(conn)
                if "0011_search_unaccent" in done:
                    _ensure_pg_unaccent(conn, announce=False)  # unaccent may have been installed since
                self._search_config = _literal(_unaccent_config(conn) or SEARCH_CONFIG)
        return applied

    def _binary(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """Order by code point, as SQLite does, whatever the PostgreSQL database's collation."""
        return column.collate("C") if self.engine.dialect.name == "postgresql" else column

    def migrations(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(sa.select(schema_migrations.c.name).order_by("name")))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- articles ------------------------------------------------------------------
    def raw_hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """The stored input hash of each of these ids that exists."""
        ids = list(ids)
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return {
                row.id: row.raw_hash
                for row in conn.execute(
                    sa.select(articles.c.id, articles.c.raw_hash).where(articles.c.id.in_(ids))
                )
            }

    def add_articles(self, batch: Iterable[Article], *,
                     outlet_lines: Mapping[str, Mapping[str, int]] | None = None) -> WriteCounts:
        """Insert new articles; an article whose id exists is left alone when its
        input is unchanged and replaced when it changed. One transaction, which also
        adds ``outlet_lines`` (outlet -> line -> pages) to the outlet memory: counted
        apart, a crash between the two made the rerun count those pages again.

        A changed article loses its copy keys and copy row in the same transaction,
        so that a crash before it is folded again leaves it visibly unfolded
        (``unfolded``) instead of folded under its old text."""
        rows = [_article_row(a) for a in batch]
        if not rows:
            return WriteCounts()
        ids = [r["id"] for r in rows]
        with self.engine.begin() as conn:
            existing: dict[str, str] = {
                row.id: row.raw_hash
                for row in conn.execute(
                    sa.select(articles.c.id, articles.c.raw_hash).where(articles.c.id.in_(ids))
                )
            }
            inserted = updated = unchanged = 0
            seen: set[str] = set()
            changed: list[str] = []
            new_rows: list[dict[str, object]] = []
            for row in rows:
                aid = str(row["id"])
                if aid in seen:  # the same record twice in one batch
                    unchanged += 1
                    continue
                seen.add(aid)
                old = existing.get(aid)
                if old is None:
                    new_rows.append(row)
                    inserted += 1
                    changed.append(aid)
                elif old != row["raw_hash"]:
                    values = {k: v for k, v in row.items() if k != "id"}
                    conn.execute(articles.update().where(articles.c.id == aid).values(**values))
                    updated += 1
                    changed.append(aid)
                else:
                    unchanged += 1
            if new_rows:  # one executemany: a statement per row cost about 0.5 ms per article
                conn.execute(articles.insert(), new_rows)
            updated_ids = [aid for aid in changed if aid in existing]
            if updated_ids:
                conn.execute(sa.delete(copy_keys).where(copy_keys.c.article_id.in_(updated_ids)))
                conn.execute(sa.delete(copy_sketches).where(copy_sketches.c.article_id.in_(updated_ids)))
                conn.execute(sa.delete(copies).where(copies.c.article_id.in_(updated_ids)))
            for source, counts in (outlet_lines or {}).items():
                _count_outlet_lines(conn, source, counts)
            _refresh_story_stats(conn, _stories_of_articles(conn, changed))  # dates may have changed
        self.refresh_statistics()
        return WriteCounts(inserted, updated, unchanged)

    def refresh_statistics(self) -> list[str]:
        """On PostgreSQL, ANALYZE the tables that changed much since their last
        statistics; returns their names (nothing to do on SQLite).

        The planner plans from those statistics, which autovacuum refreshes only
        when the server has it on and gets round to it: a bulk load outruns it, and
        a copy-key lookup planned for an empty table reads the whole table (at
        520,000 keys: 32 ms a lookup instead of 2.8 ms, and the load slowed as the
        store grew). Called after each batch of articles written; the threshold is
        autovacuum's default rule (50 rows + 10% of the table, doubled here)."""
        if self.engine.dialect.name != "postgresql":
            return []
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.text(
                    "SELECT s.relname, pg_has_role(c.relowner, 'USAGE') FROM pg_stat_user_tables s "
                    "JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema() "
                    "AND s.n_mod_since_analyze > :floor + :share * s.n_live_tup"),
                    {"floor": ANALYZE_MIN_CHANGES, "share": ANALYZE_SHARE}).all()
                stale = sorted(name for name, owned in rows if owned and name in metadata.tables)
                # The server only warns and skips a table its user does not own.
                refused = sorted(name for name, owned in rows if not owned and name in metadata.tables)
                if stale:
                    conn.exec_driver_sql("ANALYZE " + ", ".join(
                        self.engine.dialect.identifier_preparer.quote(n) for n in stale))
                    conn.commit()
        except sa.exc.SQLAlchemyError as e:  # the write is done: go on without fresh statistics
            why, stale = f"the server refused ({e.__class__.__name__}: {str(e).splitlines()[0]})", []
        else:
            why = f"this user does not own {', '.join(refused)}" if refused else ""
        if why and not self._analyze_warned:
            log.warning("could not refresh PostgreSQL statistics: %s; lookups may slow as the store "
                        "grows unless autovacuum is on or the owner runs ANALYZE", why)
            self._analyze_warned = True
        return stale

    def get_article(self, article_id: str) -> Article | None:
        if "\x00" in article_id:  # no stored id has one (readers drop NUL); PostgreSQL refuses it
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(articles).where(articles.c.id == article_id)).first()
            if row is None:
                # Let users type a unique prefix of a hash id, as with git.
                rows = conn.execute(
                    sa.select(articles).where(_prefix(articles.c.id, article_id))
                    .limit(2)
                ).all()
                row = rows[0] if len(rows) == 1 else None
        return _row_article(row) if row is not None else None

    def iter_articles(
        self,
        *,
        source: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        chunk: int = 500,
    ) -> Iterator[Article]:
        """Articles ordered by publication time (undated last), then id."""
        query = sa.select(articles).order_by(
            articles.c.published.is_(None), articles.c.published, self._binary(articles.c.id)
        )
        if source is not None:
            query = query.where(articles.c.source == _no_nul(source))  # PostgreSQL refuses NUL
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(query)
            for row in result:
                yield _row_article(row)

    def get_articles(self, ids: Sequence[str], *, text: bool = True) -> dict[str, Article]:
        """Articles by id. ``text=False``: without their text and removals (empty), for
        what needs only metadata and hashes (a story page checking its account is fresh
        reads a few hundred rows; their texts were most of the time)."""
        wanted = [i for i in ids if "\x00" not in i]  # as in get_article
        columns = (list(articles.c) if text else
                   [c for c in articles.c if c.name not in ("text", "removed")])
        with self.engine.connect() as conn:
            return {r.id: _row_article(r) for r in conn.execute(
                sa.select(*columns).where(articles.c.id.in_(wanted)))}

    def article_ids(self) -> list[str]:
        """Every article id, oldest publication first."""
        with self.engine.connect() as conn:
            return list(conn.scalars(sa.select(articles.c.id).order_by(
                articles.c.published.is_(None), articles.c.published, self._binary(articles.c.id))))

    def placement_order(self) -> list[str]:
        """Every article id in the order story placement took them (``story_members.placed``).
        Articles placed before that was recorded come first, in the order they were
        stored; articles never placed come last, oldest publication first."""
        m = story_members.c
        with self.engine.connect() as conn:
            return list(conn.scalars(
                sa.select(articles.c.id)
                .select_from(articles.outerjoin(story_members, m.article_id == articles.c.id))
                .order_by(m.article_id.is_(None), m.placed.is_not(None), m.placed,
                          articles.c.ingested_at, articles.c.published.is_(None),
                          articles.c.published, self._binary(articles.c.id))))

    def last_placed(self) -> int:
        """The highest ``story_members.placed`` so far (0 when none)."""
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.max(story_members.c.placed))) or 0)

    def count_articles(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(articles)) or 0)

    # --- outlet boilerplate -------------------------------------------------------------
    def outlet_boilerplate(self, source: str, *, min_pages: int) -> frozenset[str]:
        """Normalised lines seen on at least ``min_pages`` articles of one outlet."""
        with self.engine.connect() as conn:
            return frozenset(conn.scalars(
                sa.select(outlet_lines.c.line).where(
                    outlet_lines.c.source == source, outlet_lines.c.pages >= min_pages)
            ))

    def outlet_line_counts(self, source: str, lines: Iterable[str]) -> dict[str, int]:
        """How many stored pages of the outlet each of these normalised lines is on."""
        wanted = sorted(set(lines))
        if not wanted:
            return {}
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                for r in conn.execute(sa.select(outlet_lines.c.line, outlet_lines.c.pages).where(
                        outlet_lines.c.source == source, outlet_lines.c.line.in_(wanted[i:i + 500]))):
                    out[r.line] = r.pages
        return out

    def count_source_articles(self, source: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(articles)
                                   .where(articles.c.source == _no_nul(source))) or 0)

    def count_outlet_lines(self, source: str, lines: Iterable[str]) -> None:
        """Add one page to the count of each (distinct) line of an outlet."""
        distinct = sorted(set(lines))
        if not distinct:
            return
        with self.engine.begin() as conn:
            _count_outlet_lines(conn, source, dict.fromkeys(distinct, 1))

    # --- copies ---------------------------------------------------------------------
    def copy_buckets(self, per_key: int = 64) -> SqlBuckets:
        return SqlBuckets(self, per_key=per_key)

    def copy_records(self, ids: Sequence[str], *,
                     shingle_words: int = DEFAULT_COPY_PARAMS.shingle_words) -> dict[str, CopyRecord]:
        """What copy verification needs of stored articles, with their group's original.

        An article with a stored sketch of ``shingle_words``-word shingles comes with
        its word count, credits and shingles and an empty ``text`` (verification
        needs no more); others come with their text, to be tokenised."""
        if not ids:
            return {}
        q = _copy_records_query(shingle_words)
        out: dict[str, CopyRecord] = {}
        unreadable: list[str] = []
        with self.engine.connect() as conn:
            for r in conn.execute(q, {"ids": list(ids)}):
                rec = CopyRecord(id=r.id, text=r.text, published=r.published,
                                 content_hash=r.content_hash, original_id=r.original_id or r.id,
                                 feed_source=r.feed_source)
                if r.sketched:
                    try:
                        rec = replace(rec, n_words=int(r.n_words), credits=frozenset(json.loads(r.credits)),
                                      shingles=np.frombuffer(r.shingles, dtype="<u4").astype(np.uint32))
                    except (ValueError, TypeError) as e:  # a damaged row: verify from the text
                        log.warning("article %s: unreadable copy sketch (%s); using its text", r.id, e)
                        unreadable.append(r.id)
                out[r.id] = rec
            for chunk in _chunks(unreadable, 500):
                for aid, text in conn.execute(sa.select(articles.c.id, articles.c.text)
                                              .where(articles.c.id.in_(chunk))):
                    out[aid] = replace(out[aid], text=text)
        return out

    def save_copy_matches(self, matches: Iterable[CopyMatch], *, keys: SqlBuckets | None = None) -> None:
        """Record copy matches in order; a new original takes over its whole group.

        ``keys``: the copy index's buffered keys, written in the same transaction, so
        an article has copy keys exactly when its matches are saved (``unfolded``)."""
        with self.engine.begin() as conn:
            if keys is not None:
                keys.flush(conn)
            # Articles whose own copy row changes: a story's stats depend on copy rows only
            # through which members are originals (its independent outlets), and the
            # original a copy is matched with stays one, so its story is not re-read
            # (every member of it, at each new copy: 1.4 s of a 40,000-article load).
            touched: list[str] = []
            for m in matches:
                touched.append(m.article_id)
                if m.replaced_original_id is not None:
                    touched.append(m.replaced_original_id)
                evidence = json.dumps([{"method": e.method, "score": e.score, "detail": e.detail}
                                       for e in m.evidence], ensure_ascii=False)
                row = {"original_id": m.original_id, "matched_id": m.matched_id, "method": m.method,
                       "score": m.score, "evidence": evidence, "component": m.component}
                if m.replaced_original_id is not None:
                    old = m.replaced_original_id
                    conn.execute(copies.update().where(copies.c.original_id == old)
                                 .values(original_id=m.original_id))
                    # The former original is now a copy of the new one, for the same reason.
                    conn.execute(sa.delete(copies).where(copies.c.article_id == old))
                    conn.execute(copies.insert().values(article_id=old, **(row | {
                        "matched_id": m.article_id, "original_id": m.original_id})))
                if m.original_id != m.article_id:
                    conn.execute(sa.delete(copies).where(copies.c.article_id == m.article_id))
                    conn.execute(copies.insert().values(article_id=m.article_id, **row))
            _refresh_story_stats(conn, _stories_of_articles(conn, touched))  # independent outlets

    def unfolded(self, article_ids: Sequence[str] | None = None) -> list[str]:
        """Stored articles (of these, else all) not yet placed in the copy index: every
        folded article has at least its exact-hash key. A run killed between storing
        a batch and folding it leaves these."""
        q = sa.select(articles.c.id).where(~sa.exists().where(copy_keys.c.article_id == articles.c.id))
        with self.engine.connect() as conn:
            if article_ids is None:
                return list(conn.scalars(q.order_by(self._binary(articles.c.id))))
            out: list[str] = []
            for chunk in _chunks(list(article_ids), 500):
                out += conn.scalars(q.where(articles.c.id.in_(chunk)))
            return out

    def forget_copies(self, article_ids: Sequence[str]) -> None:
        """Drop the copy keys and copy rows of articles whose content changed."""
        if not article_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(sa.delete(copy_keys).where(copy_keys.c.article_id.in_(list(article_ids))))
            conn.execute(sa.delete(copy_sketches).where(copy_sketches.c.article_id.in_(list(article_ids))))
            conn.execute(sa.delete(copies).where(copies.c.article_id.in_(list(article_ids))))
            _refresh_story_stats(conn, _stories_of_articles(conn, article_ids))

    def copy_info(self, article_id: str) -> dict[str, object] | None:
        """The copy row of an article (None when it is an original or alone)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(copies).where(copies.c.article_id == article_id)).first()
        if row is None:
            return None
        m = dict(row._mapping)
        m["evidence"] = json.loads(m["evidence"])
        return m

    def story_of_map(self, ids: Sequence[str]) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.article_id: r.story_id for r in conn.execute(
                sa.select(story_members.c.article_id, story_members.c.story_id)
                .where(story_members.c.article_id.in_(list(ids))))}

    def all_copies(self) -> tuple[dict[str, str], dict[str, str]]:
        """Every copy's original and the article it was matched with, as two maps
        {article id: original id} and {article id: matched id}."""
        originals: dict[str, str] = {}
        matched: dict[str, str] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(sa.select(copies.c.article_id, copies.c.original_id,
                                            copies.c.matched_id)):
                originals[r.article_id] = r.original_id
                matched[r.article_id] = r.matched_id
        return originals, matched

    def copy_of_map(self, ids: Sequence[str]) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.article_id: r.original_id for r in conn.execute(
                sa.select(copies.c.article_id, copies.c.original_id)
                .where(copies.c.article_id.in_(list(ids))))}

    # --- embeddings and stories -----------------------------------------------------
    def save_embeddings(self, component: str, vectors: Mapping[str, np.ndarray]) -> None:
        if not vectors:
            return
        rows = [{"article_id": aid, "component": component,
                 "vector": np.asarray(v, dtype="<f4").tobytes()} for aid, v in vectors.items()]
        self._embedding_cache = None
        with self.engine.begin() as conn:
            self._check_vector_space(conn, component)
            conn.execute(sa.delete(embeddings).where(embeddings.c.article_id.in_(list(vectors))))
            if self._vector_schema is None:
                conn.execute(embeddings.insert(), rows)
                return
            insert = sa.text(
                f"INSERT INTO embeddings (article_id, component, vector, {VECTOR_COLUMN}) "
                f'VALUES (:article_id, :component, :vector, CAST(:v AS "{self._vector_schema}".vector))')
            conn.execute(insert, [r | {"v": _vector_literal(vectors[str(r["article_id"])])
                                       if len(r["vector"]) == 4 * VECTOR_DIM else None}  # type: ignore[arg-type]
                                  for r in rows])

    def vector_space(self) -> str | None:
        """The space of the stored vectors (``embeddings.vector_space``); None: none stored."""
        if self._vector_space is None:
            with self.engine.connect() as conn:
                held = conn.execute(sa.select(embeddings.c.component).limit(1)).scalar()
            if held is not None:
                self._vector_space = vector_space(held)
        return self._vector_space

    def _check_vector_space(self, conn: Connection, component: str) -> None:
        """VectorSpaceError unless ``component``'s vectors can sit beside the stored ones.

        One stored row tells the store's space: this check keeps every store to one.
        """
        space = vector_space(component)
        if self._vector_space is None:
            held = conn.execute(sa.select(embeddings.c.component).limit(1)).scalar()
            if held is None:
                return
            self._vector_space = vector_space(held)
        if self._vector_space != space:
            where = self.engine.url.render_as_string(hide_password=True)
            backend = "static" if self._vector_space == "static" else "onnx-int8 (the default), onnx or torch"
            raise VectorSpaceError(
                f"{where}: its articles' vectors come from the {self._vector_space} embedder, and "
                f"these are {component}: vectors of the two cannot be compared, so stories would "
                f"be wrong. Use the store's embedder (NEWSDESK_EMBEDDER={backend}, or unset: a store's "
                "own kind is then followed) or a new store.")

    @property
    def vector_search(self) -> str:
        """How ``nearest_articles`` searches: ``"pgvector"`` (HNSW in PostgreSQL) or ``"numpy"``."""
        return "pgvector" if self._vector_schema is not None else "numpy"

    def nearest_articles(self, vector: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` stored articles whose embeddings are closest to ``vector``, as
        (article id, cosine similarity), most similar first.

        pgvector's HNSW index where the store has it (approximate, like any HNSW; the
        cosine is exact), otherwise an exact scan of the stored embeddings with numpy.
        """
        q = np.asarray(vector, dtype=np.float32).ravel()
        if k <= 0 or not np.any(q):
            return []
        use_pg = self._vector_schema is not None and q.shape[0] == VECTOR_DIM
        if not self._search_logged:
            log.info("nearest_articles: %s", "pgvector HNSW index" if use_pg else "exact numpy search")
            self._search_logged = True
        if use_pg:
            return self._nearest_pgvector(q, k)
        return self._nearest_numpy(q, k)

    def _nearest_pgvector(self, q: np.ndarray, k: int) -> list[tuple[str, float]]:
        vs = self._vector_schema
        dist = f'{VECTOR_COLUMN} OPERATOR("{vs}".<=>) CAST(:q AS "{vs}".vector)'
        query = sa.text(f"SELECT article_id, 1 - ({dist}) AS cosine FROM embeddings "
                        f"WHERE {VECTOR_COLUMN} IS NOT NULL ORDER BY {dist} LIMIT :k")
        with self.engine.begin() as conn:
            # HNSW returns at most ef_search rows (40 by default).
            conn.execute(sa.text("SELECT set_config('hnsw.ef_search', :ef, true)"),
                         {"ef": str(min(max(40, 2 * k), 1000))})
            return [(r.article_id, float(r.cosine))
                    for r in conn.execute(query, {"q": _vector_literal(q), "k": k})]

    def _nearest_numpy(self, q: np.ndarray, k: int) -> list[tuple[str, float]]:
        q = q / np.linalg.norm(q)
        matrix = self._embedding_matrix(q.shape[0])
        if matrix is None:
            return []
        ids, m, norms = matrix
        sim = (m @ q) / norms
        if k < len(ids):
            # Every row tied with the k-th best is a candidate, so ties break by id exactly.
            kth = np.partition(sim, len(ids) - k)[len(ids) - k]
            candidates = np.flatnonzero(sim >= kth)
        else:
            candidates = np.arange(len(ids))
        order = sorted(candidates.tolist(), key=lambda i: (-sim[i], ids[i]))[:k]
        return [(ids[i], float(sim[i])) for i in order]

    def _embedding_matrix(self, dim: int) -> tuple[list[str], np.ndarray, np.ndarray] | None:
        """The stored embeddings of length ``dim`` as (ids, matrix, row norms), read once
        and kept until the embeddings change: a trigger bumps a change marker on every
        write, whichever process makes it, and the marker is read before the rows (a
        write in between costs one more reload, never a stale answer)."""
        with self._embedding_lock:
            with self.engine.connect() as conn:
                marker = conn.scalar(sa.select(change_markers.c.value)
                                     .where(change_markers.c.name == "embeddings"))
                # A local: save_embeddings (another thread) may drop the cache meanwhile.
                cache = self._embedding_cache
                if cache is None or marker != cache[0]:
                    cache = (marker, _read_embedding_matrices(conn))
                    self._embedding_cache = cache
            return cache[1].get(dim)

    def change_marker(self, name: str) -> int:
        """A counter that moves whenever the tables it covers change (``embeddings``: the
        embeddings; ``stories``: what a story page reads). Read it before the data a
        cache keeps under it: a write in between costs a miss, never a stale hit."""
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(change_markers.c.value)
                                   .where(change_markers.c.name == name)) or 0)

    def count_embeddings(self, *, source: str | None = None) -> int:
        """How many stored articles (of one outlet) have an embedding."""
        q = (sa.select(sa.func.count()).select_from(embeddings.join(articles, articles.c.id
                                                                    == embeddings.c.article_id)))
        if source is not None:
            q = q.where(articles.c.source == _no_nul(source))
        with self.engine.connect() as conn:
            return int(conn.scalar(q) or 0)

    def article_rows(self, ids: Sequence[str], lead_chars: int = 400) -> dict[str, dict[str, Any]]:
        """What a list of articles shows, without their full text: id, title, source,
        published, url, story_id and lead (the first ``lead_chars`` characters)."""
        out: dict[str, dict[str, Any]] = {}
        q = (sa.select(articles.c.id, articles.c.title, articles.c.source, articles.c.published,
                       articles.c.url, story_members.c.story_id,
                       sa.func.substr(articles.c.text, 1, lead_chars).label("lead"))
             .select_from(articles.outerjoin(story_members, story_members.c.article_id == articles.c.id)))
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                out.update({r.id: dict(r._mapping) for r in conn.execute(q.where(articles.c.id.in_(chunk)))})
        return out

    def embedded_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` have a stored embedding (the vectors are not read)."""
        out: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                out.update(conn.scalars(sa.select(embeddings.c.article_id)
                                        .where(embeddings.c.article_id.in_(chunk))))
        return out

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self.engine.connect() as conn:
            return {r.article_id: np.frombuffer(r.vector, dtype="<f4")
                    for r in conn.execute(sa.select(embeddings.c.article_id, embeddings.c.vector)
                                          .where(embeddings.c.article_id.in_(list(ids))))}

    def load_story_state(self) -> bytes | None:
        """The saved story index's bytes (None: none saved)."""
        reader = self.open_story_state()
        return None if reader is None else reader.read()

    def open_story_state(self) -> _PartsReader | None:
        """The saved story index as a seekable file over its stored parts, which are
        read once and not joined: reading it holds the state once, not twice."""
        with self.engine.connect() as conn:
            whole = conn.scalar(sa.select(story_index_state.c.data)
                                .where(story_index_state.c.name == "default"))
            if whole is None or len(whole) > 0:
                return None if whole is None else _PartsReader([bytes(whole)])  # whole: before 0012
            parts = conn.execute(sa.select(story_index_parts.c.data)
                                 .where(story_index_parts.c.name == "default")
                                 .order_by(story_index_parts.c.part))
            return _PartsReader([bytes(data) for (data,) in parts])

    def story_state_stamp(self) -> tuple[int, datetime] | None:
        """(articles, saved at) of the saved story index, without loading it: a
        long-running process tells from it whether another one saved since."""
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(story_index_state.c.articles, story_index_state.c.updated_at)
                             .where(story_index_state.c.name == "default")).first()
        return (r.articles, r.updated_at) if r else None

    def save_story_state(self, data: bytes | memoryview | Callable[[_PartWriter], None],
                         n_articles: int) -> None:
        """Replace the saved story index, in parts of ``STATE_PART_BYTES`` (one transaction).

        ``data`` is the state's bytes, or a function that writes them to the file-like
        object it is given: then each part is stored as soon as it is full, and the whole
        state never has to be in memory at once (at 1,000,000 articles it is gigabytes).
        """
        with self.engine.begin() as conn:
            conn.execute(sa.delete(story_index_parts).where(story_index_parts.c.name == "default"))
            conn.execute(sa.delete(story_index_state).where(story_index_state.c.name == "default"))
            conn.execute(story_index_state.insert().values(
                name="default", data=b"", articles=n_articles, updated_at=_utcnow()))
            out = _PartWriter(conn)
            if callable(data):
                data(out)
            else:
                out.write(data)
            out.close()

    def story_map(self) -> dict[str, str]:
        """article id -> story id, for every placed article."""
        with self.engine.connect() as conn:
            return {r.article_id: r.story_id for r in conn.execute(
                sa.select(story_members.c.article_id, story_members.c.story_id))}

    def write_story_members(self, rows: Sequence[dict[str, object]], moved: Mapping[str, str],
                            component: str) -> None:
        """Insert/replace assignment rows, and move other articles to new story ids."""
        with self.engine.begin() as conn:
            touched = [str(r["article_id"]) for r in rows] + list(moved)
            affected = _stories_of_articles(conn, touched)
            affected |= {str(r["story_id"]) for r in rows} | set(moved.values())
            if rows:
                conn.execute(sa.delete(story_members).where(
                    story_members.c.article_id.in_([r["article_id"] for r in rows])))
                conn.execute(story_members.insert(), [r | {"component": component} for r in rows])
            by_story: dict[str, list[str]] = {}
            for aid, sid in moved.items():
                by_story.setdefault(sid, []).append(aid)
            for sid, aids in by_story.items():
                for i in range(0, len(aids), 500):
                    conn.execute(story_members.update()
                                 .where(story_members.c.article_id.in_(aids[i:i + 500]))
                                 .values(story_id=sid))
            _refresh_story_stats(conn, affected)

    def add_correction(self, kind: str, payload: Mapping[str, object]) -> None:
        with self.engine.begin() as conn:
            conn.execute(story_corrections.insert().values(
                kind=kind, payload=json.dumps(payload), created_at=_utcnow()))

    def corrections(self) -> list[tuple[int, str, str]]:
        """Users' merges and splits, in the order they were made: (seq, kind, payload as
        stored, JSON), parsed by the caller so that one damaged row loses no other."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(story_corrections.c.seq, story_corrections.c.kind,
                                          story_corrections.c.payload)
                                .order_by(story_corrections.c.seq)).all()
        return [(int(seq), str(kind), str(payload)) for seq, kind, payload in rows]

    def renumber_placement(self, order: Sequence[str]) -> None:
        """Set ``story_members.placed`` to each article's position in ``order`` (from 1),
        in one transaction: a rebuild writes the order it will follow first, so that an
        interrupted one, run again, follows the same order."""
        m = story_members.c
        with self.engine.begin() as conn:
            for chunk in _chunks(list(enumerate(order, start=1)), 5000):
                conn.execute(story_members.update().where(m.article_id == sa.bindparam("aid"))
                             .values(placed=sa.bindparam("pos")),
                             [{"aid": aid, "pos": pos} for pos, aid in chunk])

    def story_rows(self, story_id: str | None = None) -> list[dict[str, Any]]:
        """Member articles with their story, outlet, date, title and copy original."""
        q = (
            sa.select(story_members.c.story_id, story_members.c.score, story_members.c.reasons,
                      articles.c.id, articles.c.title, articles.c.source, articles.c.published,
                      articles.c.url, copies.c.original_id, copies.c.method, copies.c.evidence)
            .select_from(story_members.join(articles, articles.c.id == story_members.c.article_id)
                         .outerjoin(copies, copies.c.article_id == articles.c.id))
        )
        if story_id is not None:
            q = q.where(story_members.c.story_id == story_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def resolve_story_id(self, prefix: str) -> str | None:
        if "\x00" in prefix:  # as in get_article
            return None
        with self.engine.connect() as conn:
            # A full id is found on the index; only a prefix needs the scan below.
            exact = conn.scalar(sa.select(story_members.c.story_id)
                                .where(story_members.c.story_id == prefix).limit(1))
            if exact is not None:
                return str(exact)
            ids = list(conn.scalars(sa.select(story_members.c.story_id).distinct().where(
                _prefix(story_members.c.story_id, prefix)).limit(2)))
        return ids[0] if len(ids) == 1 else None

    # --- accounts ----------------------------------------------------------------------
    def get_analyses(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """article id -> (input hash, JSON) of its stored analysis."""
        out: dict[str, tuple[str, str]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids), 500):
                q = sa.select(article_analyses.c.article_id, article_analyses.c.input_hash,
                              article_analyses.c.data).where(article_analyses.c.article_id.in_(chunk))
                out.update({r.article_id: (r.input_hash, r.data) for r in conn.execute(q)})
        return out

    def save_analyses(self, rows: Mapping[str, tuple[str, str]]) -> None:
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(article_analyses.delete().where(article_analyses.c.article_id.in_(list(rows))))
            conn.execute(article_analyses.insert(), [
                {"article_id": k, "input_hash": h, "data": d, "created_at": _utcnow()}
                for k, (h, d) in rows.items()])

    def get_account(self, story_id: str) -> tuple[str, str] | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(story_accounts.c.input_hash, story_accounts.c.data)
                             .where(story_accounts.c.story_id == story_id)).first()
        return (r.input_hash, r.data) if r else None

    def save_account(self, story_id: str, input_hash: str, data: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(story_accounts.delete().where(story_accounts.c.story_id == story_id))
            conn.execute(story_accounts.insert().values(story_id=story_id, input_hash=input_hash,
                                                        data=data, created_at=_utcnow()))
            _write_story_entities(conn, story_id, data)

    def story_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(sa.select(story_members.c.story_id)
                                     .group_by(story_members.c.story_id)
                                     .order_by(self._binary(story_members.c.story_id))))

    # --- keyword search and story listing ----------------------------------------------
    def search_articles(self, query: str, *, limit: int = 20, offset: int = 0,
                        source: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Articles whose title or cleaned text match a keyword query, best first, and
        how many match in all.

        ``query`` is free text (see ``textquery``): words, "quoted phrases", ``or``,
        ``-excluded``; nothing in it is SQL or index syntax. Rows: id, title, source,
        published, url, story_id, score (higher is better: -bm25 on SQLite, ts_rank on
        PostgreSQL, title words counting double on both; equal scores in a fixed
        order) and snippet, an excerpt of the text with the matching words between
        \\x02 and \\x03 (plain text, not HTML). ``source`` keeps one outlet's articles.
        """
        _check_page(limit, offset)
        q = parse_query(query)
        if not q:
            return [], 0
        params: dict[str, Any] = {"q": self._query_text(q), "limit": limit, "offset": offset,
                                  "source": _no_nul(source)}
        if self.engine.dialect.name == "sqlite":
            # Rank and cut the page inside the index, then read only the page's rows.
            where = "article_search MATCH :q"
            if source is not None:
                # "+rowid": let the index drive and test membership (a seek per source article is slower).
                where += (" AND +rowid IN (SELECT d.doc FROM article_search_docs d "
                          "JOIN articles a ON a.id = d.article_id WHERE a.source = :source)")
            page = sa.text(
                "SELECT a.id, a.title, a.source, a.published, a.url, m.story_id, -s.bm25 AS score, "
                "snippet(article_search, 1, char(2), char(3), '…', :tokens) AS snippet "
                "FROM (SELECT rowid AS doc, bm25(article_search, 2.0, 1.0) AS bm25 FROM article_search "
                f"WHERE {where} ORDER BY bm25, rowid LIMIT :limit OFFSET :offset) s "
                "JOIN article_search ON article_search.rowid = s.doc AND article_search MATCH :q "
                "JOIN article_search_docs d ON d.doc = s.doc JOIN articles a ON a.id = d.article_id "
                "LEFT JOIN story_members m ON m.article_id = a.id ORDER BY s.bm25, s.doc")
            count = sa.text(f"SELECT count(*) FROM article_search WHERE {where}")
        else:
            tsquery = f"websearch_to_tsquery({self._search_config}::regconfig, :q)"
            where = f"a.{_PG_VECTOR} @@ {tsquery}"
            # Weights {D, C, B, A}: title words (B) count double text words (D), as in bm25 above.
            rank = f"ts_rank('{{0.1, 0.2, 0.2, 1.0}}'::float4[], a.{_PG_VECTOR}, {tsquery}, 1)"
            if source is not None:
                where += " AND a.source = :source"
            page = sa.text(
                "SELECT a.id, a.title, a.source, a.published, a.url, m.story_id, s.score, "
                f"ts_headline({self._search_config}::regconfig, a.\"text\", {tsquery}, :headline) AS snippet "
                f"FROM (SELECT a.id, {rank} AS score FROM articles a WHERE {where} "
                'ORDER BY score DESC, a.id COLLATE "C" LIMIT :limit OFFSET :offset) s '
                "JOIN articles a ON a.id = s.id LEFT JOIN story_members m ON m.article_id = a.id "
                'ORDER BY s.score DESC, s.id COLLATE "C"')
            count = sa.text(f"SELECT count(*) FROM articles a WHERE {where}")
            params["headline"] = _PG_HEADLINE
        params["tokens"] = SNIPPET_TOKENS
        typed = page.columns(published=sa.DateTime, score=sa.Float)
        with self.engine.begin() as conn:
            self._prefer_text_index(conn)
            rows = [dict(r._mapping) for r in conn.execute(typed, params)] if limit else []
            if offset == 0 and len(rows) < limit:
                total = len(rows)
            else:
                total = int(conn.scalar(count, params) or 0)
        for r in rows:
            r["score"] = float(r["score"])
            r["snippet"] = r["snippet"] or ""
        return rows, total

    def _prefer_text_index(self, conn: Connection) -> None:
        """On PostgreSQL, keep the planner off sequential scans for this transaction: it
        prices a scan without the cost of decompressing every row's search_vector, and
        picks one for common words, 3-7 times slower than the GIN index (measured at
        100,000 articles: a word in 28% of them, 1.15 s -> 0.17 s to count)."""
        if self.engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT set_config('enable_seqscan', 'off', true)"))

    def _query_text(self, q: KeywordQuery) -> str:
        return q.fts5() if self.engine.dialect.name == "sqlite" else q.websearch()

    def _matching_ids(self, q: KeywordQuery, name: str) -> tuple[sa.TextClause, dict[str, str]]:
        """SQL selecting the ids of the articles matching ``q``, and its parameter."""
        if self.engine.dialect.name == "sqlite":
            sql = ("SELECT d.article_id FROM article_search JOIN article_search_docs d "
                   f"ON d.doc = article_search.rowid WHERE article_search MATCH :{name}")
        else:
            # OFFSET 0 keeps the match a subquery of its own, run once on the GIN index: pulled
            # up into the story listing, it was tested member by member (1.2 s instead of 0.1 s
            # for a word in 10% of 100,000 articles).
            sql = (f"SELECT id FROM articles WHERE {_PG_VECTOR} @@ "
                   f"websearch_to_tsquery({self._search_config}::regconfig, :{name}) OFFSET 0")
        return sa.text(sql), {name: self._query_text(q)}

    def story_summaries(self, *, since: datetime | None = None, until: datetime | None = None,
                        outlet: str | None = None, text: str | None = None, entity: str | None = None,
                        story_ids: Sequence[str] | None = None, order: str = "recent",
                        limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """One page of stories, filtered and ordered in SQL, and how many stories pass
        the filters.

        Rows: id, title (of the earliest member, ties by id), first and last (seen),
        articles, outlets (independent outlets: copies count once, an article without
        an outlet is a voice of its own), as ``storybook.summarize_stories`` counts them,
        and sources: (outlet, articles) pairs, most articles first (then by name), at
        most ``MAX_SOURCES``, articles without an outlet left out.

        ``order``: ``"recent"`` (latest last-seen first, then most articles, then id;
        undated stories last) or ``"size"`` (most articles first, then as recent).
        Filters: ``since``/``until`` keep dated stories whose [first, last] overlaps
        them; ``outlet`` those with a member from that outlet; ``text`` those with a
        member matching the keyword query; ``entity`` those with a member whose title
        or text has that name as a phrase, or whose cached account lists an entity
        with that name or alias (any case); ``story_ids`` only these stories.
        """
        _check_page(limit, offset)
        if order not in STORY_ORDERS:
            raise ValueError(f"order must be one of {', '.join(STORY_ORDERS)}, not {order!r}")
        st = story_stats
        stats = sa.select(st.c.story_id, st.c.articles, st.c.first_seen, st.c.last_seen)
        params: dict[str, Any] = {}
        if story_ids is not None:
            wanted = [i.replace("\x00", "") for i in story_ids]
            if self.engine.dialect.name == "postgresql":
                # One array parameter: an IN list takes one per id, and the drivers
                # stop at 65,535 (SQLite at 32,766).
                stats = stats.where(st.c.story_id == sa.any_(
                    sa.bindparam("story_ids", wanted, type_=postgresql.ARRAY(sa.Text))))
            else:
                stats = stats.where(st.c.story_id.in_(
                    sa.select(sa.column("value", sa.Text)).select_from(
                        sa.func.json_each(sa.bindparam("story_ids", json.dumps(wanted))))))
        if outlet is not None:
            om, oa = story_members.alias("om"), articles.alias("oa")
            stats = stats.where(st.c.story_id.in_(
                sa.select(om.c.story_id).select_from(om.join(oa, oa.c.id == om.c.article_id))
                .where(oa.c.source == _no_nul(outlet))))
        if text is not None:
            kq = parse_query(text)
            if not kq:
                return [], 0
            ids, p = self._matching_ids(kq, "text_q")
            stats = stats.where(st.c.story_id.in_(self._stories_of(ids)))
            params |= p
        if entity is not None:
            key = entity_key(entity)
            if not key:
                return [], 0
            by_account = sa.select(story_entities.c.story_id).where(story_entities.c.name == key)
            pq = phrase_query(entity)
            if pq:
                ids, p = self._matching_ids(pq, "entity_q")
                stats = stats.where(sa.or_(st.c.story_id.in_(self._stories_of(ids)),
                                           st.c.story_id.in_(by_account)))
                params |= p
            else:
                stats = stats.where(st.c.story_id.in_(by_account))
        if since is not None:
            stats = stats.where(st.c.last_seen >= _naive_utc(since))
        if until is not None:
            stats = stats.where(st.c.first_seen <= _naive_utc(until))
        sub = stats.subquery("stats")
        recent = (sub.c.last_seen.is_(None), sub.c.last_seen.desc())
        ordering = ((*recent, sub.c.articles.desc()) if order == "recent"
                    else (sub.c.articles.desc(), *recent))
        # The sort carries ids only; a keyword filter is costly enough to count in the same pass.
        counted = text is not None or entity is not None
        page = (sa.select(sub.c.story_id, *([sa.func.count().over().label("total")] if counted else []))
                .order_by(*ordering, self._binary(sub.c.story_id)).limit(limit).offset(offset))
        with self.engine.begin() as conn:
            if text is not None or entity is not None:
                self._prefer_text_index(conn)
            found = conn.execute(page, params).all()
            if offset == 0 and len(found) < limit:
                total = len(found)
            elif found and counted:
                total = int(found[0].total)
            else:
                total = int(conn.scalar(sa.select(sa.func.count()).select_from(sub), params) or 0)
            page_ids = [r.story_id for r in found]
            rows = {r.story_id: r for r in conn.execute(
                sa.select(story_stats).where(story_stats.c.story_id.in_(page_ids)))} if page_ids else {}
        return [{"id": sid, "title": rows[sid].title, "first": rows[sid].first_seen,
                 "last": rows[sid].last_seen, "articles": rows[sid].articles, "outlets": rows[sid].outlets,
                 "sources": [(src, n) for src, n in json.loads(rows[sid].sources)]}
                for sid in page_ids], total

    def _stories_of(self, article_ids: sa.TextClause) -> sa.Select[Any]:
        sm = story_members.alias("km")
        return sa.select(sm.c.story_id).where(
            sm.c.article_id.in_(article_ids.columns(sa.column("id", sa.Text))))

    # --- ingest bookkeeping ----------------------------------------------------------
    def input_done(self, digest: str) -> bool:
        with self.engine.connect() as conn:
            return conn.scalar(
                sa.select(ingested_inputs.c.digest).where(ingested_inputs.c.digest == digest)
            ) is not None

    def mark_input_done(self, digest: str, origin: str, n_articles: int, n_problems: int) -> None:
        self.mark_inputs_done([(digest, origin, n_articles, n_problems)])

    def mark_inputs_done(self, inputs: Sequence[tuple[str, str, int, int]]) -> None:
        """Record inputs as finished, (digest, origin, articles, problems) each, in one
        transaction: inputs stored as one batch are all done or none is."""
        if not inputs:
            return
        with self.engine.begin() as conn:
            digests = [d for d, *_ in inputs]
            for chunk in _chunks(digests, 500):
                conn.execute(sa.delete(ingested_inputs).where(ingested_inputs.c.digest.in_(chunk)))
            now = _utcnow()
            conn.execute(ingested_inputs.insert(), [
                {"digest": d, "origin": o, "articles": n, "problems": p, "finished_at": now}
                for d, o, n, p in inputs])


class VectorSpaceError(ValueError):
    """Vectors from an embedder whose space differs from the store's (``vector_space``)."""


class DamagedStoryIndex(ValueError):
    """The story index saved in a store cannot be read (``StoryBook`` says which store).
    ``newer``: a newer newsdesk saved it, so upgrading, not rebuilding, is the fix."""

    def __init__(self, message: str, *, newer: bool = False) -> None:
        super().__init__(message)
        self.newer = newer


@functools.lru_cache(maxsize=4)
def _copy_records_query(shingle_words: int) -> sa.Select[Any]:
    """``Store.copy_records``'s statement, built once: the copy index reads candidates
    once per placed article, and building the select each time was a third of it (py-spy)."""
    sk = copy_sketches.c
    has_sketch = sa.and_(sk.article_id.is_not(None), sk.shingle_words == shingle_words)
    return (
        sa.select(articles.c.id,
                  sa.case((has_sketch, sa.literal("")), else_=articles.c.text).label("text"),
                  articles.c.published, articles.c.content_hash, articles.c.feed_source,
                  copies.c.original_id, has_sketch.label("sketched"), sk.n_words, sk.credits,
                  sk.shingles)
        .select_from(articles.outerjoin(copies, copies.c.article_id == articles.c.id)
                     .outerjoin(copy_sketches, sk.article_id == articles.c.id))
        .where(articles.c.id.in_(sa.bindparam("ids", expanding=True)))
    )


@functools.cache
def _stored_keys_pg() -> sa.Select[Any]:
    """The ``per_key`` most recent stored ids of each of ``:keys``, PostgreSQL form: one
    array parameter, where an IN list of 500 parameters is a new statement for psycopg
    to parse each time (a third of the lookup's time, measured)."""
    ranked = (
        sa.select(copy_keys.c.key, copy_keys.c.article_id,
                  sa.func.row_number().over(partition_by=copy_keys.c.key,
                                            order_by=copy_keys.c.seq.desc()).label("rn"))
        .where(copy_keys.c.key == sa.any_(sa.bindparam("keys", type_=postgresql.ARRAY(sa.BigInteger))))
        .subquery()
    )
    return sa.select(ranked.c.key, ranked.c.article_id).where(ranked.c.rn <= sa.bindparam("per_key"))


def _hold(held: dict[int, str | list[str]], key: int, article_id: str) -> None:
    """Add an id to a key's ids as SqlBuckets holds them (see ``SqlBuckets.__init__``)."""
    had = held.get(key)
    if had is None:
        held[key] = article_id
    elif isinstance(had, str):
        held[key] = [had, article_id]
    else:
        had.append(article_id)


def _ids(held: str | list[str] | None) -> list[str]:
    """A key's ids as SqlBuckets holds them (one id, a list, or none) as a list."""
    return [] if held is None else [held] if isinstance(held, str) else held


# SQLite page cache (KiB) of a connection that writes copy keys (SqlBuckets._write)
COPY_KEYS_CACHE_KB = 65536


class SqlBuckets:
    """The copy index's candidate keys in the store's ``copy_keys`` table.

    Adds are buffered and written by :meth:`flush` in one transaction per batch;
    lookups see buffered keys too. Each key returns at most its ``per_key`` most
    recent articles, so a key shared by thousands (a wire story everywhere, a
    boilerplate sentence) stays cheap.
    """

    def __init__(self, store: Store, per_key: int = 64,
                 shingle_words: int = DEFAULT_COPY_PARAMS.shingle_words) -> None:
        self.store = store
        self.per_key = per_key
        self._pending: list[tuple[int, str]] = []  # (key, article id), in order
        # Pending and prefetched ids by key: one id as a plain string, a list only for a key
        # with more. A load adds and prefetches about a hundred keys an article, nearly all
        # with one id or none, and a list for each (a million per 10,000 articles) was work
        # for the garbage collector: its full passes took 7 % of a batch load.
        self._pending_by_key: dict[int, str | list[str]] = {}
        self._stored: dict[int, str | list[str]] = {}  # prefetched keys' stored ids (at most per_key)
        self._prefetched: set[int] = set()  # keys read by prefetch (most have no stored id)
        self._sketches: dict[str, dict[str, object]] = {}  # article id -> copy_sketches row
        self.shingle_words = shingle_words

    def add(self, keys: Sequence[int], article_id: str) -> None:
        for k in map(int, keys):
            self._pending.append((k, article_id))
            _hold(self._pending_by_key, k, article_id)

    def add_record(self, record: CopyRecord) -> None:
        if record.shingles is None or record.credits is None or record.n_words < 0:
            return  # nothing computed to keep: it will be read from the text
        self._sketches[record.id] = {
            "article_id": record.id, "n_words": record.n_words,
            "credits": json.dumps(sorted(record.credits), ensure_ascii=False),
            "shingle_words": self.shingle_words,
            "shingles": np.ascontiguousarray(record.shingles, dtype="<u4").tobytes(),
        }

    def _stored_rows(self, conn: Connection, keys: Sequence[int]) -> Sequence[tuple[int, str]]:
        """(key, id) of the ``per_key`` most recent stored ids of each key."""
        if conn.dialect.name == "postgresql":
            return conn.execute(_stored_keys_pg(), {"keys": list(keys), "per_key": self.per_key}).all()
        # SQLite: the driver's own statement. A batch's prefetch runs about forty of these
        # 500-key reads, and SQLAlchemy's statement building and parameter handling took
        # 60 % of each (1.0 ms against 0.4 ms, measured on a 10,000-article store).
        sql = (f"SELECT key, article_id FROM (SELECT key, article_id, row_number() OVER "
               f"(PARTITION BY key ORDER BY seq DESC) AS rn FROM copy_keys "
               f"WHERE key IN ({','.join('?' * len(keys))})) WHERE rn <= ?")
        return conn.exec_driver_sql(sql, (*keys, self.per_key)).all()

    def prefetch(self, keys: Iterable[int]) -> None:
        """Read the stored ids of a whole batch's keys in a few queries; until
        :meth:`drop_prefetch`, lookups of these keys need no query. Nothing writes
        ``copy_keys`` meanwhile: new keys wait in the buffer until :meth:`flush`."""
        wanted = sorted({int(k) for k in keys})
        stored: dict[int, str | list[str]] = {}
        with self.store.engine.connect() as conn:
            for chunk in _chunks(wanted, 500):
                # all() fetches in one call: iterating fetched row by row, which at about
                # 250 rows an article was a tenth of a batch load's time (py-spy, 50,000)
                for key, aid in self._stored_rows(conn, chunk):
                    _hold(stored, key, aid)
        self._stored, self._prefetched = stored, set(wanted)

    def drop_prefetch(self) -> None:
        self._stored, self._prefetched = {}, set()

    def lookup(self, keys: Sequence[int]) -> dict[str, int]:
        keys = sorted({int(k) for k in keys})
        hits: dict[str, int] = {}
        if not keys:
            return hits
        seen: set[tuple[int, str]] = set()
        unread = [k for k in keys if k not in self._prefetched]
        for k in keys:
            for aid in _ids(self._stored.get(k)):
                seen.add((k, aid))
        if unread:
            with self.store.engine.connect() as conn:
                for chunk in _chunks(unread, 500):
                    for key, aid in self._stored_rows(conn, chunk):
                        seen.add((key, aid))
        for k in keys:
            for aid in _ids(self._pending_by_key.get(k))[-self.per_key:]:
                seen.add((k, aid))
        for _k, aid in seen:
            hits[aid] = hits.get(aid, 0) + 1
        return hits

    def flush(self, conn: Connection | None = None) -> None:
        """Write the buffered keys and sketches (in ``conn``'s transaction when given)."""
        if self._pending or self._sketches:
            if conn is not None:
                self._write(conn)
            else:
                with self.store.engine.begin() as own:
                    self._write(own)
        self._sketches = {}
        self._pending = []
        self._pending_by_key = {}
        self._stored, self._prefetched = {}, set()  # written keys make a prefetch stale

    def _write(self, conn: Connection) -> None:
        if self._pending and conn.dialect.name == "postgresql":
            # COPY: about a hundred keys an article made the row-by-row executemany
            # the load's largest write (9.5 s of 47 for 5,000 articles, measured).
            cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cur.copy("COPY copy_keys (key, article_id) FROM STDIN") as copy:
                for row in self._pending:
                    copy.write_row(row)
        elif self._pending:
            # About a hundred keys an article land at random places in two indexes; with
            # SQLite's default 2 MB page cache most inserts fetched their index pages again
            # (the key write of a 10,000-article load 7.6 s, 5.2 s with 64 MB). The cache
            # grows only as pages are used, and stays this connection's while it is pooled.
            conn.exec_driver_sql(f"PRAGMA cache_size=-{COPY_KEYS_CACHE_KB}")
            # The driver's own executemany with tuples: SQLAlchemy's compiled insert turns
            # every row's dict into parameters first, half of this write's time (py-spy).
            conn.exec_driver_sql("INSERT INTO copy_keys (key, article_id) VALUES (?, ?)", self._pending)
        if self._sketches:
            ids = list(self._sketches)
            for chunk in _chunks(ids, 500):  # a re-placed article replaces its sketch
                conn.execute(sa.delete(copy_sketches).where(copy_sketches.c.article_id.in_(chunk)))
            conn.execute(copy_sketches.insert(), list(self._sketches.values()))


def _count_outlet_lines(conn: Connection, source: str, counts: Mapping[str, int]) -> None:
    """Add ``counts`` (line -> pages) to an outlet's line memory."""
    lines = sorted(ln for ln, n in counts.items() if n)
    for chunk in _chunks(lines, 500):
        known = set(conn.scalars(sa.select(outlet_lines.c.line).where(
            outlet_lines.c.source == source, outlet_lines.c.line.in_(chunk))))
        by_count: dict[int, list[str]] = {}
        for ln in sorted(known):
            by_count.setdefault(counts[ln], []).append(ln)
        for n, same in by_count.items():  # one statement per increment (a page's lines: all 1)
            conn.execute(outlet_lines.update()
                         .where(outlet_lines.c.source == source, outlet_lines.c.line.in_(same))
                         .values(pages=outlet_lines.c.pages + n))
        new = [{"source": source, "line": ln, "pages": counts[ln]} for ln in chunk if ln not in known]
        if new:
            conn.execute(outlet_lines.insert(), new)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    # WAL lets readers (the CLI, later the web UI) work while an ingest writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # So that INSERT OR REPLACE runs delete triggers (the search index's) for the row it replaces.
    cur.execute("PRAGMA recursive_triggers=ON")
    cur.close()


def _article_row(a: Article) -> dict[str, object]:
    return {
        "id": a.id,
        "title": a.title,
        "source": a.source,
        "url": a.url,
        # Naive UTC on both backends (PostgreSQL would shift an aware time to the session's zone).
        "published": (a.published.astimezone(UTC).replace(tzinfo=None)
                      if a.published is not None and a.published.tzinfo is not None else a.published),
        "lang": a.lang,
        "author": a.author,
        "dateline": a.dateline,
        "format": a.format,
        "origin": a.origin,
        "content_hash": a.content_hash,
        "raw_hash": a.raw_hash,
        "feed_source": a.feed_source,
        "text": a.text,
        "removed": json.dumps(
            [{"line": r.line, "text": r.text, "reason": r.reason} for r in a.removed],
            ensure_ascii=False,
        ),
        "ingested_at": _utcnow(),
    }


def _row_article(row: sa.Row) -> Article:
    m = row._mapping
    removed = tuple(Removal(**r) for r in json.loads(m.get("removed") or "[]"))
    return Article(
        id=m["id"],
        text=m.get("text") or "",
        title=m["title"],
        source=m["source"],
        url=m["url"],
        published=m["published"],
        lang=m["lang"],
        author=m["author"],
        format=m["format"],
        origin=m["origin"],
        content_hash=m["content_hash"],
        raw_hash=m["raw_hash"],
        feed_source=m["feed_source"],
        removed=removed,
        dateline=m["dateline"],
    )


STORY_ORDERS = ("recent", "size")
MAX_SOURCES = 8  # outlets listed per story in ``story_summaries``
# Far past any real page, and inside the 64-bit integer SQL takes: a bigger offset from a
# URL would overflow in the driver.
MAX_OFFSET = 1_000_000_000
SNIPPET_TOKENS = 24  # words in a search snippet
_PG_HEADLINE = ("StartSel=\x02, StopSel=\x03, MaxFragments=1, MaxWords=24, MinWords=12, "
                'FragmentDelimiter=" … "')


def _read_embedding_matrices(conn: Connection) -> _Matrices:
    """Every stored embedding, grouped by length: ids, float32 matrix, row norms (0 -> 1)."""
    by_dim: dict[int, tuple[list[str], list[bytes]]] = {}
    result = conn.execution_options(yield_per=5000).execute(
        sa.select(embeddings.c.article_id, embeddings.c.vector))
    for r in result:
        ids, vecs = by_dim.setdefault(len(r.vector) // 4, ([], []))
        ids.append(r.article_id)
        vecs.append(r.vector)
    out = {}
    for dim, (ids, vecs) in by_dim.items():
        m = np.frombuffer(b"".join(vecs), dtype="<f4").reshape(len(ids), dim)
        norms = np.linalg.norm(m, axis=1)
        norms[norms == 0] = 1.0
        out[dim] = (ids, m, norms)
    return out


def _stories_of_articles(conn: Connection, article_ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(list(article_ids), 500):
        out.update(conn.scalars(sa.select(story_members.c.story_id).distinct()
                                .where(story_members.c.article_id.in_(chunk))))
    return out


def _refresh_story_stats(conn: Connection, story_ids: Iterable[str] | None) -> None:
    """Recompute ``story_stats`` for these stories (None: every story)."""
    if story_ids is None:
        conn.execute(story_stats.delete())
        ids = list(conn.scalars(sa.select(story_members.c.story_id).distinct()))
    else:
        ids = sorted(set(story_ids))
    m, a = story_members, articles
    members = (sa.select(m.c.story_id, a.c.id, a.c.title, a.c.source, a.c.published, copies.c.original_id)
               .select_from(m.join(a, a.c.id == m.c.article_id)
                            .outerjoin(copies, copies.c.article_id == a.c.id)))
    for chunk in _chunks(ids, 500):
        by_story: dict[str, list[Any]] = {}
        for r in conn.execute(members.where(m.c.story_id.in_(chunk))):
            by_story.setdefault(r.story_id, []).append(r)
        if story_ids is not None:
            conn.execute(story_stats.delete().where(story_stats.c.story_id.in_(chunk)))
        if by_story:
            conn.execute(story_stats.insert(), [_story_summary(sid, rows) for sid, rows in by_story.items()])


def _story_summary(story_id: str, members: list[Any]) -> dict[str, Any]:
    """A ``story_stats`` row from a story's members, counted as ``summarize_stories`` does."""
    dated = [r.published for r in members if r.published is not None]
    titled = [r for r in members if r.title]
    first = min(titled, key=lambda r: (r.published is None, r.published or datetime.min, r.id), default=None)
    sources: dict[str, int] = {}
    for r in members:
        if r.source:
            sources[r.source] = sources.get(r.source, 0) + 1
    ranked = sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "story_id": story_id,
        "articles": len(members),
        "first_seen": min(dated, default=None),
        "last_seen": max(dated, default=None),
        "title": first.title if first is not None else None,
        # An original (or a lone article) is an independent voice; one without an outlet is its own.
        "outlets": len({r.source or f"unknown:{r.id}" for r in members if r.original_id is None}),
        "sources": json.dumps(ranked[:MAX_SOURCES], ensure_ascii=False),
    }


def _check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (got {limit}, {offset})")
    if limit > MAX_OFFSET or offset > MAX_OFFSET:
        raise ValueError(f"limit and offset must be at most {MAX_OFFSET:,} (got {limit}, {offset})")


def _naive_utc(t: datetime) -> datetime:
    """As stored: naive UTC."""
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def entity_key(name: str) -> str:
    """How entity names are compared: casefolded, whitespace collapsed."""
    return " ".join(name.replace("\x00", "").casefold().split())


def _no_nul(value: str | None) -> str | None:
    """A filter value as ingest would have stored it: without NUL characters."""
    return value.replace("\x00", "") if value is not None else None


def _write_story_entities(conn: Connection, story_id: str, data: str) -> None:
    """Index the entity names and aliases of a story's account (JSON) for the entity filter."""
    conn.execute(story_entities.delete().where(story_entities.c.story_id == story_id))
    try:
        account = json.loads(data)
    except ValueError:
        return
    names: set[str] = set()
    entities = account.get("entities") if isinstance(account, dict) else None
    for e in entities or []:
        if isinstance(e, dict):
            for n in [e.get("name"), *(e.get("aliases") or [])]:
                if isinstance(n, str) and entity_key(n):
                    names.add(entity_key(n))
    if names:
        conn.execute(story_entities.insert(), [{"story_id": story_id, "name": n} for n in sorted(names)])


def _prefix(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """Ids starting with ``prefix``, ignoring ASCII case on both backends (SQLite's LIKE
    does; PostgreSQL's would not)."""
    return sa.func.lower(column).startswith(prefix.lower(), autoescape=True)


_T = TypeVar("_T")


def _chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
