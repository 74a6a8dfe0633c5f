"""The CLI as a user runs it: ingest, articles, show, export, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from newsdesk.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "samples"


def run(db: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_ingest_list_show_export(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    code, _out, err = run(db, "ingest", str(SAMPLES))
    assert code == 0, err
    assert "2 new" in err

    code, out, _ = run(db, "articles")
    assert code == 0
    assert "redcanaco.com" in out and "2 of 2 article(s)" in out

    code, out, _ = run(db, "export", "articles", "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 2
    assert all(set(r) == {"id", "title", "source", "url", "published", "lang", "text", "story", "copy_of"}
               for r in records)
    assert all(r["copy_of"] is None for r in records)  # two independent reports, not copies
    seed = next(r for r in records if r["source"] == "redcanaco.com")

    code, out, _ = run(db, "show", seed["id"])
    assert code == 0
    assert "Putin meets Kim, praises North Korean troops in Russia" in out
    assert "Removed by cleaning" in out and "attribution-spam" in out
    # grouped by reason, in the order the text meets them; a long group cut short
    assert "(13): attribution-spam 1, repeated-headline 2, trailing-headline-list 10" in out
    trailing = [ln for ln in out.splitlines() if "trailing-headline-list:" in ln]
    assert len(trailing) == 5 and "5 more trailing-headline-list lines" in out
    code, out, _ = run(db, "show", seed["id"], "--all-removed")
    assert len([ln for ln in out.splitlines() if "trailing-headline-list:" in ln]) == 10
    assert "more trailing-headline-list" not in out

    # A unique prefix of a hash id is enough, as with git.
    code, out, _ = run(db, "show", seed["id"][:8], "--json")
    shown = json.loads(out)
    assert shown["id"] == seed["id"]
    assert any("redcanaco" in r["text"] for r in shown["removed"])


def test_ingest_twice_reports_nothing_new(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    run(db, "ingest", str(SAMPLES))
    code, _, err = run(db, "ingest", str(SAMPLES))
    assert code == 0
    assert "0 new" in err and "2 input(s) already ingested" in err


def test_bad_input_exit_code_and_messages(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    code, _, err = run(db, "ingest", str(FIXTURES / "articles.jsonl"))
    assert code == 1
    assert "articles.jsonl#line=3" in err and "invalid JSON" in err
    code, out, _ = run(db, "export", "articles")
    assert len(out.splitlines()) == 3  # the good records are in


def test_stdin_and_field_mapping(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    line = json.dumps({"headline": "Dam opens", "body": "The new dam opened on Monday after "
                       "eight years of construction, officials said."})
    code, _, err = run(db, "ingest", "-", "--field", "title=headline", "--field", "text=body",
                       input=line + "\n")
    assert code == 0, err
    code, out, _ = run(db, "export", "articles")
    assert json.loads(out)["title"] == "Dam opens"


def test_unknown_field_name_is_an_error(tmp_path: Path) -> None:
    code, _, err = run(tmp_path / "n.db", "ingest", "-", "--field", "body=text", input="{}")
    assert code == 2 and "not a newsdesk field" in err


def test_show_unknown_id(tmp_path: Path) -> None:
    code, _, err = run(tmp_path / "n.db", "show", "nope")
    assert code == 1 and "no article with id 'nope'" in err


def test_installed_entry_point(tmp_path: Path) -> None:
    """The console script a user runs, in a real process."""
    db = tmp_path / "news.db"
    proc = subprocess.run(
        [sys.executable, "-m", "newsdesk", "--db", str(db), "ingest", str(FIXTURES / "feed.atom")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 new" in proc.stderr


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    names: list[str] = []
    for name, cmd in main.commands.items():
        sub = getattr(cmd, "commands", None)
        if sub:
            names.extend(f"{name} {s}" for s in sub)
        else:
            names.append(name)
    for name in names:
        assert f"newsdesk --db news.db {name}" in readme, f"README does not document {name!r}"


def test_dates_without_a_time_of_day_are_shown_as_days(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    text = "The new dam opened on Monday after eight years of construction, officials said."
    lines = [json.dumps({"id": "d1", "title": "Dam opens", "text": text, "published": "2011-06-17"}),
             json.dumps({"id": "d2", "title": "Dam opens to traffic", "text": text + " Traffic flows.",
                         "published": "2011-06-18T14:30:00"})]
    code, _, err = run(db, "ingest", "-", input="\n".join(lines) + "\n")
    assert code == 0, err
    code, out, _ = run(db, "stories")
    assert code == 0
    assert "2011-06-17" in out and "00:00" not in out  # a date-only record claims no time
    assert "2011-06-18 14:30" in out
