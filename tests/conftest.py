"""The suite runs on SQLite by default and, with ``NEWSDESK_TEST_DB`` set to a
PostgreSQL URL, on PostgreSQL: ``make test`` does both.

On PostgreSQL every SQLite path a test opens a store with (``Store(path)``,
``newsdesk.open_store(path)``, ``--db path`` in-process or in a ``python -m
newsdesk`` subprocess) stands for a fresh schema of that database, so the tests
themselves need not know which backend they run on. The schema's URL keeps the
test's path as its database name (the real one is the ``dbname`` query
parameter), so a test that reads the path back from ``store.engine.url`` and
hands it to a subprocess still reaches the same schema. Schemas are dropped at
the end of the session. An unreachable server is an error, never a skip.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsdesk import store as store_module

PG_URL = os.environ.get("NEWSDESK_TEST_DB", "").strip()
SCHEMA_PREFIX = "nd_test_"

_original_database_url = store_module.database_url
_original_popen = subprocess.Popen


class PgSchemas:
    """One PostgreSQL schema per SQLite path, created on first use."""

    def __init__(self, url: str) -> None:
        self.base = sa.engine.make_url(store_module.database_url(url))
        self.admin = sa.create_engine(self.base, poolclass=sa.pool.NullPool)
        self.by_path: dict[str, str] = {}
        self._n = itertools.count(1)

    def check(self) -> None:
        try:
            with self.admin.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as exc:
            raise pytest.UsageError(
                f"NEWSDESK_TEST_DB={PG_URL}: PostgreSQL is not reachable ({exc}). "
                "Start it, or unset NEWSDESK_TEST_DB to run on SQLite only.") from exc

    def prepare(self) -> None:
        """Drop schemas left by runs that died, and install pgvector and unaccent in
        ``public`` (where they are available) so every test schema sees the same
        extensions: one created inside a test schema would be dropped with it, and
        with it every other schema's objects that use it."""
        with self.admin.connect() as conn:
            stale = conn.scalars(sa.text(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": SCHEMA_PREFIX + "%"}).all()
        for name in stale:
            pid = int(name[len(SCHEMA_PREFIX):].split("_")[0])
            if not _alive(pid):
                # One transaction per schema: dropping a run's hundred schemas at once
                # takes more locks than max_locks_per_transaction allows.
                with self.admin.begin() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        with self.admin.begin() as conn:
            for ext in ("vector", "unaccent"):
                if conn.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = :e"),
                               {"e": ext}):
                    conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {ext} SCHEMA public")

    def url_for(self, path: str | Path) -> str:
        key = os.path.abspath(os.path.expanduser(str(path)))
        schema = self.by_path.get(key)
        if schema is None:
            schema = f"{SCHEMA_PREFIX}{os.getpid()}_{next(self._n)}"
            with self.admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            self.by_path[key] = schema
        url = self.base.set(database=key, query=dict(self.base.query) | {
            "dbname": self.base.database or "postgres",
            "options": f"-csearch_path={schema}",
            "application_name": schema,
        })
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for schema in self.by_path.values():
            with self.admin.begin() as conn:  # one transaction per schema, as in prepare
                # Connections a test left open (a pooled store) would block the drop.
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE application_name = :s AND pid <> pg_backend_pid()"),
                             {"s": schema})
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.by_path.clear()
        self.admin.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_schemas: PgSchemas | None = None


def _database_url(db: str | Path) -> str:
    if "://" in str(db) or _schemas is None:
        return _original_database_url(db)
    return _schemas.url_for(db)


class _PopenOnSchemas(_original_popen):  # type: ignore[misc,valid-type]
    """``python -m newsdesk --db PATH ...`` in a subprocess gets PATH's schema URL."""

    def __init__(self, args: object, *a: object, **kw: object) -> None:
        if isinstance(args, Sequence) and not isinstance(args, str | bytes) and "newsdesk" in args:
            args = _db_args([str(x) for x in args])
        super().__init__(args, *a, **kw)


def _db_args(args: list[str]) -> list[str]:
    out = list(args)
    for i, a in enumerate(out[:-1]):
        if a == "--db":
            out[i + 1] = _database_url(out[i + 1])
    return out


def pytest_configure(config: pytest.Config) -> None:
    global _schemas
    if not PG_URL:
        return
    _schemas = PgSchemas(PG_URL)
    _schemas.check()
    _schemas.prepare()
    store_module.database_url = _database_url
    subprocess.Popen = _PopenOnSchemas  # type: ignore[misc]


def pytest_unconfigure(config: pytest.Config) -> None:
    global _schemas
    if _schemas is not None:
        store_module.database_url = _original_database_url
        subprocess.Popen = _original_popen  # type: ignore[misc]
        _schemas.drop_all()
        _schemas = None


def pytest_report_header(config: pytest.Config) -> str:
    return f"newsdesk store: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture
def on_postgres() -> bool:
    """True when this run puts the tests' stores on PostgreSQL."""
    return _schemas is not None


@pytest.fixture
def other_user() -> Callable[[store_module.Store], contextlib.AbstractContextManager[str]]:
    """``with other_user(store) as url``: see ``_other_user``."""
    return _other_user


@contextlib.contextmanager
def _other_user(store: store_module.Store) -> Iterator[str]:
    """A URL of ``store`` for a new login role that may read and write its tables but
    owns none of them (PostgreSQL only); the role is dropped afterwards."""
    role = f"nd_user_{os.getpid()}"
    url = sa.engine.make_url(store.url)
    schema = url.query["options"].split("=", 1)[1]
    grants = (f'USAGE ON SCHEMA "{schema}"', f'ALL ON ALL TABLES IN SCHEMA "{schema}"',
              f'ALL ON ALL SEQUENCES IN SCHEMA "{schema}"')
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        for g in grants:
            conn.exec_driver_sql(f'GRANT {g} TO "{role}"')
    try:
        yield url.set(username=role).render_as_string(hide_password=False)
    finally:
        with store.engine.begin() as conn:
            for g in grants:
                conn.exec_driver_sql(f'REVOKE {g} FROM "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
