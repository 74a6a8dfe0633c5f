"""Hostile input for the web security tests: the XSS payload corpus, articles carrying
it, SQL injection strings, and a checker that a page holds no markup from any of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lxml.html

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEMPLATES = Path(__file__).resolve().parent.parent / "src" / "newsdesk" / "web" / "templates"

# The only escapes the corpus file uses; any other backslash there is literal text.
_ESCAPES = {"\\t": "\t", "\\u200b": "\u200b", "\\u202e": "\u202e"}


def xss_payloads() -> list[str]:
    out = []
    for line in (FIXTURES / "xss_payloads.txt").read_text(encoding="utf-8").split("\n"):
        if not line.strip() or line.startswith("# "):
            continue
        for k, v in _ESCAPES.items():
            line = line.replace(k, v)
        out.append(line)
    return out


def payload_record(i: int, payload: str) -> dict[str, Any]:
    """An article with the payload in its title, outlet, URL and text (a line of its own
    and inside a quotation, so the story's account carries it too)."""
    return {
        "id": f"xss-{i:02d}",
        "title": f"Crane report {i}: {payload}",
        "source": f"{payload} Outlet {i}",
        "url": payload,
        "published": f"2026-04-{1 + i % 28:02d}T09:00:00Z",
        "text": (f"The harbour crane number {i} collapsed on Monday, the port authority said.\n"
                 f"{payload}\n"
                 f"\"{payload} is what we found in the cabin,\" the inspector said on Tuesday.\n"
                 "Workers were evacuated from the quay and nobody was hurt, officials said."),
    }


SQL_INJECTIONS = [
    "' OR '1'='1", "' OR 1=1 --", "\" OR \"\"=\"", "'; DROP TABLE articles; --",
    "\"; DROP TABLE articles; --", "1; DELETE FROM articles",
    "' UNION SELECT id, text, NULL FROM articles --",
    "') OR ('a'='a", "%' OR '%'='", "\\'; DROP TABLE story_members; --", "' AND pg_sleep(5) --",
    "'||(SELECT version())||'", "$$; DROP TABLE articles; $$", "' OR randomblob(1000000000) --",
    "x' ESCAPE '\\", "article_search MATCH '*'", "NEAR(crane harbour)", "title:crane", "*", "\"", "(",
    "crane\x00' OR 1=1", "%", "_", "%_%", "' OR ''='", "admin'--", "1' ORDER BY 99 --",
    "'; UPDATE articles SET title='pwned'; --", "'; ATTACH DATABASE '/tmp/x.db' AS x; --",
    "'; COPY articles TO '/tmp/x'; --", "?", ":q", "$1", "{}", "\\", "x" * 3000,
]


# --- the checker ------------------------------------------------------------------------------------
def template_tags() -> set[str]:
    """Every tag a template writes: a tag outside this set on a page came from data."""
    tags = set()
    for t in TEMPLATES.glob("*.html"):
        tags |= {m.lower() for m in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", t.read_text())}
    return tags | {"html", "head", "body"}


_URL_ATTRS = {"href", "src", "action", "formaction", "data", "srcdoc", "poster", "background",
              "xlink:href", "{http://www.w3.org/1999/xlink}href", "ping", "cite", "codebase"}


def _local_or_web(url: str) -> bool:
    u = re.sub(r"[\x00-\x20]", "", url).lower()
    return (u.startswith(("/", "#", "?")) and not u.startswith(("//", "/\\"))) or u.startswith(
        ("http://", "https://"))


def norm(text: str) -> str:
    return " ".join(text.split())


def assert_inert(html: str, where: str, *, visible: Sequence[str] = ()) -> Any:
    """No element or attribute on the page comes from data: only tags the templates write,
    only the app's own script, no event handler attribute, no script URL, no style, no
    meta refresh to elsewhere; and each string in ``visible`` is there as text."""
    doc = lxml.html.document_fromstring(html)
    allowed = template_tags()
    for el in doc.iter():
        if not isinstance(el.tag, str):  # comments and processing instructions: from templates only
            assert "<" not in (el.text or ""), (where, lxml.html.tostring(el))
            continue
        tag = el.tag.lower()
        assert tag in allowed, (where, f"unexpected <{tag}>", lxml.html.tostring(el)[:200])
        if tag == "script":
            assert el.get("src") == "/static/app.js" and not (el.text or "").strip(), (where, el.attrib)
        if tag == "meta":
            assert set(el.attrib) <= {"charset", "name", "content", "http-equiv"}, (where, el.attrib)
            if el.get("http-equiv"):
                refresh = el.get("http-equiv") == "refresh" and (el.get("content") or "").isdigit()
                assert refresh, (where, el.attrib)
        if tag == "link":
            assert el.get("href") == "/static/style.css", (where, el.attrib)
        if tag == "form":
            action = el.get("action") or "/"
            assert _local_or_web(action) and not action.startswith("http"), (where, el.attrib)
        for name, value in el.attrib.items():
            lname = str(name).lower()
            assert not lname.startswith("on"), (where, f"<{tag} {name}={value!r}>")
            assert lname not in ("style", "srcdoc", "formaction"), (where, f"<{tag} {name}={value!r}>")
            if lname in _URL_ATTRS:
                assert _local_or_web(value), (where, f"<{tag} {name}={value!r}>")
    text = norm(doc.text_content())
    for want in visible:
        assert norm(want) in text, (where, f"not shown as text: {want!r}")
    return doc
