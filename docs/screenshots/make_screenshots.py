"""Screenshots of the web UI for the README: the story list, a story page and the
raw scrape's article page with what cleaning removed, made from the bundled samples
in Debian's Chromium.

    .venv/bin/python docs/screenshots/make_screenshots.py
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        db = Path(tmp) / "news.db"
        subprocess.run([sys.executable, "-m", "newsdesk", "--db", str(db), "ingest",
                        str(ROOT / "samples")], check=True)
        server = subprocess.Popen([sys.executable, "-m", "newsdesk", "--db", str(db), "serve",
                                   "--port", str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/api/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            story = httpx.get(base + "/api/stories").json()["items"][0]["id"]
            httpx.get(f"{base}/api/stories/{story}", params={"wait": "true"}, timeout=600)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium")
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(base + "/")
                page.screenshot(path=str(OUT / "stories.png"))
                page.goto(f"{base}/stories/{story}")
                page.screenshot(path=str(OUT / "story.png"), full_page=True)
                scrape = next(a for a in httpx.get(base + "/api/articles").json()["items"]
                              if a["source"] == "redcanaco.com")
                page.goto(f"{base}/articles/{scrape['id']}")
                page.screenshot(path=str(OUT / "article.png"), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait()
    print(f"wrote {OUT / 'stories.png'}, {OUT / 'story.png'} and {OUT / 'article.png'}")


if __name__ == "__main__":
    main()
