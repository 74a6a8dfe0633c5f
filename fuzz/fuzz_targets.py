"""Coverage-guided fuzzing of one newsdesk parser (or the cleaner) with atheris.

    python fuzz/fuzz_targets.py TARGET [libFuzzer options] [CORPUS_DIR ...]

TARGET is one of text, html, jsonl, feed, warc, clean (see fuzz/targets.py);
fuzz/run.py runs them for a bounded time and keeps what fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["newsdesk", "trafilatura", "feedparser", "warcio", "targets"]):
    import targets


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(targets.TARGETS)}}} [libFuzzer options]")
    target = targets.TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
