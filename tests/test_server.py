"""The HTTP API against a real server process on a real store file (SQLite, or a
PostgreSQL schema on the PostgreSQL run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import SEEDS, running_server, wait_for_job

from newsdesk import store as store_module
from newsdesk.server import RenderedPages
from newsdesk.store import Store

SEED_FILES = sorted(SEEDS.glob("*.txt"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("serve")
    with running_server(root / "news.db", root / "data") as base:
        yield base, root / "data"


@pytest.fixture(scope="module")
def client(server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=300) as c:
        yield c


@pytest.fixture(scope="module")
def seeded(client: httpx.Client) -> dict:
    """The two seed documents uploaded as files; the finished job."""
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in SEED_FILES]
    r = client.post("/api/ingest", files=files)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/jobs/{r.json()['id']}"
    job = wait_for_job(client, r.json())
    assert job["status"] == "done", job
    return job


def _error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}, body
    assert body["error"]["status"] == status
    return str(body["error"]["message"])


def test_health_and_openapi(client: httpx.Client) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/articles", "/api/ingest", "/api/stories", "/api/stories/{story_id}",
              "/api/search", "/api/stories/{story_id}/merge", "/api/stories/{story_id}/split",
              "/api/export/{what}", "/api/jobs/{job_id}"):
        assert p in paths, p


def test_upload_makes_one_story_with_its_account(client: httpx.Client, seeded: dict) -> None:
    assert seeded["inputs"] == 2 and seeded["new"] == 2 and not seeded["problems"]
    assert sorted(seeded["files"]) == sorted(f"{i:04d}-{p.name}" for i, p in enumerate(SEED_FILES))
    stories = client.get("/api/stories").json()
    assert stories["total"] == 1 and stories["offset"] == 0
    item = stories["items"][0]
    assert item["articles"] == 2 and item["outlets"] == 2
    story = client.get(f"/api/stories/{item['id']}", params={"wait": "true"}).json()
    assert story["account_state"] == "fresh"
    account = story["account"]
    multi = [q for q in account["quotes"] if q["voices"] == 2]
    assert any("courageously" in q["text"] for q in multi)
    assert any("never forget the sacrifices" in q["text"] for q in multi)
    troops = [c for c in account["claims"] if "15,000" in c["claim"]]
    assert troops and troops[0]["status"] == "single-source"
    # Without wait, the stored account is fresh now.
    assert client.get(f"/api/stories/{item['id']}").json()["account_state"] == "fresh"


def test_the_same_upload_again_changes_nothing(client: httpx.Client, seeded: dict) -> None:
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in SEED_FILES]
    job = client.post("/api/ingest", params={"wait": "true"}, files=files).json()
    assert job["status"] == "done" and job["new"] == 0 and job["skipped"] == 2
    assert client.get("/api/articles").json()["total"] == 2


def test_json_ingest_keeps_good_records_and_names_bad_ones(client: httpx.Client, seeded: dict) -> None:
    records = [
        {"id": "good-1", "title": "Harbour bridge reopens", "source": "Harbour Gazette",
         "published": "2026-03-02T08:00:00Z", "url": "https://gazette.example/bridge",
         "text": "The harbour bridge reopened on Monday after a year of repairs.\n"
                 "Traffic flowed in both directions by noon, the city said."},
        {"id": "bad-1", "title": "No body at all", "source": "Harbour Gazette"},
    ]
    r = client.post("/api/articles", params={"wait": "true"}, json={"articles": records})
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["status"] == "done" and job["new"] == 1
    assert job["article_ids"] == ["good-1"]
    assert len(job["problems"]) == 1
    assert job["problems"][0]["origin"].startswith("articles.jsonl#")
    assert "text" in job["problems"][0]["reason"]
    article = client.get("/api/articles/good-1").json()
    assert article["source"] == "Harbour Gazette" and article["published"].startswith("2026-03-02")
    assert "harbour bridge reopened" in article["text"].lower()
    assert article["story"]


def test_errors_have_one_shape(client: httpx.Client) -> None:
    assert "no story" in _error(client.get("/api/stories/st-nothing-here"), 404)
    assert "no article" in _error(client.get("/api/articles/nope"), 404)
    assert "no job" in _error(client.get("/api/jobs/nope"), 404)
    assert "limit" in _error(client.get("/api/stories", params={"limit": 0}), 422)
    assert "limit" in _error(client.get("/api/stories", params={"limit": 10_000}), 422)
    assert "mode" in _error(client.get("/api/search", params={"q": "x", "mode": "psychic"}), 422)
    assert "q" in _error(client.get("/api/search"), 422)
    _error(client.get("/api/nothing/here"), 404)
    assert "articles" in _error(client.post("/api/articles", json={"wrong": []}), 422)
    _error(client.post("/api/articles", content=b"{not json", headers={"content-type": "application/json"}),
           422)
    assert "no articles" in _error(client.post("/api/articles", json={"articles": []}), 400)


def test_listing_is_paginated(client: httpx.Client, seeded: dict) -> None:
    everything = client.get("/api/articles", params={"limit": 200}).json()
    total = everything["total"]
    assert total == len(everything["items"]) >= 2
    pages = [client.get("/api/articles", params={"limit": 1, "offset": i}).json() for i in range(total)]
    assert [p["items"][0]["id"] for p in pages] == [a["id"] for a in everything["items"]]
    assert all(p["total"] == total and p["limit"] == 1 for p in pages)
    assert client.get("/api/articles", params={"limit": 1, "offset": total}).json()["items"] == []


def test_keyword_and_semantic_search(client: httpx.Client, seeded: dict) -> None:
    hits = client.get("/api/search", params={"q": "Kursk"}).json()
    assert hits["total"] >= 1
    assert all("kursk" in (h["snippet"] or "").lower() for h in hits["items"])
    assert "\u0002" in hits["items"][0]["snippet"]
    sem = client.get("/api/search", params={"q": "North Korean soldiers sent to Russia",
                                            "mode": "semantic", "limit": 2}).json()
    assert {h["id"] for h in sem["items"]} == set(seeded["article_ids"])
    for hostile in ('Kursk"', "AND OR (", "'; DROP TABLE articles; --", "NEAR(", "*"):
        r = client.get("/api/search", params={"q": hostile})
        assert r.status_code in (200, 400), (hostile, r.text)
    assert client.get("/api/articles").json()["total"] >= 2


def test_exports(client: httpx.Client, seeded: dict) -> None:
    sid = client.get("/api/stories").json()["items"][0]["id"]
    rows = [json.loads(x) for x in client.get("/api/export/quotes", params={"story": sid}).text.splitlines()]
    assert rows and {"article", "story", "start", "end", "quote", "speaker", "verb", "kind",
                     "aligned_id"} <= set(rows[0])
    claims = [json.loads(x) for x in client.get("/api/export/claims").text.splitlines()]
    assert {c["status"] for c in claims} <= {"corroborated", "single-source", "contradicted"}
    md = client.get(f"/api/stories/{sid}/export", params={"format": "markdown"})
    assert md.headers["content-type"].startswith("text/markdown") and "## Claims" in md.text
    arts = [json.loads(x) for x in client.get("/api/export/articles").text.splitlines()]
    assert {"id", "title", "source", "url", "published", "lang", "text"} <= set(arts[0])


def test_article_shows_what_cleaning_removed(client: httpx.Client, seeded: dict) -> None:
    raw = next(a for a in seeded["article_ids"]
               if client.get(f"/api/articles/{a}").json()["removed"])
    article = client.get(f"/api/articles/{raw}").json()
    assert any("This news data comes from" in r["text"] for r in article["removed"])
    assert all(r["reason"] for r in article["removed"])
    assert "This news data comes from" not in article["text"]


def test_merge_and_split(client: httpx.Client, seeded: dict) -> None:
    sid = next(s["id"] for s in client.get("/api/stories").json()["items"] if s["articles"] == 2)
    one = seeded["article_ids"][0]
    new = client.post(f"/api/stories/{sid}/split", json={"articles": [one]}).json()["story"]
    assert new != sid
    assert client.get(f"/api/articles/{one}").json()["story"] == new
    assert "no article" in _error(client.post(f"/api/stories/{sid}/split", json={"articles": ["nope"]}), 404)
    merged = client.post(f"/api/stories/{sid}/merge", json={"other": new}).json()["story"]
    assert merged == sid
    assert {client.get(f"/api/articles/{a}").json()["story"] for a in seeded["article_ids"]} == {sid}
    assert "itself" in _error(client.post(f"/api/stories/{sid}/merge", json={"other": sid}), 400)
    assert "no story" in _error(client.post(f"/api/stories/{sid}/merge", json={"other": "st-none"}), 404)


def test_cross_site_posts_are_refused(client: httpx.Client, server: tuple[str, Path]) -> None:
    record = {"articles": [{"id": "x-site", "title": "t", "text": "Some text here for a test."}]}
    r = client.post("/api/articles", json=record, headers={"Origin": "https://evil.example"})
    assert "cross-site" in _error(r, 403)
    r = client.post("/stories/whatever/merge", data={"other": "x"},
                    headers={"Referer": "https://evil.example/form.html"})
    assert r.status_code == 403
    assert client.get("/api/articles/x-site").status_code == 404
    ok = client.post("/api/articles", params={"wait": "true"}, json=record, headers={"Origin": server[0]})
    assert ok.status_code == 200


def test_upload_names_cannot_leave_the_data_folder(client: httpx.Client, server: tuple[str, Path]) -> None:
    data_dir = server[1]
    body = b"Escape attempt\n\nThis text tries to land outside the data folder of the server."
    names = ["../../escape.txt", "/etc/escape.txt", "..\\..\\escape.txt", "....//escape.txt", ".."]
    job = client.post("/api/ingest", params={"wait": "true"},
                      files=[("files", (n, body, "text/plain")) for n in names]).json()
    assert job["status"] == "done"
    saved = [p for p in data_dir.rglob("*") if p.is_file() and p.read_bytes() == body]
    assert len(saved) == len(names)
    assert all(p.resolve().is_relative_to((data_dir / "uploads").resolve()) for p in saved)
    assert not list(data_dir.parent.parent.rglob("escape.txt"))
    assert not Path("/etc/escape.txt").exists()


def test_story_page_follows_every_change(client: httpx.Client, server: tuple[str, Path],
                                         seeded: dict) -> None:
    """The server keeps rendered story pages; each change to what a page shows, made by
    the server or by another process on the same store, is on the next request."""
    sid = next(s["id"] for s in client.get("/api/stories").json()["items"] if s["articles"] == 2)
    client.get(f"/api/stories/{sid}", params={"wait": "true"})  # a fresh account: the page is kept
    first = client.get(f"/stories/{sid}").text
    assert client.get(f"/stories/{sid}").text == first
    one = seeded["article_ids"][0]
    new = client.post(f"/api/stories/{sid}/split", json={"articles": [one]}).json()["story"]
    # (the stale account, shown while the new one is prepared, may still cite it)
    link = f'class="article-link" href="/articles/{one}"'
    assert link in first and link not in client.get(f"/stories/{sid}").text
    client.post(f"/api/stories/{sid}/merge", json={"other": new})
    assert link in client.get(f"/stories/{sid}").text
    # Another process renames an article: the page shows the new title at once.
    store = Store(server[1].parent / "news.db")
    try:
        with store.engine.begin() as conn:
            conn.execute(store_module.articles.update().where(store_module.articles.c.id == one)
                         .values(title="A title written by another process"))
    finally:
        store.close()
    assert "A title written by another process" in client.get(f"/stories/{sid}").text


def test_rendered_pages_are_kept_under_their_marker_and_bounded() -> None:
    pages = RenderedPages(max_bytes=100)
    pages.put(("a",), 1, b"x" * 20)
    assert pages.get(("a",), 1) == b"x" * 20
    assert pages.get(("a",), 2) is None  # the store moved on
    pages.put(("huge",), 1, b"x" * 26)  # over a quarter of the room: not kept
    assert pages.get(("huge",), 1) is None
    for i in range(5):
        pages.put((i,), 1, b"y" * 20)
    assert pages.get(("a",), 1) is None and pages.get((4,), 1) == b"y" * 20  # the oldest went first


def test_a_damaged_saved_story_index_is_a_503_naming_it(tmp_path: Path) -> None:
    import newsdesk

    db = tmp_path / "news.db"
    with Store(db) as store:
        newsdesk.ingest(store, SEED_FILES)
        sid = next(iter(store.story_map().values()))
        data = store.load_story_state()
        assert data is not None
        store.save_story_state(data[: len(data) // 2], 2)
    with running_server(db, tmp_path / "data") as base, httpx.Client(base_url=base, timeout=300) as c:
        message = _error(c.post(f"/api/stories/{sid}/split", json={"articles": ["x"]}), 503)
        assert "saved story index" in message and "cannot be read" in message
        assert c.get("/api/health").json()["status"] == "ok"  # reading what is stored still works


def test_story_page_marks_events_after_the_newest_article(client: httpx.Client) -> None:
    record = {"id": "ahead-1", "title": "Trump drops debate", "source": "dailyone.example",
              "published": "2011-12-13T10:00:00", "lang": "en",
              "text": "Trump said on Tuesday that he would not moderate the debate. The Dec. 27 "
                      "debate was sponsored by Newsmax. By 2036 the fund will be empty, the "
                      "trustees said."}
    job = client.post("/api/ingest", params={"wait": "true"}, files=[
        ("files", ("ahead.jsonl", json.dumps(record).encode(), "application/json"))]).json()
    assert job["status"] == "done", job
    sid = next(s["id"] for s in client.get("/api/stories").json()["items"]
               if s["title"] == "Trump drops debate")
    client.get(f"/api/stories/{sid}", params={"wait": "true"})
    page = client.get(f"/stories/{sid}").text
    assert page.count('<li class="ahead">') == 2  # the 27th, and 2036
    assert "<b>2011-12-13</b>:" in page
