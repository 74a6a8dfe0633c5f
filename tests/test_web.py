"""The web UI in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
.ci/run) driven by Playwright, against a real server on a real store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from hostile import payload_record, xss_payloads
from playwright.sync_api import Browser, Dialog, Locator, Page, expect, sync_playwright
from serving import SEEDS, running_server

CHROMIUM = "/usr/bin/chromium"
ACCOUNT_TIMEOUT = 240_000  # ms: the first account of a story runs spaCy on each article


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("web")
    with running_server(root / "news.db", root / "data") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, base: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, errors  # no script error on any page


def _story_id(page: Page) -> str:
    return page.locator("#story-id").inner_text()


def test_upload_seeds_and_read_the_story(page: Page) -> None:
    page.goto("/upload")
    page.set_input_files("#upload-files", sorted(str(p) for p in SEEDS.glob("*.txt")))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#upload-label")).to_contain_text("Uploaded 2 file(s)", timeout=30_000)
    expect(page.locator("#job-link")).to_be_visible(timeout=180_000)
    expect(page.locator("#ingest-label")).to_contain_text("2 new")
    page.click("#job-link")
    expect(page.locator("#job-status")).to_contain_text("done")
    page.locator("a[href^='/stories/']").first.click()

    # The account is prepared in the background; the page refreshes itself until it is there.
    quotes = page.locator(".aligned-quote[data-voices='2']")
    expect(quotes.first).to_be_visible(timeout=ACCOUNT_TIMEOUT)
    courage = quotes.filter(has_text="courageously")
    expect(courage).to_have_count(1)
    wordings = courage.locator(".wording")
    # both outlets' full wordings, and the raw scrape's lead that quotes one word of it
    expect(wordings).to_have_count(3)
    direct = wordings.filter(has_not=page.locator(".kind"))
    expect(direct).to_have_count(2)
    for i in range(2):
        expect(direct.nth(i)).to_contain_text("courageously")
    mixed = wordings.filter(has=page.locator(".kind", has_text="mixed"))
    expect(mixed).to_have_count(1)
    expect(mixed.locator("ins")).to_have_text(["they"])
    expect(mixed.locator(".quote-text")).to_contain_text('courageously and "heroically."')
    expect(courage).to_contain_text("fought courageously and heroically")
    sacrifices = quotes.filter(has_text="never forget the sacrifices")
    expect(sacrifices).to_have_count(1)
    # The paraphrase shows its word differences against the other wording.
    expect(sacrifices.locator("ins").first).to_be_visible()
    expect(sacrifices.locator("del").first).to_be_visible()

    def claim(status: str, text: str) -> Locator:
        return page.locator(f"#claims-{status} .claim-text", has_text=re.compile(f"^{re.escape(text)}$"))

    expect(claim("single-source", "roughly 15,000 troops")).to_have_count(1)
    expect(claim("corroborated", "80th anniversary")).to_have_count(1)
    expect(page.locator("#coverage .only-outlet", has_text="15,000 troops")).to_have_count(1)
    # marks only around verbatim words: a mixed quote carries its own
    expect(page.locator("#coverage .only-quote", has_text="trust and friendship")).to_have_text(
        'Vladimir Putin: their countries\' "trust and friendship"')
    expect(page.locator("#coverage .only-quote", has_text="heroically")).to_have_count(0)
    expect(page.locator("#coverage svg.chart rect.bar").first).to_be_visible()
    expect(page.locator(".members .member")).to_have_count(2)

    # Each summary sentence cites an article once, however many of its sentences agree.
    for item in page.locator("#summary li").all():
        numbers = item.locator("a.cite").all_inner_texts()
        assert numbers and len(numbers) == len(set(numbers)), numbers
    # A citation opens the article with the cited sentence highlighted.
    page.locator("#summary a.cite").first.click()
    expect(page.locator("mark#hl")).to_be_visible()
    expect(page.locator("section.removed")).to_be_visible()


def test_story_list_shows_the_story_with_outlets(page: Page) -> None:
    page.goto("/")
    rows = page.locator("tr.story-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Putin")
    expect(rows.first.locator("a.chip")).to_have_count(1)  # one named outlet; the other has none
    expect(rows.first.locator(".chip.unnamed")).to_have_text("no outlet named 1")
    expect(rows.first.locator("td.num").first).to_have_text("2")


_LINES_OF = "el => { const r = document.createRange(); r.selectNodeContents(el); " \
            "return new Set(Array.from(r.getClientRects(), c => Math.round(c.top))).size; }"


@pytest.mark.parametrize("width", [1280, 400])
def test_tables_read_on_a_desk_and_on_a_phone(page: Page, width: int) -> None:
    """Column headers break between words, never inside one ("ARTICLE / S" they did),
    and on a phone no page is wider than the screen: a wide table scrolls sideways."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    expect(page.locator("tr.story-row")).to_have_count(1)
    story = page.locator("tr.story-row a").first.get_attribute("href")
    article = None
    for path in ["/", story, "/upload", "/search?q=Putin"]:
        page.goto(str(path))
        if path == story:
            expect(page.locator("#summary")).to_be_visible(timeout=ACCOUNT_TIMEOUT)
            article = page.locator("table.members a[href^='/articles/']").first.get_attribute("href")
        for th in page.locator("th").all():
            text = th.inner_text().strip()
            if text and " " not in text:
                assert th.evaluate(_LINES_OF) == 1, (path, text)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    page.goto(str(article))
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_search_for_kursk(page: Page) -> None:
    page.goto("/")
    page.fill("header .quicksearch input", "Kursk")
    page.press("header .quicksearch input", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=Kursk"))
    hits = page.locator("li.hit")
    expect(hits.first).to_be_visible()
    expect(hits.first.locator("mark").first).to_have_text(re.compile("kursk", re.I))
    # the seeds carry no date: no empty field between two separators ("redcanaco.com · · story")
    for meta in hits.locator(".meta").all_inner_texts():
        assert "· ·" not in meta and "·  ·" not in meta, meta
    page.check("input[name=mode][value=semantic]")
    page.click("form.filters button[type=submit]")
    expect(page.locator("li.hit").first).to_be_visible()


def test_split_then_merge_from_the_story_page(page: Page) -> None:
    page.goto("/")
    page.locator("a.story-link").first.click()
    original = _story_id(page)
    page.locator(".members .member input[type=checkbox]").first.check()
    page.click("#split-button")
    expect(page.locator(".notice.ok")).to_contain_text("split off")
    new = _story_id(page)
    assert new != original
    expect(page.locator(".members .member")).to_have_count(1)
    page.goto("/")
    expect(page.locator("tr.story-row")).to_have_count(2)

    page.goto(f"/stories/{original}")
    page.fill("#merge-other", new)
    page.click("#merge-button")
    expect(page.locator(".notice.ok")).to_contain_text("merged")
    assert _story_id(page) == original
    expect(page.locator(".members .member")).to_have_count(2)
    page.goto("/")
    expect(page.locator("tr.story-row")).to_have_count(1)


def test_hostile_article_text_is_shown_as_text(page: Page, base: str) -> None:
    evil = {
        "id": "evil-1",
        "title": "<script>window.__xss = 1</script>Harbour <b>crane</b> collapses",
        "source": "<img src=x onerror=\"window.__xss = 2\">Evil Outlet",
        "url": "javascript:window.__xss = 3",
        "text": ("A crane collapsed at the harbour on Tuesday, the port authority said.\n"
                 "<img src=x onerror=\"window.__xss = 4\"> was written in the article body.\n"
                 "<script>window.__xss = 5</script> also appears, and \"</p><h1>broken</h1>\" too."),
    }
    r = httpx.post(base + "/api/articles", params={"wait": "true"}, json={"articles": [evil]}, timeout=120)
    assert r.status_code == 200 and r.json()["new"] == 1, r.text
    for url in ("/articles/evil-1", "/search?q=crane", "/?q=crane", "/",
                f"/stories/{r.json() and httpx.get(base + '/api/articles/evil-1').json()['story']}"):
        page.goto(url)
        assert page.evaluate("window.__xss") is None, url
        assert page.locator("main img").count() == 0, url
        assert page.locator("main script").count() == 0, url
        assert page.locator("main h1").count() <= 1, url
    page.goto("/articles/evil-1")
    body = page.locator(".article .body").inner_text()
    assert "<img src=x onerror=" in body and "<script>window.__xss = 5</script>" in body
    expect(page.locator("h1")).to_contain_text("<script>window.__xss = 1</script>Harbour <b>crane</b>")
    hrefs = page.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert not any(h and h.lower().startswith("javascript") for h in hrefs)


HANDLERS = """() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
    .filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + ' ' + a.name))"""


def test_xss_corpus_runs_no_script(page: Page, base: str) -> None:
    """Every payload of tests/fixtures/xss_payloads.txt as title, outlet, URL and text, and
    echoed from the query: no dialog opens, nothing sets window.__pwned, no element has an
    event handler, and Chromium refuses no inline script (the Content-Security-Policy would
    block one; that it never has to shows escaping alone kept the payloads inert)."""
    payloads = xss_payloads()
    records = [payload_record(i, p) for i, p in enumerate(payloads)]
    r = httpx.post(base + "/api/articles", params={"wait": "true"}, json={"articles": records}, timeout=300)
    assert r.status_code == 200 and r.json()["status"] == "done", r.text
    dialogs: list[str] = []
    refused: list[str] = []

    def on_dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    sid = httpx.get(base + "/api/articles/xss-00").json()["story"]
    urls = ["/", "/?q=crane", "/search?q=crane", f"/stories/{sid}", f"/jobs/{r.json()['id']}"]
    urls += [f"/articles/xss-{i:02d}" for i in range(len(records))]
    urls += ["/search?" + urlencode({"q": p}) for p in payloads]
    for url in urls:
        page.goto(url)
        assert page.evaluate("window.__pwned") is None, url
        assert page.evaluate(HANDLERS) == [], url
    assert not dialogs, dialogs
    assert not refused, refused


def test_log_in_with_the_token_then_upload(browser: Browser, tmp_path: Path) -> None:
    """With --token, the browser UI works after one log-in: the upload form is refused
    before, accepted after, and the session cookie is HttpOnly and SameSite=Strict."""
    token = "browser-token-0123456789"
    with running_server(tmp_path / "news.db", tmp_path / "data", args=["--token", token]) as url:
        context = browser.new_context(base_url=url)
        pg = context.new_page()
        seed = sorted(str(p) for p in SEEDS.glob("*.txt"))[:1]
        pg.goto("/upload")
        pg.set_input_files("#upload-files", seed)
        pg.click("#upload-form button[type=submit]")
        expect(pg.locator("#upload-label")).to_contain_text("token", timeout=30_000)
        pg.click("#login-link")
        pg.fill("#login-token", "not-the-token-at-all")
        pg.click("#login-button")
        expect(pg.locator("#login-error")).to_be_visible()
        pg.fill("#login-token", token)
        pg.click("#login-button")
        expect(pg.locator("#logout-button")).to_be_visible()
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] != token
        pg.goto("/upload")
        pg.set_input_files("#upload-files", seed)
        pg.click("#upload-form button[type=submit]")
        expect(pg.locator("#job-link")).to_be_visible(timeout=180_000)
        pg.click("#logout-button")
        expect(pg.locator("#login-link")).to_be_visible()
        context.close()


def test_a_whole_page_scrape_shows_its_removals_grouped_by_reason(browser: Browser,
                                                                  tmp_path: Path) -> None:
    """Hundreds of removed menu lines must not bury the few that tell a story: each
    reason is one group, a group of more than twelve lines starts closed.  (And the
    page says "Copy of" only for a copy: it used to say it on every article.)"""
    import newsdesk
    from newsdesk.cleaning import removals_by_reason
    from newsdesk.store import Store

    rows = (Path(__file__).parent / "fixtures" / "cleaning" / "scraped_bridge_comments.tsv")
    text = "\n".join(ln.split("\t", 1)[1] for ln in rows.read_text(encoding="utf-8").splitlines() if ln)
    (tmp_path / "bridge.txt").write_text(text, encoding="utf-8")
    # and a copy of its article that another site ran, with a line of its own
    copy_text = text.replace("the county council said on Thursday.",
                             "the county council said on Thursday, in a statement to this paper.")
    assert copy_text != text
    (tmp_path / "bridge-copy.txt").write_text(copy_text, encoding="utf-8")
    store = Store(tmp_path / "page.db")
    assert not newsdesk.ingest(store, [tmp_path / "bridge.txt"], stories=False).problems
    (article,) = store.iter_articles()
    assert not newsdesk.ingest(store, [tmp_path / "bridge-copy.txt"], stories=False).problems
    (copy,) = [a for a in store.iter_articles() if a.id != article.id]
    assert (store.copy_info(copy.id) or {}).get("original_id") == article.id
    groups = dict(removals_by_reason(article.removed))
    big = [r for r, rs in groups.items() if len(rs) > 12]
    small = [r for r, rs in groups.items() if len(rs) <= 12]
    assert big and "reader-comments" in small  # what the page is chosen for
    with running_server(tmp_path / "page.db", tmp_path / "data") as url:
        context = browser.new_context(base_url=url)
        page = context.new_page()
        page.goto(f"/articles/{copy.id}")  # a copy names its original
        expect(page.locator(".meta-grid")).to_contain_text(f"Copy of{article.id}")
        page.locator(f'.meta-grid a[href="/articles/{article.id}"]').click()
        expect(page.locator(".meta-grid")).not_to_contain_text("Copy of")  # an original does not
        expect(page.locator("details.removed-group")).to_have_count(len(groups))
        summary = page.locator(".removed-summary")
        for reason, rs in groups.items():
            expect(summary).to_contain_text(f"{reason} {len(rs)}")
        for reason in small:
            group = page.locator(f'details.removed-group[data-reason="{reason}"]')
            expect(group.locator("tbody tr")).to_have_count(len(groups[reason]))
            expect(group.locator("tbody tr").first).to_be_visible()
        group = page.locator(f'details.removed-group[data-reason="{big[0]}"]')
        expect(group.locator("tbody tr").first).to_be_hidden()
        group.locator("summary").click()
        expect(group.locator("tbody tr")).to_have_count(len(groups[big[0]]))
        expect(group.locator("tbody tr").first).to_be_visible()
        expect(group.locator("tbody tr").first).to_contain_text(groups[big[0]][0].text)
        context.close()
