"""``newsdesk serve``: the HTTP API (JSON, with an OpenAPI document at /docs) and the
server-rendered web UI, both thin layers over the library (``api`` and ``desk``).

Route handlers only parse the request, call one library function and shape the
response. Every API error has one JSON shape::

    {"error": {"status": 404, "code": "not_found", "message": "no story with id 'x'"}}

Article text is untrusted: templates autoescape everything, and a strict
Content-Security-Policy lets the page run only its own static script.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__, api, charts
from .account import account_markdown, cited_articles, claim_line, quote_line
from .cleaning import REASONS, removals_by_reason
from .desk import MAX_UPLOAD_BYTES, Desk, Job
from .records import Removal
from .render import when
from .store import MAX_OFFSET, DamagedStoryIndex, Store
from .websecurity import (
    SESSION_COOKIE,
    BodyLimit,
    BodyTooLarge,
    TokenGuard,
    cross_site_reason,
    host_allowed,
    local_path,
)

log = logging.getLogger(__name__)

__all__ = ["KEEP_ALIVE_SECONDS", "ApiError", "create_app", "default_data_dir"]

WEB = files("newsdesk") / "web"
MAX_PAGE = 200
# How long an idle keep-alive connection stays open. Longer than clients keep theirs
# (httpx: 5 s, uvicorn's own default too): a client reusing a connection the server
# closes at that moment gets a connection error instead of an answer, and a busy
# server, whose event loop runs late, closes connections a request just arrived on.
KEEP_ALIVE_SECONDS = 75

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class ApiError(Exception):
    """An error with an HTTP status, a stable code and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid", 500: "internal",
          503: "unavailable"}


def default_data_dir(db: str | Path) -> Path:
    """Where uploads are kept: beside an SQLite file (``news.db`` -> ``news.db.d``),
    else ``./newsdesk-data``."""
    text = str(db)
    if "://" in text and not text.startswith("sqlite"):
        return Path("newsdesk-data")
    path = Path(text.split("///", 1)[1] if text.startswith("sqlite") else text)
    return path.with_name(path.name + ".d")


class RenderedPages:
    """Rendered pages kept under a store change marker (``Store.change_marker``): a
    page is served again only while the marker has not moved, so never stale; the
    least recently used go past ``max_bytes``. Hand-written: the standard library
    has no size-bounded LRU, and this one is a dict in order and a lock."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple[Any, ...], tuple[int, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...], marker: int) -> bytes | None:
        if not self.max_bytes:
            return None
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] != marker:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: tuple[Any, ...], marker: int, body: bytes) -> None:
        if not self.max_bytes or len(body) > self.max_bytes // 4:  # a huge one would push out the rest
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self._bytes -= len(old[1]) if old else 0
            self._pages[key] = (marker, body)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._pages.popitem(last=False)
                self._bytes -= len(dropped)


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]


# --- request bodies ----------------------------------------------------------------------
class ArticlesIn(BaseModel):
    """Articles to ingest, in the JSONL record shape."""

    articles: list[dict[str, Any]] = Field(
        ..., description="records with id, url, title, text or html, source, published (ISO 8601), lang")


class MergeIn(BaseModel):
    other: str = Field(..., description="the story to merge into this one (id or unique prefix)")


class SplitIn(BaseModel):
    articles: list[str] = Field(..., description="ids of the articles to move to a new story")


# --- the app -------------------------------------------------------------------------------
def create_app(db: str | Path | Store, *, data_dir: str | Path | None = None,
               background: bool = True, token: str | None = None, private: bool = False,
               trusted_hosts: Collection[str] | None = None,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, page_cache_bytes: int = 64 << 20) -> FastAPI:
    """The FastAPI app over one store. ``background=False`` runs ingest jobs and
    accounts in the request (tests); the server runs them on worker threads.

    ``token``: writes need it (``Authorization: Bearer``, or the cookie ``/login``
    sets); ``private``: reads too. ``trusted_hosts``: the only Host names answered
    (the CLI gives the loopback names when bound to loopback). ``max_upload_bytes``:
    the largest request body accepted; ``page_cache_bytes``: the memory for rendered
    story pages (0: render every time)."""
    store = db if isinstance(db, Store) else Store(db)
    desk = Desk(store, data_dir or default_data_dir(db if not isinstance(db, Store) else store.url),
                background=background, max_upload_bytes=max_upload_bytes)
    guard_token = TokenGuard(token, private=private) if token is not None else None
    story_pages = RenderedPages(page_cache_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        desk.start() if background else None
        yield
        desk.close() if background else None

    app = FastAPI(title="newsdesk", version=__version__, lifespan=lifespan,
                  description="Clean articles, folded copies, stories and their cross-source accounts.")
    app.state.desk = desk
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    templates.env.filters["marks"] = _marks
    templates.env.filters["claim_line"] = claim_line
    templates.env.filters["quote_line"] = quote_line
    templates.env.filters["cited"] = cited_articles
    templates.env.filters["day"] = _day
    templates.env.filters["when"] = when
    templates.env.globals["version"] = __version__
    templates.env.globals["auth"] = guard_token is not None
    templates.env.filters["part"] = _part
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("authed", getattr(request.state, "authed", guard_token is None))
        return templates.TemplateResponse(request, name, context, status_code=status)

    # --- errors: JSON under /api, a page elsewhere ---------------------------------------
    def error_response(request: Request, status: int, code: str, message: str) -> Response:
        if request.url.path.startswith("/api") or request.url.path in ("/openapi.json",):
            return JSONResponse({"error": {"status": status, "code": code, "message": message}},
                                status_code=status)
        return page(request, "error.html", status, status_code=status, message=message)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path}"
        return error_response(request, exc.status_code, _CODES.get(exc.status_code, "error"), message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "request"
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return error_response(request, 422, "invalid", "; ".join(parts))

    @app.exception_handler(DamagedStoryIndex)
    async def _damaged(request: Request, exc: DamagedStoryIndex) -> Response:
        # the store's state, not the request, is at fault: 503 with the reason, not a 400
        # or an "internal error" that hides which store and why
        return error_response(request, 503, "unavailable", str(exc))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, 500, "internal", f"internal error: {type(exc).__name__}")

    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return error_response(request, 413, "too_large", str(exc.detail))

    # Inside the guard below: a refused request is refused before its body is read.
    app.add_middleware(BodyLimit, limit=max_upload_bytes, refuse=too_large)

    def refusal(request: Request) -> Response | None:
        """Why a request is refused before any work: an unknown Host (DNS rebinding), a
        cross-site write (a browser names the page that sent it), a missing token."""
        host = request.headers.get("host")
        if not host_allowed(host, trusted_hosts):
            return error_response(request, 400, "bad_request",
                                  f"this server does not answer to host {host!r}")
        reason = cross_site_reason(request.method, request.headers.get("origin"),
                                   request.headers.get("referer"), request.url.scheme, host)
        if reason:
            return error_response(request, 403, "forbidden", reason)
        if guard_token is None:
            return None
        request.state.authed = guard_token.allows(request.headers.get("authorization"),
                                                  request.cookies.get(SESSION_COOKIE))
        if request.state.authed or not guard_token.needs_token(request.method, request.url.path):
            return None
        if request.url.path.startswith("/api") or request.url.path == "/openapi.json":
            response = error_response(request, 401, "unauthorized",
                                      "this server needs a token: send Authorization: Bearer TOKEN")
            response.headers["WWW-Authenticate"] = 'Bearer realm="newsdesk"'
            return response
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method in ("GET", "HEAD"):
            return RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)
        return error_response(request, 401, "unauthorized",
                              "log in with the server's token to change the store")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        refused = refusal(request)
        response: Response = refused if refused is not None else await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a library call, turning its KeyError/ValueError into API errors."""
        try:
            return fn(*args, **kwargs)
        except KeyError as exc:
            raise ApiError(404, "not_found", str(exc.args[0]) if exc.args else "not found") from exc
        except DamagedStoryIndex:
            raise  # a ValueError, but the store's fault: answered 503 by its handler
        except ValueError as exc:
            raise ApiError(400, "bad_request", str(exc)) from exc

    # --- JSON API ------------------------------------------------------------------------
    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "articles": store.count_articles(),
                "vector_search": store.vector_search}

    @app.post("/api/articles", tags=["ingest"], status_code=202)
    def post_articles(body: ArticlesIn, wait: bool = False) -> JSONResponse:
        """Ingest article records given as JSON. Runs as a job: 202 with the job, or with
        ``wait=true`` 200 once it finished (problems per record in ``problems``)."""
        job = call(desk.submit_records, body.articles)
        return _job_response(job, wait)

    @app.post("/api/ingest", tags=["ingest"], status_code=202)
    async def post_files(files: Annotated[list[UploadFile], File(description="files to ingest")],
                         wait: bool = False) -> JSONResponse:
        """Ingest uploaded files of any supported format (text, HTML, JSONL, feeds, WARC)."""
        # The spooled files themselves, copied in blocks off the event loop: never a whole upload in memory.
        data = [(f.filename or "upload", f.file) for f in files]
        job = await run_in_threadpool(call, desk.submit_files, data)
        return _job_response(job, wait)

    @app.get("/api/jobs", tags=["ingest"])
    def get_jobs(limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        """Ingest jobs since the server started, newest first."""
        jobs = desk.jobs()
        return {"items": [j.to_json() for j in jobs[offset: offset + limit]], "total": len(jobs),
                "limit": limit, "offset": offset}

    @app.get("/api/jobs/{job_id}", tags=["ingest"])
    def get_job(job_id: str) -> dict[str, Any]:
        return _job(job_id).to_json()

    @app.get("/api/stories", tags=["stories"])
    def get_stories(since: datetime | None = None, until: datetime | None = None, outlet: str | None = None,
                    entity: str | None = None, q: str | None = None,
                    order: Literal["recent", "size"] = "recent", limit: Limit = 50,
                    offset: Offset = 0) -> dict[str, Any]:
        """Stories, newest (or biggest) first, filtered by time range, outlet, entity and text."""
        return _jsonable(call(api.list_stories, store, since=since, until=until, outlet=outlet or None,
                              entity=entity or None, text=q or None, order=order, limit=limit,
                              offset=offset))

    @app.get("/api/stories/{story_id}", tags=["stories"])
    def get_story(story_id: str, wait: bool = False) -> dict[str, Any]:
        """A story: its summary, its articles, and its account. The account is prepared in
        the background: ``account_state`` says fresh, stale (being refreshed), preparing
        or failed; ``wait=true`` computes it first."""
        story = api.story(store, story_id)
        if story is None:
            raise ApiError(404, "not_found", f"no story with id {story_id!r}")
        view = desk.account(story["id"], wait=wait)
        return _jsonable(story | {"account": view.data if view else None,
                                  "account_state": view.state if view else "failed",
                                  "account_error": view.error if view else None})

    @app.post("/api/stories/{story_id}/merge", tags=["stories"])
    def post_merge(story_id: str, body: MergeIn) -> dict[str, Any]:
        """Merge another story into this one; later ingests respect it."""
        return {"story": call(desk.merge, story_id, body.other)}

    @app.post("/api/stories/{story_id}/split", tags=["stories"])
    def post_split(story_id: str, body: SplitIn) -> dict[str, Any]:
        """Move articles of this story to a new story; later ingests respect it."""
        return {"story": call(desk.split, story_id, body.articles)}

    @app.get("/api/stories/{story_id}/export", tags=["export"])
    def export_story(story_id: str, format: Literal["json", "markdown"] = "json") -> Response:
        data = desk.account(story_id, wait=True)
        if data is None or data.data is None:
            raise ApiError(404, "not_found", f"no story with id {story_id!r}")
        if format == "markdown":
            return Response(account_markdown(data.data), media_type="text/markdown; charset=utf-8")
        return JSONResponse(data.data)

    @app.get("/api/articles", tags=["articles"])
    def get_articles(source: str | None = None, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        items = list(store.iter_articles(source=source, limit=limit, offset=offset))
        total = store.count_source_articles(source) if source else store.count_articles()
        return _jsonable({"items": [a.to_export() | {"text": None} for a in items], "total": total,
                          "limit": limit, "offset": offset})

    @app.get("/api/articles/{article_id}", tags=["articles"])
    def get_article(article_id: str) -> dict[str, Any]:
        """An article: its cleaned text, metadata, story, the original it copies, and what
        cleaning removed and why."""
        return _jsonable(_article(article_id))

    @app.get("/api/articles/{article_id}/similar", tags=["articles"])
    def get_similar(article_id: str, k: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
        hits = call(api.similar_articles, store, article_id, k)
        return {"items": [a.to_export() | {"text": None, "score": round(s, 4)} for a, s in hits]}

    @app.get("/api/search", tags=["search"])
    def get_search(q: Annotated[str, Query(min_length=1, max_length=500)],
                   mode: Literal["keyword", "semantic"] = "keyword", source: str | None = None,
                   limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """Keyword search (full-text index) or semantic search (the stored embeddings).
        Keyword snippets mark matches with U+0002 ... U+0003."""
        return _jsonable(call(api.search, store, q, mode=mode, limit=limit, offset=offset,
                              source=source or None))

    @app.get("/api/export/{what}", tags=["export"])
    def export_rows(what: Literal["articles", "quotes", "claims"], story: str | None = None) -> Response:
        """JSON Lines of every article, quote or claim (quotes and claims of one story with
        ``story``); the same records as ``newsdesk export``."""
        if what == "articles":
            rows: Iterator[dict[str, Any]] = api.export_articles(store)
        elif what == "quotes":
            rows = call(lambda: iter(list(api.export_quotes(store, story_id=story))))
        else:
            rows = call(lambda: iter(list(api.export_claims(store, story_id=story))))
        return StreamingResponse((json.dumps(_jsonable(r), ensure_ascii=False) + "\n" for r in rows),
                                 media_type="application/x-ndjson")

    def _job(job_id: str) -> Job:
        job = desk.job(job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job with id {job_id!r}")
        return job

    def _job_response(job: Job, wait: bool) -> JSONResponse:
        if wait:
            job.done_event.wait()
            return JSONResponse(job.to_json(), status_code=200)
        return JSONResponse(job.to_json(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})

    def _article(article_id: str) -> dict[str, Any]:
        a = store.get_article(article_id)
        if a is None:
            raise ApiError(404, "not_found", f"no article with id {article_id!r}")
        return a.to_export() | {
            "author": a.author, "dateline": a.dateline, "format": a.format,
            "story": store.story_of_map([a.id]).get(a.id), "copy": store.copy_info(a.id),
            "removed": [{"line": r.line, "text": r.text, "reason": r.reason} for r in a.removed]}

    # --- web UI ----------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def ui_stories(request: Request, q: str = "", outlet: str = "", entity: str = "",
                   since: str = "", until: str = "", order: Literal["recent", "size"] = "recent",
                   offset: Offset = 0) -> HTMLResponse:
        page_size = 50
        result = call(api.list_stories, store, since=_date_arg(since, "since"),
                      until=_date_arg(until, "until", end=True), outlet=outlet or None,
                      entity=entity or None, text=q or None, order=order, limit=page_size, offset=offset)
        filters = {"q": q, "outlet": outlet, "entity": entity, "since": since, "until": until,
                   "order": order}
        return page(request, "stories.html", result=result, filters=filters,
                    pages=_pages(request, result["total"], page_size, offset, filters))

    @app.get("/stories/{story_id}", response_class=HTMLResponse, include_in_schema=False)
    def ui_story(request: Request, story_id: str, done: str = "") -> HTMLResponse:
        # The marker first: what is rendered after it is at least as new as the key.
        marker = store.change_marker("stories")
        key = (story_id, done, getattr(request.state, "authed", guard_token is None))
        body = story_pages.get(key, marker)
        if body is not None:
            return HTMLResponse(body)
        story = api.story(store, story_id)
        if story is None:
            raise ApiError(404, "not_found", f"no story with id {story_id!r}")
        view = desk.account(story["id"])
        account = view.data if view else None
        number = {a["id"]: i + 1 for i, a in enumerate(account["articles"])} if account else {}
        response = page(request, "story.html", story=story, view=view, account=account, number=number,
                        timeline=charts.timeline_chart(account) if account else None,
                        coverage=_coverage_chart(account) if account else None, done=done)
        if view is not None and view.state == "fresh":  # a stale or pending account will change
            story_pages.put(key, marker, bytes(response.body))
        return response

    @app.post("/stories/{story_id}/merge", include_in_schema=False)
    def ui_merge(story_id: str, other: Annotated[str, Form()]) -> RedirectResponse:
        sid = call(desk.merge, story_id, other.strip())
        return RedirectResponse(f"/stories/{sid}?done=merged", status_code=303)

    @app.post("/stories/{story_id}/split", include_in_schema=False)
    def ui_split(story_id: str, article: Annotated[list[str] | None, Form()] = None) -> RedirectResponse:
        new = call(desk.split, story_id, article or [])
        return RedirectResponse(f"/stories/{new}?done=split", status_code=303)

    @app.get("/articles/{article_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def ui_article(request: Request, article_id: str, hl: str = "") -> HTMLResponse:
        a = _article(article_id)
        groups = removals_by_reason([Removal(**r) for r in a["removed"]])
        return page(request, "article.html", a=a, paragraphs=_paragraphs(a["text"], _span(hl)),
                    removed_groups=groups, reasons=REASONS)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def ui_search(request: Request, q: str = "", mode: Literal["keyword", "semantic"] = "keyword",
                  offset: Offset = 0) -> HTMLResponse:
        result = None
        if q.strip():
            result = call(api.search, store, q.strip()[:500], mode=mode, limit=20, offset=offset)
        filters = {"q": q, "mode": mode}
        return page(request, "search.html", q=q, mode=mode, result=result,
                    pages=_pages(request, result["total"], 20, offset, filters) if result else [])

    @app.get("/upload", response_class=HTMLResponse, include_in_schema=False)
    def ui_upload(request: Request) -> HTMLResponse:
        return page(request, "upload.html", jobs=[j.to_json() for j in desk.jobs()[:20]])

    @app.post("/upload", include_in_schema=False)
    async def ui_upload_post(files: Annotated[list[UploadFile], File()]) -> RedirectResponse:
        data = [(f.filename, f.file) for f in files if f.filename]
        job = await run_in_threadpool(call, desk.submit_files, data)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def ui_job(request: Request, job_id: str) -> HTMLResponse:
        job = _job(job_id).to_json()
        stories = store.story_of_map(job["article_ids"][:500]) if job["status"] == "done" else {}
        return page(request, "job.html", job=job, stories=sorted(set(stories.values())))

    # --- log in: the token once, then a session cookie for the browser's forms -----------
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def ui_login(request: Request, next_: Annotated[str, Query(alias="next")] = "/") -> HTMLResponse:
        return page(request, "login.html", next=local_path(next_), wrong=False)

    @app.post("/login", include_in_schema=False)
    def ui_login_post(request: Request, token: Annotated[str, Form()] = "",
                      next_: Annotated[str, Form(alias="next")] = "/") -> Response:
        target = local_path(next_)
        if guard_token is None:
            return RedirectResponse(target, status_code=303)
        if not guard_token.is_token(token):
            return page(request, "login.html", 401, next=target, wrong=True)
        response = RedirectResponse(target, status_code=303)
        # HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it.
        response.set_cookie(SESSION_COOKIE, guard_token.session, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    @app.post("/logout", include_in_schema=False)
    def ui_logout() -> RedirectResponse:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return app


# --- helpers (pure) ----------------------------------------------------------------------------
def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


def _part(value: Any) -> str:
    """An id as one URL path segment: an untrusted id with ``/``, ``?``, ``#`` or ``..``
    in it must not make a link that points at another page."""
    return quote(str(value), safe="")


def _marks(snippet: str | None) -> Markup:
    """A search snippet, escaped, with its U+0002/U+0003 match markers as <mark>."""
    text = str(escape(snippet or ""))
    return Markup(text.replace("\x02", "<mark>").replace("\x03", "</mark>"))


def _day(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value[:10]
    return value.strftime("%Y-%m-%d")


def _date_arg(value: str, name: str, *, end: bool = False) -> datetime | None:
    if not value.strip():
        return None
    try:
        d = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(400, "bad_request", f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
    if end and len(value.strip()) == 10:
        d = d.replace(hour=23, minute=59, second=59)
    return d


def _pages(request: Request, total: int, size: int, offset: int,
           params: dict[str, str]) -> list[tuple[str, str | None]]:
    """Previous / next links keeping the filters: (label, href or None when disabled)."""
    keep = {k: v for k, v in params.items() if v}

    def href(o: int) -> str:
        return request.url.path + "?" + urlencode(keep | ({"offset": o} if o else {}))

    prev = href(max(0, offset - size)) if offset else None
    nxt = href(offset + size) if offset + size < total else None
    shown = f"{offset + 1 if total else 0}–{min(offset + size, total)} of {total}"
    return [("← previous", prev), (shown, None), ("next →", nxt)]


def _span(hl: str) -> tuple[int, int] | None:
    try:
        a, b = (int(x) for x in hl.split("-", 1))
    except ValueError:
        return None
    return (a, b) if 0 <= a < b else None


def _paragraphs(text: str, mark: tuple[int, int] | None) -> list[list[tuple[str, bool, int]]]:
    """The text as paragraphs (its lines) of (piece, highlighted, offset) runs: the
    cited range ``mark`` is highlighted, the rest plain. Offsets let a link jump to it."""
    out: list[list[tuple[str, bool, int]]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        runs: list[tuple[str, bool, int]] = []
        if mark and mark[0] < end and mark[1] > start:
            a, b = max(mark[0], start), min(mark[1], end)
            runs += [(line[: a - start], False, start), (line[a - start: b - start], True, a),
                     (line[b - start:], False, b)]
        else:
            runs.append((line, False, start))
        out.append([r for r in runs if r[0]])
    return out


def _coverage_chart(account: dict[str, Any]) -> charts.BarChart:
    """Per outlet: claims and quotes it shares with another outlet, and those only it reports."""
    shared: dict[str, int] = {}
    for item in account["claims"] + account["quotes"]:
        if item["voices"] >= 2:
            for o in item["outlets"]:
                shared[o] = shared.get(o, 0) + 1
    rows = []
    for o, cov in account["coverage"].items():
        only = len(cov["claims"]) + len(cov["quotes"])
        rows.append((o, [(shared.get(o, 0), "shared"), (only, "only")],
                     f"{shared.get(o, 0)} shared, {only} only here"))
    return charts.bar_chart(rows)
