"""Web security against real ``newsdesk serve`` processes (on SQLite, and on a PostgreSQL
schema on the PostgreSQL run): untrusted text cannot inject markup, search input cannot
inject SQL, uploads stay in the data folder, the server binds to loopback, refuses
cross-site writes and, with a token, refuses writes without it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from hostile import SQL_INJECTIONS, assert_inert, norm, payload_record, xss_payloads
from serving import free_port, running_server

from newsdesk import cli, websecurity
from newsdesk.server import create_app

PAYLOADS = xss_payloads()
TOKEN = "tok-" + "s3cr3t-" * 4
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("websec")
    with running_server(root / "news.db", root / "data") as base:
        yield base, root


@pytest.fixture(scope="module")
def client(server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=300) as c:
        yield c


@pytest.fixture(scope="module")
def hostile(client: httpx.Client) -> dict:
    """Every payload as an article (title, outlet, URL, text), stored; their stories; and
    an upload job whose file name and records are hostile too."""
    records = [payload_record(i, p) for i, p in enumerate(PAYLOADS)]
    r = client.post("/api/articles", params={"wait": "true"}, json={"articles": records})
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["status"] == "done" and len(job["article_ids"]) == len(PAYLOADS), job
    stored = {a: client.get(f"/api/articles/{a}").json() for a in job["article_ids"]}
    bad = b'{"id": "<script>alert(1)</script>", "title": "<img src=x onerror=alert(1)>"}\n{not json <b>\n'
    upload = client.post("/api/ingest", params={"wait": "true"},
                         files=[("files", ('<img src=x onerror=alert(1)>".jsonl', bad, "text/plain"))]).json()
    assert upload["status"] == "done" and upload["problems"], upload
    return {"job": job, "stored": stored, "upload": upload,
            "stories": sorted({a["story"] for a in stored.values()})}


def _error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, (r.request.url, r.text[:500])
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}, body
    assert body["error"]["status"] == status
    return str(body["error"]["message"])


def _html(r: httpx.Response) -> str:
    assert r.headers["content-type"].startswith("text/html"), (r.request.url, r.headers)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    return r.text


# --- XSS -----------------------------------------------------------------------------------------
def test_payloads_are_text_on_every_page(client: httpx.Client, hostile: dict) -> None:
    stored = hostile["stored"]
    for aid, a in stored.items():
        page = _html(client.get(f"/articles/{quote(aid, safe='')}"))
        lines = [ln for ln in a["text"].split("\n") if ln.strip()]
        assert_inert(page, f"article {aid}", visible=[a["title"], a["source"], a["url"], *lines])
    titles = {a["title"] for a in stored.values()}
    # The story list, every page of it, and filtered by text and by each outlet.
    seen_titles: set[str] = set()
    offset = 0
    while True:
        r = client.get("/", params={"offset": offset})
        doc = assert_inert(_html(r), f"story list @{offset}")
        rows = doc.xpath("//tr[contains(@class, 'story-row')]//a[contains(@class, 'story-link')]")
        seen_titles |= {norm(x.text_content()) for x in rows}
        if len(rows) < 50:
            break
        offset += 50
    assert {norm(t) for t in titles} & seen_titles  # each story shows its earliest member's title
    assert_inert(_html(client.get("/", params={"q": "crane"})), "story list ?q=crane")
    for a in list(stored.values())[:12]:
        doc = assert_inert(_html(client.get("/", params={"outlet": a["source"]})), f"outlet {a['source']!r}")
        assert len(doc.xpath("//tr[contains(@class, 'story-row')]")) == 1
        assert a["source"] in {i.get("value") for i in doc.xpath("//input[@name='outlet']")}
    # Every story page, one of them with its account (quotes and claims carry the payloads).
    sid = hostile["stories"][0]
    story = client.get(f"/api/stories/{sid}", params={"wait": "true"}).json()
    assert story["account_state"] == "fresh"
    for s in hostile["stories"]:
        members = [a for a in stored.values() if a["story"] == s]
        assert_inert(_html(client.get(f"/stories/{s}")), f"story {s}",
                     visible=[m["title"] for m in members] + [m["source"] for m in members])
    quoted = [q["text"] for q in story["account"]["quotes"]]
    assert any("<" in q for q in quoted)  # the account really carries payloads
    # Search results, every page.
    offset, hits = 0, 0
    while True:
        doc = assert_inert(_html(client.get("/search", params={"q": "crane", "offset": offset})),
                           f"search @{offset}")
        found = doc.xpath("//li[contains(@class, 'hit')]//a[contains(@class, 'hit-title')]")
        for link in found:
            aid = link.get("href").rsplit("/", 1)[1]
            assert norm(link.text_content()) == norm(stored[aid]["title"])
        hits += len(found)
        if len(found) < 20:
            break
        offset += 20
    assert hits == len(stored)
    # The job pages: hostile file name and records.
    for job in (hostile["job"], hostile["upload"]):
        assert_inert(_html(client.get(f"/jobs/{job['id']}")), f"job {job['id']}")
    assert_inert(_html(client.get("/upload")), "upload page")


def test_payloads_reflected_from_the_request_are_text(client: httpx.Client, hostile: dict) -> None:
    """Query strings and paths echoed into pages: search box, filters, login's next, 404s."""
    for p in PAYLOADS:
        doc = assert_inert(_html(client.get("/search", params={"q": p})), f"search q={p!r}")
        assert p in {i.get("value") for i in doc.xpath("//input[@name='q']")}
        for name in ("q", "outlet", "entity"):
            doc = assert_inert(_html(client.get("/", params={name: p})), f"/?{name}={p!r}")
            assert p in {i.get("value") for i in doc.xpath(f"//input[@name='{name}']")}
        r = client.get("/", params={"since": p})
        assert r.status_code == 400
        assert_inert(_html(r), f"since={p!r}")
        r = client.get("/articles/" + quote(p, safe=""))
        assert r.status_code == 404
        assert_inert(_html(r), f"/articles/{p!r}", visible=[repr(p)])  # the 404 names the id
        assert_inert(_html(client.get("/login", params={"next": p})), f"login next={p!r}")


def test_json_api_returns_payloads_as_data(client: httpx.Client, hostile: dict) -> None:
    for i, p in enumerate(PAYLOADS):
        r = client.get(f"/api/articles/xss-{i:02d}")
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-content-type-options"] == "nosniff"
        a = r.json()
        assert a["title"] == f"Crane report {i}: {p}" and a["source"] == f"{p} Outlet {i}"
        assert a["url"] == p and p in a["text"]
    r = client.get("/api/search", params={"q": "crane", "limit": 200})
    assert r.headers["content-type"] == "application/json"
    assert {h["id"] for h in r.json()["items"]} == set(hostile["stored"])
    for what in ("articles", "quotes", "claims"):
        r = client.get(f"/api/export/{what}")
        assert r.headers["content-type"].startswith("application/x-ndjson")
        assert all(json.loads(line) for line in r.text.splitlines())
    md = client.get(f"/api/stories/{hostile['stories'][0]}/export", params={"format": "markdown"})
    assert md.headers["content-type"].startswith("text/markdown")  # never text/html
    assert md.headers["x-content-type-options"] == "nosniff"


def test_stx_etx_in_article_text_cannot_open_a_highlight(client: httpx.Client) -> None:
    """Search snippets mark matches with U+0002/U+0003; an article carrying them would
    otherwise put <mark> elements of its own on the results page."""
    rec = {"id": "stx-1", "title": "Dredger \x02sinks\x03", "source": "Wire",
           "text": "The dredger \x02Nereus\x03 sank in the harbour channel on Friday, \x03the coastguard "
                   "said."}
    assert client.post("/api/articles", params={"wait": "true"}, json={"articles": [rec]}).status_code == 200
    a = client.get("/api/articles/stx-1").json()
    assert "\x02" not in a["text"] + a["title"] and "\x03" not in a["text"] + a["title"]
    doc = assert_inert(_html(client.get("/search", params={"q": "channel"})), "stx search")
    marks = [m.text_content() for m in doc.xpath("//li[contains(@class, 'hit')]//mark")]
    assert marks and all(m.lower() == "channel" for m in marks)


# --- SQL injection ---------------------------------------------------------------------------
def _snapshot(client: httpx.Client) -> tuple:
    articles = client.get("/api/export/articles").text
    stories = client.get("/api/stories", params={"limit": 200}).json()
    return (client.get("/api/health").json()["articles"], hashlib.sha256(articles.encode()).hexdigest(),
            stories["total"], [(s["id"], s["articles"]) for s in stories["items"]],
            client.get("/api/search", params={"q": "crane", "limit": 1}).json()["total"])


def _clean(r: httpx.Response) -> None:
    """A normal answer or a clean 4xx in the one error shape, never a 500."""
    assert r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
    if r.status_code >= 400 and r.request.url.path.startswith("/api"):
        _error(r, r.status_code)


def test_search_input_cannot_inject_sql(client: httpx.Client, hostile: dict) -> None:
    before = _snapshot(client)
    n = before[0]
    for p in SQL_INJECTIONS:
        for mode in ("keyword", "semantic"):
            r = client.get("/api/search", params={"q": p[:500], "mode": mode})
            _clean(r)
            if r.status_code == 200:
                assert r.json()["total"] <= n
        r = client.get("/api/stories", params={"q": p})
        _clean(r)
        assert r.json()["total"] <= before[2]
        # Exact-match filters: a value no outlet, entity or article has matches nothing.
        for name in ("outlet", "entity"):
            r = client.get("/api/stories", params={name: "zzyzx " + p})
            _clean(r)
            assert r.json()["total"] == 0, (name, p, r.json())
        for url, params in (("/api/search", {"q": "crane", "source": "zzyzx" + p}),
                            ("/api/search", {"q": "crane", "source": "zzyzx" + p, "mode": "semantic"}),
                            ("/api/articles", {"source": "zzyzx" + p})):
            r = client.get(url, params=params)
            _clean(r)
            assert r.json()["total"] == 0, (url, params)
        for name in ("since", "until"):
            _error(client.get("/api/stories", params={name: "2026-01-01" + p}), 422)
            assert client.get("/", params={name: "2026-01-01" + p}).status_code == 400
        for name in ("order", "limit", "offset"):
            _error(client.get("/api/stories", params={name: p}), 422)
        seg = quote(p, safe="")
        for path in (f"/api/stories/{seg}", f"/api/articles/{seg}", f"/api/jobs/{seg}",
                     f"/api/stories/{seg}/export", f"/api/articles/{seg}/similar"):
            _error(client.get(path), 404)
        _error(client.get("/api/export/quotes", params={"story": p}), 404)
        for path in (f"/stories/{seg}", f"/articles/{seg}", f"/jobs/{seg}"):
            assert client.get(path).status_code == 404, path
        for url, params in (("/", {"q": p}), ("/", {"outlet": p}), ("/", {"entity": p}),
                            ("/search", {"q": p}), ("/search", {"q": p, "mode": "semantic"})):
            assert client.get(url, params=params).status_code in (200, 400), (url, params)
        # Writes with injected ids are refused as unknown, and change nothing.
        sid = hostile["stories"][0]
        _error(client.post(f"/api/stories/{sid}/merge", json={"other": p}), 404)
        assert client.post(f"/api/stories/{sid}/split", json={"articles": [p]}).status_code in (400, 404)
        _error(client.post(f"/api/stories/{seg}/merge", json={"other": sid}), 404)
    for big in ("9223372036854775808", "1" * 40, "-1", "1e3", "0x10"):
        for name in ("limit", "offset"):
            for url in ("/api/stories", "/api/articles", "/api/jobs"):
                _error(client.get(url, params={name: big}), 422)
            _error(client.get("/api/search", params={"q": "crane", name: big}), 422)
        assert client.get("/", params={"offset": big}).status_code == 422
        assert client.get("/search", params={"q": "crane", "offset": big}).status_code == 422
    after = _snapshot(client)
    assert after == before
    # Injections still find what their words find, and only that.
    assert {h["id"] for h in client.get("/api/search", params={"q": "crane' OR '1'='1", "limit": 200})
            .json()["items"]} <= set(hostile["stored"])
    assert client.get("/api/search", params={"q": "zzyzx' --"}).json()["total"] == 0


# --- uploads -------------------------------------------------------------------------------------
def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _multipart(name: bytes, body: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand, so the file name goes out byte for byte (NUL too)."""
    b = "nd" + uuid.uuid4().hex
    data = (f"--{b}\r\n".encode() + b'Content-Disposition: form-data; name="files"; filename="' + name
            + b'"\r\nContent-Type: text/plain\r\n\r\n' + body + f"\r\n--{b}--\r\n".encode())
    return data, f"multipart/form-data; boundary={b}"


def test_upload_names_cannot_write_outside_the_data_folder(client: httpx.Client,
                                                           server: tuple[str, Path]) -> None:
    root = server[1]
    uploads = (root / "data" / "uploads").resolve()
    outside = root / "outside"
    outside.mkdir()
    (uploads / "link").symlink_to(outside, target_is_directory=True)  # a symlink planted in uploads
    tag = uuid.uuid4().hex[:8]
    body = f"Escape attempt {tag}\n\nThis text tries to land outside the data folder of the server.".encode()
    names = [f"../../escape-{tag}.txt", f"/tmp/escape-{tag}.txt", f"..\\..\\escape-{tag}.txt",
             f"....//escape-{tag}.txt", "..", ".", "", "/", f"link/escape-{tag}.txt",
             f"../link/escape-{tag}.txt", "link", f"C:\\Windows\\escape-{tag}.txt",
             f"\\\\server\\share\\escape-{tag}.txt", "x" * 5000 + ".txt", ("é" * 300) + "/../" + "y" * 300,
             f"../../../../../../../../tmp/escape-{tag}.txt",
             f"%2e%2e%2fescape-{tag}.txt", f"..%2F..%2Fescape-{tag}.txt", f".\u2024/escape-{tag}.txt",
             f"uploads/../../escape-{tag}.txt", f"{'../' * 50}escape-{tag}.txt"]
    before = _files(root)
    for n in names:
        r = client.post("/api/ingest", params={"wait": "true"}, files=[("files", (n, body, "text/plain"))])
        assert r.status_code in (200, 400, 422), (n, r.text)
    for raw in (b"../../nul\x00escape.txt", b"\x00", b"..\x00/..\x00/escape.txt", b"a\x00/../../escape.txt",
                f"../../escape-{tag}\r\nX-Injected: 1.txt".encode()):
        data, ctype = _multipart(raw, body)
        r = client.post("/api/ingest", params={"wait": "true"}, content=data, headers={"content-type": ctype})
        assert r.status_code in (200, 400, 422), (raw, r.text)
    new = _files(root) - before
    assert new, "nothing was saved at all"
    for p in new:
        # Only uploads (and the store's and the server's own files) are new.
        assert p.resolve().is_relative_to(uploads) or p.name.startswith(("news.db", "serve-")), p
        if p.resolve().is_relative_to(uploads):
            assert not p.is_symlink() and "\x00" not in p.name and len(p.name) <= 130, p
            assert p.parent.parent == uploads, p  # DATA/uploads/JOB/NAME, never deeper
    assert not list(outside.iterdir())
    assert not list(Path("/tmp").glob(f"escape-{tag}*"))
    assert not list(root.parent.rglob(f"escape-{tag}*"))


# --- binding and hosts ------------------------------------------------------------------------------
def test_serve_binds_to_loopback_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = next(p for p in cli.serve.params if p.name == "host")
    assert host.default == "127.0.0.1"
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw | {"app": app}))
    monkeypatch.delenv("NEWSDESK_TOKEN", raising=False)
    db = str(tmp_path / "b.db")
    result = CliRunner().invoke(cli.main, ["--db", db, "serve", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert calls[-1]["host"] == "127.0.0.1"


def test_serve_refuses_an_open_non_loopback_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.delenv("NEWSDESK_TOKEN", raising=False)
    base = ["--db", str(tmp_path / "b.db"), "serve", "--data-dir", str(tmp_path / "d")]
    run = CliRunner().invoke
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        r = run(cli.main, [*base, "--host", host])
        assert r.exit_code == 2 and "refusing to listen" in r.output and "--token" in r.output, r.output
    assert not calls
    r = run(cli.main, [*base, "--host", "0.0.0.0", "--token", "short"])
    assert r.exit_code == 2 and "at least 16" in r.output, r.output
    r = run(cli.main, [*base, "--private"])
    assert r.exit_code == 2 and "--private needs --token" in r.output, r.output
    r = run(cli.main, [*base, "--host", "0.0.0.0", "--insecure"])
    assert r.exit_code == 0 and "without a token" in r.output and calls[-1]["host"] == "0.0.0.0", r.output
    r = run(cli.main, [*base, "--host", "0.0.0.0"], env={"NEWSDESK_TOKEN": TOKEN})
    assert r.exit_code == 0 and calls[-1]["host"] == "0.0.0.0", r.output
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1"):
        assert run(cli.main, [*base, "--host", host]).exit_code == 0
    # And a real process, not a parsed command line: it exits before binding.
    proc = subprocess.run([sys.executable, "-m", "newsdesk", "--db", str(tmp_path / "c.db"), "serve",
                           "--host", "0.0.0.0", "--port", str(free_port())], capture_output=True, text=True,
                          timeout=120, env={k: v for k, v in os.environ.items() if k != "NEWSDESK_TOKEN"})
    assert proc.returncode == 2 and "refusing to listen on 0.0.0.0" in proc.stderr, proc.stderr


def test_loopback_server_answers_only_to_loopback_host_names(client: httpx.Client,
                                                             server: tuple[str, Path]) -> None:
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 is
    same-origin with itself, so only the Host header tells the server apart."""
    port = server[0].rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", ""):
        r = client.get("/api/stories", headers={"host": host})
        assert "does not answer to host" in _error(r, 400), host
        r = client.post("/api/articles", json={"articles": [{"text": "x"}]}, headers={"host": host})
        _error(r, 400)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert client.get("/api/stories", headers={"host": host}).status_code == 200, host


# --- cross-site writes ---------------------------------------------------------------------------------
def _write_routes(tmp_path: Path) -> list[tuple[str, str]]:
    """Every (method, path) of the app that is not a safe method, read from its routes."""
    app = create_app(tmp_path / "routes.db", data_dir=tmp_path / "routes", background=False)
    out = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            if method not in websecurity.SAFE_METHODS:
                out.append((method, route.path))
    return out


def _fill(path: str) -> str:
    return path.replace("{story_id}", "st-x").replace("{article_id}", "a-x").replace(
        "{article_id:path}", "a-x").replace("{job_id}", "j-x").replace("{what}", "articles")


def test_cross_site_writes_are_refused_on_every_route(client: httpx.Client, server: tuple[str, Path],
                                                      tmp_path: Path, hostile: dict) -> None:
    routes = _write_routes(tmp_path)
    assert {("POST", "/api/articles"), ("POST", "/api/ingest"), ("POST", "/api/stories/{story_id}/merge"),
            ("POST", "/api/stories/{story_id}/split"), ("POST", "/stories/{story_id}/merge"),
            ("POST", "/stories/{story_id}/split"), ("POST", "/upload"), ("POST", "/login"),
            ("POST", "/logout")} <= set(routes)
    before = _snapshot(client)
    sid = hostile["stories"][0]
    member = next(a for a, v in hostile["stored"].items() if v["story"] == sid)
    bodies = {"json": {"articles": [{"id": "xsite", "text": "Cross-site text that must not be stored."}],
                       "other": sid, "articles_": [member]}}
    foreign = [{"origin": EVIL}, {"referer": EVIL + "/form.html"}, {"origin": "null"},
               {"origin": server[0].replace("127.0.0.1", "localhost")},  # another origin, same machine
               {"origin": server[0].rsplit(":", 1)[0] + ":1"},
               {"origin": "http://evil.example", "referer": server[0]}]
    for method, path in routes + [(m, p) for m in ("PUT", "DELETE", "PATCH") for _, p in routes]:
        url = _fill(path).replace("st-x", sid)
        for headers in foreign:
            r = client.request(method, url, headers=headers, json=bodies["json"])
            assert r.status_code == 403, (method, url, headers, r.status_code)
            if url.startswith("/api"):
                assert "cross-site" in _error(r, 403)
            upload = {"files": ("a.txt", b"Cross-site upload text, never stored.", "text/plain")}
            r = client.request(method, url, headers=headers, data={"other": sid, "article": member},
                               files=upload if "upload" in url or "ingest" in url else None)
            assert r.status_code == 403, (method, url, headers, r.status_code)
    assert _snapshot(client) == before
    assert client.get("/api/articles/xsite").status_code == 404
    # The same origin, or none (curl), is not cross-site.
    ok = client.post("/api/articles", params={"wait": "true"}, headers={"origin": server[0]},
                     json={"articles": [{"id": "same-site", "text": "Same-site text that is stored."}]})
    assert ok.status_code == 200


def test_cross_site_reason_unit() -> None:
    f = websecurity.cross_site_reason
    assert f("GET", EVIL, None, "http", "127.0.0.1:8000") is None
    assert f("POST", None, None, "http", "127.0.0.1:8000") is None
    assert f("POST", "http://127.0.0.1:8000", None, "http", "127.0.0.1:8000") is None
    assert f("POST", "HTTP://127.0.0.1:8000", None, "http", "127.0.0.1:8000") is None
    assert f("POST", "https://127.0.0.1:8000", None, "http", "127.0.0.1:8000")
    assert f("POST", None, "http://127.0.0.1:8001/x", "http", "127.0.0.1:8000")
    assert f("DELETE", "null", None, "http", "127.0.0.1:8000")
    for far in ("//evil.example", "/\\evil.example", "https://evil.example/", "/x\r\nSet-Cookie: a=b", ""):
        assert websecurity.local_path(far) == "/", far
    assert websecurity.local_path("/x?y=1") == "/x?y=1"


# --- tokens --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server with a token (from NEWSDESK_TOKEN) and a 256 KiB upload limit."""
    root = tmp_path_factory.mktemp("guarded")
    with running_server(root / "news.db", root / "data", args=["--max-upload-mb", "0.25"],
                        env={"NEWSDESK_TOKEN": TOKEN}) as base:
        yield base, root


def _record(aid: str) -> dict:
    return {"articles": [{"id": aid, "title": "Pier repairs", "source": "Wire",
                          "text": "Repairs to the north pier began on Monday, the harbour master said."}]}


def test_token_guards_every_write(guarded: tuple[str, Path], tmp_path: Path) -> None:
    base = guarded[0]
    with httpx.Client(base_url=base, timeout=300) as c:
        assert c.get("/api/stories").status_code == 200  # reads stay open
        assert c.get("/").status_code == 200
        for auth in (None, "Bearer wrong-token-wrong-token", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
                     f"Basic {TOKEN}", TOKEN, "Bearer", f"Bearer  {TOKEN[1:]}"):
            headers = {"authorization": auth} if auth else {}
            r = c.post("/api/articles", params={"wait": "true"}, json=_record("t-1"), headers=headers)
            assert "token" in _error(r, 401), auth
            assert r.headers["www-authenticate"].startswith("Bearer")
        # Every write route, enumerated from the app, wants the token (login and logout excepted).
        for method, path in _write_routes(tmp_path):
            if path in ("/login", "/logout"):
                continue
            r = c.request(method, _fill(path), json={}, headers={"origin": base})
            assert r.status_code == 401, (method, path, r.status_code)
        assert c.get("/api/articles/t-1").status_code == 404
        good = {"authorization": f"Bearer {TOKEN}"}
        r = c.post("/api/articles", params={"wait": "true"}, json=_record("t-1"), headers=good)
        assert r.status_code == 200 and r.json()["new"] == 1
        r = c.post("/api/articles", params={"wait": "true"}, json=_record("t-2"),
                   headers={"authorization": f"bearer {TOKEN}"})
        assert r.status_code == 200
        sid = c.get("/api/articles/t-1").json()["story"]
        assert c.post(f"/api/stories/{sid}/split", json={"articles": ["t-1"]}).status_code == 401
        # The cookie is a digest of the token, not the token: sending the token as cookie fails.
        c.cookies.set(websecurity.SESSION_COOKIE, TOKEN)
        assert c.post("/api/articles", json=_record("t-3")).status_code == 401
        c.cookies.clear()
        # A token-holding request from another site is still refused.
        r = c.post("/api/articles", json=_record("t-4"), headers=good | {"origin": EVIL})
        assert r.status_code == 403


def test_login_sets_a_strict_httponly_cookie_for_the_forms(guarded: tuple[str, Path]) -> None:
    base = guarded[0]
    with httpx.Client(base_url=base, timeout=300) as c:
        r = c.post("/stories/st-x/merge", data={"other": "st-y"})
        assert r.status_code == 401 and "/login" in r.text
        assert c.get("/").text.count('id="login-link"') == 1
        login = c.get("/login", params={"next": "/upload"})
        assert 'name="next" value="/upload"' in login.text
        r = c.post("/login", data={"token": "wrong-wrong-wrong-wrong", "next": "/upload"})
        assert r.status_code == 401 and "not the server" in r.text and "set-cookie" not in r.headers
        r = c.post("/login", data={"token": TOKEN, "next": "/upload"}, headers={"origin": EVIL})
        assert r.status_code == 403  # login CSRF
        r = c.post("/login", data={"token": TOKEN, "next": "//evil.example/x"})
        assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
        r = c.post("/login", data={"token": TOKEN, "next": "/upload"})
        assert r.status_code == 303 and r.headers["location"] == "/upload"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
        assert TOKEN not in cookie
        assert 'id="logout-button"' in c.get("/").text
        r = c.post("/upload", files={"files": ("pier.txt", b"Pier repairs\n\nThe pier reopened on Friday "
                                               b"after repairs, the harbour master said.", "text/plain")})
        assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
        r = c.post("/logout")
        assert r.status_code == 303 and 'Max-Age=0' in r.headers["set-cookie"]
        c.cookies.clear()
        assert c.post("/upload", files={"files": ("x.txt", b"x", "text/plain")}).status_code == 401


def test_oversized_uploads_are_refused(guarded: tuple[str, Path]) -> None:
    base, root = guarded
    uploads = root / "data" / "uploads"
    good = {"authorization": f"Bearer {TOKEN}"}
    limit = 256 * 1024
    with httpx.Client(base_url=base, timeout=300, headers=good) as c:
        before = _files(uploads)
        big = b"Big upload.\n\n" + b"word " * (limit // 5 + 10)
        r = c.post("/api/ingest", files=[("files", ("big.txt", big, "text/plain"))])
        assert "262,144-byte upload limit" in _error(r, 413)
        r = c.post("/api/ingest", files=[("files", (f"part{i}.txt", big[: limit // 2], "text/plain"))
                                         for i in range(3)])
        _error(r, 413)  # the files of one upload count together
        r = c.post("/api/articles", json={"articles": [{"id": "big", "text": big.decode()}]})
        _error(r, 413)

        data, ctype = _multipart(b"chunked.txt", big)

        def chunks() -> Iterator[bytes]:  # no Content-Length: refused as the bytes arrive
            for i in range(0, len(data), 16384):
                yield data[i: i + 16384]
        r = c.post("/api/ingest", content=chunks(), headers={"content-type": ctype})
        assert "upload limit" in _error(r, 413)
        r = c.post("/upload", files=[("files", ("big.txt", big, "text/plain"))])
        assert r.status_code == 413 and "upload limit" in r.text
        assert _files(uploads) == before
        small = b"Small upload\n\nThe ferry timetable changes on Monday, the operator said."
        r = c.post("/api/ingest", params={"wait": "true"},
                   files=[("files", ("small.txt", small, "text/plain"))])
        assert r.status_code == 200 and r.json()["new"] == 1


def test_private_server_needs_the_token_to_read(tmp_path: Path) -> None:
    args = ["--token", TOKEN, "--private"]
    with running_server(tmp_path / "news.db", tmp_path / "data", args=args) as base, \
            httpx.Client(base_url=base, timeout=120) as c:
        for path in ("/api/stories", "/api/health", "/api/articles/x", "/openapi.json"):
            _error(c.get(path), 401)
        r = c.get("/search", params={"q": "x"})
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fsearch%3Fq%3Dx"
        assert c.get("/login").status_code == 200 and c.get("/static/style.css").status_code == 200
        assert c.get("/api/stories", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        c.post("/login", data={"token": TOKEN})
        assert c.get("/").status_code == 200


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr(websecurity.hmac, "compare_digest", spy)
    guard = websecurity.TokenGuard(TOKEN)
    assert guard.allows(f"Bearer {TOKEN}", None) and not guard.allows("Bearer nope", None)
    assert guard.allows(None, guard.session) and not guard.allows(None, TOKEN)
    assert guard.is_token(TOKEN) and not guard.is_token(TOKEN + "x")
    assert len(calls) == 6
    with pytest.raises(ValueError, match="16"):
        websecurity.TokenGuard("short")
