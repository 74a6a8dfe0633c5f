"""Crashes: SIGKILL a real ingest (and a real server ingesting uploads) at random
points, many times; after a rerun the store equals the store of an uninterrupted
run: the same articles, cleaned texts and metadata, outlet memory, copy groups,
embeddings and story partition, no duplicate and no half-written row.

The kill points are random but seeded: the seed is printed (and named in every
failure); ``NEWSDESK_CRASH_SEED=N`` replays a run, ``NEWSDESK_CRASH_ROUNDS=N``
changes how many kill rounds run.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from serving import free_port
from test_readers import make_warc

import newsdesk
from newsdesk import store as store_module
from newsdesk.metadata import content_hash
from newsdesk.store import SqlBuckets, Store
from newsdesk.storybook import StoryBook

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "samples"

SEED = int(os.environ.get("NEWSDESK_CRASH_SEED") or random.SystemRandom().randrange(1 << 31))
ROUNDS = int(os.environ.get("NEWSDESK_CRASH_ROUNDS") or 3)
NEWSDESK = [sys.executable, "-m", "newsdesk"]


# --- the corpus ------------------------------------------------------------------------------
# Six events, each reported by several outlets in different formats, with syndicated
# copies (the same text under another headline, with boilerplate, inside a longer
# page), the two sample scrapes, the fixtures (with their bad records), and one
# outlet whose pages share a promo line (the outlet memory drops it after five).
EVENTS: dict[str, list[tuple[str, str, str, str]]] = {  # event -> (outlet, date, title, text)
    "quake": [
        ("Adriatic Post", "2016-08-24T06:00:00Z", "Earthquake kills dozens in central Italy",
         "A magnitude 6.1 earthquake struck near the town of Amatrice in central Italy early on "
         "Wednesday, killing at least 38 people and flattening dozens of stone houses, the civil "
         "protection agency said.\nRescuers dug through rubble with bare hands in Amatrice, where the "
         "mayor said that half of the town had disappeared."),
        ("Roma Daily", "2016-08-24T09:00:00Z", "Amatrice digs for survivors after quake",
         "Rescue teams searched collapsed homes in Amatrice after Wednesday's magnitude 6.1 quake in "
         "central Italy, as the death toll rose to 38.\nRoads into the mountain village were blocked "
         "by landslides, and helicopters flew the injured to hospitals in Rome and Rieti."),
        ("Mountain Voice", "2016-08-24T12:30:00Z", "Italy quake: villages in ruins",
         "Villages across the Apennines lay in ruins on Wednesday after a strong earthquake hit central "
         "Italy overnight.\nIn Amatrice, firefighters pulled a girl alive from the rubble of her home, "
         "while the civil protection agency put the number of dead at 38 and warned it would rise."),
    ],
    "ferry": [
        ("Jakarta Wire", "2023-05-13T06:00:00Z", "Ferry runs aground off Sulawesi",
         "A passenger ferry ran aground off the coast of Sulawesi in Indonesia on Saturday, and all 212 "
         "people on board were taken off safely by navy boats, the transport ministry said.\nThe ferry "
         "operator blamed a navigation error during a storm."),
        ("Island Times", "2023-05-13T09:00:00Z", "All 212 rescued from stranded ferry",
         "All 212 passengers of a ferry that hit a reef near Sulawesi were rescued on Saturday, "
         "Indonesia's transport ministry said, after navy boats reached the stranded vessel during a "
         "storm.\nInvestigators are looking at a navigation error by the crew."),
        ("Pacific Report", "2023-05-13T15:00:00Z", "Navy evacuates grounded Sulawesi ferry",
         "Indonesian navy boats evacuated a ferry that ran onto a reef off Sulawesi on Saturday.\nThe "
         "212 passengers and crew were brought ashore in Makassar, and the ministry said the ship would "
         "be towed once the storm passed."),
    ],
    "treaty": [
        ("Wire", "2025-03-07T18:00:00Z", "Fishing treaty extended",
         "GENEVA (Reuters) - Negotiators from 40 countries agreed on Friday to extend a treaty that "
         "limits fishing in the high seas for another ten years, after two weeks of talks that nearly "
         "collapsed over quotas for tuna.\nThe agreement still needs ratification by national "
         "parliaments, and several delegations said they expected a difficult debate at home.\n\"This "
         "is a fragile compromise, but it is a compromise,\" the chair of the talks told reporters."),
        ("Other", "2025-03-08T09:00:00Z", "Geneva talks end with treaty deal",
         "Delegates in Geneva extended the high-seas fishing treaty on Friday. Our correspondent says "
         "tuna quotas dominated the final days of the talks, and small island states pushed hardest for "
         "stricter enforcement of the catch limits."),
    ],
    "fire": [
        ("Athens News", "2021-08-08T07:00:00Z", "Evia wildfire forces ferry evacuation",
         "Hundreds of residents and tourists were evacuated by ferry from the Greek island of Evia on "
         "Sunday as a wildfire burned for a sixth day.\nFirefighters from Romania and Ukraine joined "
         "Greek crews, but strong winds pushed the flames towards the village of Pefki."),
        ("Hellas Today", "2021-08-08T10:00:00Z", "Evia fire reaches Pefki",
         "The wildfire on Evia reached the village of Pefki on Sunday, and coast guard ferries took "
         "hundreds of people off the beach.\nThe fire has burned for six days, and crews from Romania "
         "and Ukraine are helping Greek firefighters."),
        ("Euro Desk", "2021-08-08T16:00:00Z", "Greece battles Evia blaze for sixth day",
         "Greece fought a wildfire on the island of Evia for a sixth day on Sunday, evacuating "
         "villages by sea.\nThe prime minister called the fires a natural disaster of unprecedented "
         "scale and promised compensation to those who lost homes."),
    ],
    "strike": [
        ("Paris Courier", "2023-03-07T06:00:00Z", "Rail strike halts French trains",
         "Most high-speed trains in France were cancelled on Tuesday as rail workers walked out over "
         "the government's plan to raise the pension age to 64.\nThe SNCF said only one train in five "
         "would run, and unions called for the strike to continue on Wednesday."),
        ("Lyon Matin", "2023-03-07T09:30:00Z", "Pension strike: one train in five",
         "Only one high-speed train in five ran in France on Tuesday, the SNCF said, as rail workers "
         "struck against the pension reform that would raise the retirement age to 64.\nUnions said the "
         "walkout would go on into Wednesday."),
        ("Continental", "2023-03-07T14:00:00Z", "France grinds to a halt over pensions",
         "Trains, schools and refineries were hit on Tuesday as French unions staged their biggest "
         "strike yet against raising the pension age to 64.\nRail traffic was cut to one high-speed "
         "train in five."),
    ],
    "rates": [
        ("Money Daily", "2022-07-21T12:30:00Z", "ECB raises rates for first time in 11 years",
         "The European Central Bank raised its interest rates by half a percentage point on Thursday, "
         "its first increase in eleven years, to fight inflation that reached 8.6 percent in June.\n"
         "The bank also approved a new tool to cap borrowing costs for indebted euro zone members."),
        ("Frankfurt Ledger", "2022-07-21T14:00:00Z", "ECB surprises with half-point hike",
         "The ECB surprised markets on Thursday with a half-point rise in interest rates, double what "
         "it had signalled, as euro zone inflation hit 8.6 percent.\nPresident Christine Lagarde said "
         "further increases would come at the coming meetings."),
    ],
}
PROMO = "Get the Harbour Gazette app for breaking news alerts"
GAZETTE_TOPICS = ["ferry timetable", "fish market", "lighthouse repairs", "rowing regatta",
                  "harbour dredging", "sea wall", "marina fees"]
JUNK = "\nAdvertisement\nRead more: Ten things to do this weekend\nShare this article\n"

PAGE = """<!DOCTYPE html><html lang="en"><head><title>{title} | {outlet}</title>
<meta property="og:site_name" content="{outlet}">
<meta property="article:published_time" content="{date}"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>{title}</h1>{paras}</article>
<aside>Most read: Ten things to do this weekend</aside><footer>Copyright 2025 {outlet}</footer>
</body></html>"""


def _page(outlet: str, date: str, title: str, text: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n"))
    return PAGE.format(outlet=outlet, date=date, title=title, paras=paras)


def _rss(items: list[tuple[str, str, str, str, str | None]]) -> str:
    """RSS 2.0; an item's fifth field is the original publisher (``<source>``)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
           "<title>Aggregator</title><link>https://agg.example/</link><description>news</description>"]
    for i, (outlet, date, title, text, publisher) in enumerate(items):
        body = "".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in text.split("\n"))
        source = (f'<source url="https://{_slug(publisher)}.example/">{publisher}</source>'
                  if publisher else "")
        out.append(f"<item><title>{title}</title><link>https://agg.example/{i}</link>"
                   f"<guid>agg-{_slug(outlet)}-{i}</guid><pubDate>{_rfc822(date)}</pubDate>{source}"
                   f"<content:encoded>{body}</content:encoded></item>")
    return "".join(out) + "</channel></rss>"


def _slug(s: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (s or "").lower()).strip("-")


def _rfc822(iso: str) -> str:
    from datetime import datetime
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def _record(outlet: str, date: str, title: str, text: str, rid: str | None = None) -> dict[str, str]:
    r = {"url": f"https://{_slug(outlet)}.example/{_slug(title)}", "source": outlet,
         "published": date, "title": title, "text": text}
    return r | ({"id": rid} if rid else {})


def build_corpus(root: Path) -> list[Path]:
    """Write the corpus (35 articles in 21 files of every format); return its files in ingest order."""
    root.mkdir(parents=True, exist_ok=True)
    e = EVENTS
    quake_copy = e["quake"][0][3] + "\nFollow us for more news from Italy."
    rates_page = ("Markets closed higher in Europe on Thursday, and the euro rose against the dollar.\n"
                  + e["rates"][0][3] + "\nIn other news, oil prices fell for a third day.")
    files: dict[str, str | bytes] = {
        # plain text scrapes: title, blank line, body, with junk around it
        "quake-roma.txt": f"{e['quake'][1][2]}\n\n{e['quake'][1][3]}{JUNK}",
        "ferry-jakarta.txt": f"{e['ferry'][0][2]}\n\nToday\n{e['ferry'][0][3]}\nShare this article\n",
        "fire-athens.txt": f"{e['fire'][0][2]}\n\n{e['fire'][0][3]}{JUNK}",
        "strike-paris.txt": f"{e['strike'][0][2]}\n\n{e['strike'][0][3]}\n",
        # a syndicated copy of the treaty wire under another headline
        "treaty-copy.txt": "Deal on the high seas\n\n" + e["treaty"][0][3].replace(
            "the chair of the talks told reporters", "the chair of the talks told journalists") + JUNK,
        # whole pages
        "quake-voice.html": _page(*e["quake"][2]),
        "fire-hellas.html": _page(*e["fire"][1]),
        "strike-lyon.html": _page(*e["strike"][1]),
        "rates-ledger.html": _page(*e["rates"][1]),
        # records
        "wire.jsonl": "\n".join(json.dumps(_record(*r, rid=f"tr-{i}"))
                                for i, r in enumerate(e["treaty"])) + "\n",
        "adriatic.jsonl": json.dumps(_record(*e["quake"][0])) + "\n"
        + json.dumps(_record(*e["rates"][0])) + "\n",
        "gazette.jsonl": "\n".join(json.dumps(_record(
            "Harbour Gazette", f"2025-06-0{i + 1}T08:00:00Z", f"Council backs {topic} plan",
            f"Council members debated the {topic} for three hours on Tuesday before voting {i + 4} to 2 "
            f"in favour of the plan.\nResidents who spoke at the meeting said the {topic} had been "
            f"neglected for years and welcomed the decision.\n{PROMO}", rid=f"hg-{i}"))
            for i, topic in enumerate(GAZETTE_TOPICS)) + "\n",
        # an aggregator's feed: a copy with boilerplate, a copy inside a longer page, a report
        "aggregator.rss": _rss([
            ("Aggregator", "2016-08-24T13:00:00Z", "Dozens dead in Italy quake", quake_copy, "Adriatic Post"),
            ("Aggregator", "2022-07-21T15:00:00Z", "Markets: ECB hike", rates_page, None),
            ("Aggregator", *e["fire"][2][1:], e["fire"][2][0]),
        ]),
        "continental.atom": (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xml:lang="en"><title>Continental</title><id>urn:continental</id>'
            "<updated>2023-03-07T14:00:00Z</updated><entry>"
            f"<title>{e['strike'][2][2]}</title><id>urn:continental:strike</id>"
            '<link href="https://continental.example/strike"/>'
            f"<published>{e['strike'][2][1]}</published>"
            "<source><title>Continental</title><id>https://continental.example/</id></source>"
            '<content type="html">'
            + "".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in e["strike"][2][3].split("\n"))
            + "</content></entry></feed>"),
        "crawl.warc.gz": make_warc([
            ("https://island-times.example/ferry", _page(*e["ferry"][1])),
            ("https://pacific-report.example/ferry", _page(*e["ferry"][2])),
            ("https://mirror.example/fishing", _page("Mirror", "2025-03-08T07:00:00Z", "Deal on seas",
                                                     e["treaty"][0][3])),
        ]),
    }
    for name, data in files.items():
        path = root / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    fixtures = root / "fixtures"
    fixtures.mkdir(exist_ok=True)
    for src in [*SAMPLES.glob("*.txt"), FIXTURES / "articles.jsonl", FIXTURES / "feed.rss",
                FIXTURES / "feed.atom"]:
        (fixtures / src.name).write_bytes(src.read_bytes())
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- the canonical dump --------------------------------------------------------------------------
def _origin(origin: str) -> str:
    """An input's name without its folder (the corpus folder, or the server's upload folder
    and its ``0001-`` order prefix), with the record part (``#line=3``) kept."""
    path, sep, where = origin.partition("#")
    return re.sub(r"^\d{4}-", "", Path(path).name) + sep + where


def canonical(db: Path, *, on_postgres: bool) -> dict[str, Any]:
    """Everything ingest decides, in a form two stores can be compared by, after checking
    the store is sound: the SQLite file passes its integrity checks, no row is
    duplicated or half-written, and the saved story index agrees with the members."""
    store = Store(db)
    try:
        with store.engine.connect() as conn:
            def rows(sql: str) -> list[tuple[Any, ...]]:
                return [tuple(r) for r in conn.execute(sa.text(sql))]

            if not on_postgres:
                assert rows("PRAGMA integrity_check") == [("ok",)]
                assert rows("PRAGMA foreign_key_check") == []
                # the keyword index holds exactly the stored articles
                conn.exec_driver_sql("INSERT INTO article_search (article_search) VALUES ('integrity-check')")
                assert rows("SELECT count(*) FROM article_search_docs") == rows(
                    "SELECT count(*) FROM articles")
            arts = rows("SELECT id, title, source, url, published, lang, author, dateline, format, origin, "
                        "content_hash, raw_hash, feed_source, text, removed FROM articles ORDER BY id")
            for a in arts:  # whole rows: the text hashes to its stored hash, the removals parse
                assert a[13] and a[10] == content_hash(a[13]), a[0]
                json.loads(a[14])
            keys = rows("SELECT key, article_id FROM copy_keys")
            assert len(keys) == len(set(keys)), "duplicated copy keys"
            vectors = {r[0]: (r[1], np.frombuffer(r[2], dtype="<f4"))
                       for r in rows("SELECT article_id, component, vector FROM embeddings")}
            assert all(v.shape == (384,) and np.isfinite(v).all() for _, v in vectors.values())
            members = dict(rows("SELECT article_id, story_id FROM story_members"))
            dump = {
                "articles": [(*a[:9], _origin(a[9]), *a[10:]) for a in arts],
                "inputs": rows("SELECT digest, articles, problems FROM ingested_inputs ORDER BY digest"),
                "outlet_lines": rows("SELECT source, line, pages FROM outlet_lines ORDER BY source, line"),
                "copy_keys": sorted(keys),
                "copies": rows("SELECT article_id, original_id, matched_id, method, round(score * 1000), "
                               "evidence, component FROM copies ORDER BY article_id"),
                "embedded": sorted((aid, comp) for aid, (comp, _) in vectors.items()),
                "stories": sorted(sorted(g) for g in _groups(members).values()),
                "story_ids": members,
                "story_stats": rows("SELECT story_id, articles, first_seen, last_seen, title, outlets, "
                                    "sources FROM story_stats ORDER BY story_id"),
            }
        # The saved story index knows every article, in the stories the members say.
        book = StoryBook(store)
        assert {a for ms in book.index.stories().values() for a in ms} == set(members)
        assert sorted(sorted(g) for g in book.index.stories().values()) == dump["stories"]
        dump["vectors"] = {aid: v for aid, (_, v) in vectors.items()}
        return dump
    finally:
        store.close()


def _groups(members: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for aid, sid in members.items():
        out.setdefault(sid, []).append(aid)
    return out


def assert_same_store(got: dict[str, Any], ref: dict[str, Any], context: str) -> None:
    """Equal dumps; embeddings may differ in the last bits (a batch of another size)."""
    for key in ref:
        if key == "vectors":
            assert got[key].keys() == ref[key].keys(), context
            worst = max(float(np.abs(got[key][a] - ref[key][a]).max()) for a in ref[key])
            assert worst < 1e-4, f"{context}: embeddings differ by {worst}"
        else:
            assert got[key] == ref[key], f"{context}: {key} differ"
    assert len(ref["articles"]) == 35 and ref["copies"] and len(ref["stories"]) < 35  # a real corpus


# --- the tests --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "corpus"
    build_corpus(root)
    return root


@dataclass(frozen=True)
class Reference:
    """One uninterrupted ``newsdesk ingest`` of the corpus: its store, and when (seconds
    after the start) the first and the last article were stored and the run ended."""

    dump: dict[str, Any]
    first: float
    stored: float
    took: float

    def kill_delay(self, rng: random.Random) -> float:
        """Half the kills land while articles are being stored (a second or two of a run
        that mostly loads and runs the embedding model), half anywhere in the run."""
        if rng.random() < 0.5:
            return rng.uniform(max(0.1, self.first - 0.2), self.stored + 0.2)
        return rng.uniform(0.1, self.took)


def _stored(engine: sa.Engine) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT count(*) FROM articles")) or 0)
    except sa.exc.DBAPIError:  # not created yet
        return 0


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    db = tmp_path_factory.mktemp("ref") / "ref.db"
    engine = sa.create_engine(store_module.database_url(db), poolclass=sa.pool.NullPool)
    t0 = time.monotonic()
    proc = subprocess.Popen([*NEWSDESK, "--db", str(db), "ingest", "-q", str(corpus)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = stored = 0.0
    while proc.poll() is None:
        n = _stored(engine)
        now = time.monotonic() - t0
        first = first or (now if n else 0.0)
        stored = stored if n < 35 or stored else now
        time.sleep(0.05)
    took = time.monotonic() - t0
    engine.dispose()
    assert proc.returncode == 1, proc.stderr.read() if proc.stderr else ""  # the fixtures' bad records
    on_pg = bool(os.environ.get("NEWSDESK_TEST_DB", "").strip())
    return Reference(canonical(db, on_postgres=on_pg), first or took, stored or took, took)


def _kill_at(proc: subprocess.Popen[bytes], delay: float) -> bool:
    """SIGKILL ``proc`` after ``delay`` seconds; False when it had finished before."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def test_killed_ingest_reruns_to_the_reference_store(
        corpus: Path, reference: Reference, tmp_path: Path, on_postgres: bool) -> None:
    """ROUNDS fresh stores; each gets 1-3 ingests SIGKILLed at random points of the run, then
    one ingest to the end, and must then equal the uninterrupted run's store."""
    ref = reference.dump
    rng = random.Random(SEED)
    print(f"crash seed {SEED} (NEWSDESK_CRASH_SEED={SEED} replays it); reference ingest: articles "
          f"stored {reference.first:.1f}-{reference.stored:.1f} s, done {reference.took:.1f} s")
    cmd = [*NEWSDESK, "--db", "DB", "ingest", "-q", str(corpus)]
    landed: list[tuple[float, int]] = []
    for r in range(ROUNDS):
        db = tmp_path / f"killed-{r}.db"
        run = [str(db) if a == "DB" else a for a in cmd]
        for _ in range(rng.randint(1, 3)):
            delay = reference.kill_delay(rng)
            if _kill_at(subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), delay):
                with Store(db) as s:
                    landed.append((delay, s.count_articles()))
        done = subprocess.run(run, capture_output=True, text=True)
        # 1: the fixtures' bad records (0 when their files were finished before a kill)
        assert done.returncode in (0, 1), f"seed {SEED} round {r}: {done.stderr[-2000:]}"
        assert_same_store(canonical(db, on_postgres=on_postgres), ref, f"seed {SEED} round {r}")
    print("kills (seconds, articles stored):", landed)
    assert landed, f"seed {SEED}: no kill landed before its run ended"


def _start_server(db: Path, data: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([*NEWSDESK, "--db", str(db), "serve", "--port", str(port),
                             "--data-dir", str(data)], stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited with {proc.returncode}: {log.read_text()[-2000:]}"
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not start")


def _upload(base: str, files: list[Path], root: Path) -> int | None:
    """POST every file in one request; the status, or None when the server died first."""
    try:
        return httpx.post(base + "/api/ingest", timeout=60, files=[
            ("files", (str(p.relative_to(root)), p.read_bytes())) for p in files]).status_code
    except httpx.HTTPError:
        return None


def _idle(base: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = httpx.get(base + "/api/jobs", timeout=10).json()["items"]
        if all(j["status"] not in ("queued", "running") for j in jobs):
            assert all(j["status"] == "done" for j in jobs), jobs
            return
        time.sleep(0.2)
    raise AssertionError("jobs still running")


def test_killed_server_resumes_uploads_to_the_reference_store(
        corpus: Path, reference: Reference, tmp_path: Path, on_postgres: bool) -> None:
    """Upload the corpus to a real server and SIGKILL it at random points while it saves and
    ingests the upload, restart it (it resumes leftover uploads) and kill it again; an
    upload that got no 2xx is sent again. The final store equals the CLI reference."""
    ref = reference.dump
    rng = random.Random(SEED + 1)
    print(f"crash seed {SEED} (NEWSDESK_CRASH_SEED={SEED} replays it)")
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    db, data, log = tmp_path / "served.db", tmp_path / "data", tmp_path / "serve.log"
    accepted = False
    events: list[str] = []
    for _ in range(ROUNDS):
        proc, base = _start_server(db, data, log)
        delay = reference.kill_delay(rng)
        if not accepted:
            # The kill may come while the request is still being answered: then no 2xx
            # reached the client, which must send the files again.
            timer = time.monotonic()
            status = _upload(base, files, corpus)
            accepted = status == 202
            delay = max(0.0, delay - (time.monotonic() - timer))
            events.append(f"upload {status}")
        killed = _kill_at(proc, delay)
        events.append(f"kill after {delay:.1f} s: {'landed' if killed else 'too late'}")
        if not killed:
            pytest.fail(f"seed {SEED}: server exited by itself: {log.read_text()[-2000:]}")
    proc, base = _start_server(db, data, log)
    try:
        if not accepted:
            assert _upload(base, files, corpus) == 202
        _idle(base)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print("server:", events)
    assert_same_store(canonical(db, on_postgres=on_postgres), ref, f"seed {SEED} server {events}")


# --- every write boundary, in process ---------------------------------------------------------------
# A SIGKILL lands between two transactions (the database rolls back the one it
# interrupts), so crashing before each write of a run, in turn, covers every state a
# kill can leave. These are the writes; ``SqlBuckets.flush`` runs inside
# ``save_copy_matches``'s transaction.
WRITES = ("add_articles", "save_copy_matches", "forget_copies", "mark_input_done", "mark_inputs_done",
          "save_embeddings", "write_story_members", "save_story_state")
# A subset of the corpus with every kind of state: copies across and within files,
# the outlet memory, an HTML page and a WARC.
SUBSET = ("gazette.jsonl", "wire.jsonl", "treaty-copy.txt", "crawl.warc.gz", "aggregator.rss",
          "adriatic.jsonl", "rates-ledger.html")


class Crash(BaseException):
    """Stands for SIGKILL: no ``except Exception`` in ingest may catch it."""


def _crash_before_writes(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[int | None]]:
    """Every store write counted in ``calls``; once ``limit[0]`` writes are done, the next
    one raises ``Crash`` instead of writing."""
    calls: list[str] = []
    limit: list[int | None] = [None]

    def guard(owner: type, name: str) -> None:
        real = getattr(owner, name)

        def write(*args: Any, **kwargs: Any) -> Any:
            if limit[0] is not None and len(calls) >= limit[0]:
                raise Crash(name)
            calls.append(name)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, write)

    for name in WRITES:
        guard(Store, name)
    guard(SqlBuckets, "flush")
    return calls, limit


def test_a_crash_before_any_write_reruns_to_the_reference_store(
        corpus: Path, tmp_path: Path, on_postgres: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Crash before the n-th write of an ingest, for every n, then ingest again: the
    store equals an uninterrupted run's. Regression for three bugs found this way:
    outlet lines counted twice (counted before their article was stored), copies
    never folded (an article stored, then the crash, was skipped as unchanged), and
    story ids changed (the rerun placed the caught-up articles before the rest)."""
    inputs = [corpus / name for name in SUBSET]
    calls, limit = _crash_before_writes(monkeypatch)
    newsdesk.ingest(Store(tmp_path / "ref.db"), inputs)
    ref = canonical(tmp_path / "ref.db", on_postgres=on_postgres)
    points = len(calls)
    assert points > 20 and calls[-1] == "save_story_state"
    for n in range(points):
        db = tmp_path / f"crash-{n}.db"
        calls.clear()
        limit[0] = n
        with pytest.raises(Crash):
            newsdesk.ingest(Store(db), inputs)
        limit[0] = None
        newsdesk.ingest(Store(db), inputs)
        got = canonical(db, on_postgres=on_postgres)
        for key in ref:
            if key != "vectors":
                assert got[key] == ref[key], f"crash before write {n} ({calls[-1:]} done): {key} differ"


@pytest.mark.parametrize("load_shards", [1, 2])
def test_a_batch_load_crashed_before_any_write_reloads_to_the_reference_store(
        corpus: Path, tmp_path: Path, on_postgres: bool, monkeypatch: pytest.MonkeyPatch,
        load_shards: int) -> None:
    """The same for loading a batch's stage output (``newsdesk batch``'s load, shard by
    shard, or in groups of shards): crash before the n-th write, for every n, load
    again, and the store equals an uninterrupted load's. Regression: a crash between
    storing a shard's articles and saving their copies left them unfolded for good (the
    reload skipped them as unchanged), and the reload placed the caught-up articles
    before the rest."""
    from newsdesk.batch import BatchOptions, load, run_batch
    from newsdesk.executors import LocalExecutor

    out = tmp_path / "stages"
    run_batch([corpus / name for name in SUBSET], out, LocalExecutor(), options=BatchOptions(shard_files=2))
    calls, limit = _crash_before_writes(monkeypatch)
    load(Store(tmp_path / "ref.db"), out, load_shards=load_shards)
    ref = canonical(tmp_path / "ref.db", on_postgres=on_postgres)
    points = len(calls)
    shards = len(json.loads((out / "manifest.json").read_text())["shards"])
    # every group marked done at once, after its writes
    assert shards >= 4 and calls.count("mark_inputs_done") == -(-shards // load_shards)
    assert points > 10 and calls[-1] == "save_story_state"
    for n in range(points):
        db = tmp_path / f"crash-{n}.db"
        calls.clear()
        limit[0] = n
        with pytest.raises(Crash):
            load(Store(db), out, load_shards=load_shards)
        limit[0] = None
        load(Store(db), out, load_shards=load_shards)
        got = canonical(db, on_postgres=on_postgres)
        for key in ref:
            if key != "vectors":
                assert got[key] == ref[key], f"crash before write {n} ({calls[-1:]} done): {key} differ"
        assert got["vectors"].keys() == ref["vectors"].keys()
