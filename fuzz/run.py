"""Run the atheris harnesses for a bounded time each; keep every failing input.

    python fuzz/run.py --seconds 60 [TARGET ...]      # default: every target

Each target starts from its regression corpus, tests/fuzz_corpus/TARGET/ (small
valid seeds and every input that once failed), plus a working corpus that grows
between runs under fuzz/.work/TARGET/ (not committed). A crash, a hang (over
--timeout seconds on one input) or a memory blow-up (over --rss-mb) is written to
tests/fuzz_corpus/TARGET/ as crash-*, timeout-* or oom-*: fix the bug, keep the
file, and tests/test_fuzz.py replays it on every test run.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "fuzz_corpus"
TARGETS = ("text", "html", "jsonl", "feed", "warc", "clean")


def run(target: str, seconds: int, timeout: int, rss_mb: int, max_len: int) -> tuple[int, int]:
    """Fuzz one target; returns (exit code, executions)."""
    keep = CORPUS / target
    work = HERE / ".work" / target
    keep.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / "fuzz_targets.py"), target,
           f"-max_total_time={seconds}", f"-timeout={timeout}", f"-rss_limit_mb={rss_mb}",
           f"-max_len={max_len}", f"-artifact_prefix={keep}/", "-print_final_stats=1",
           str(work), str(keep)]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr)
    execs = int(runs[-1]) if runs else 0
    status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
    print(f"{target:6} {status}: {execs} executions in {time.monotonic() - started:.0f} s", flush=True)
    if proc.returncode != 0:
        print("\n".join(proc.stderr.splitlines()[-40:]), file=sys.stderr)
    return proc.returncode, execs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="*", choices=[[], *TARGETS], default=[])
    ap.add_argument("--seconds", type=int, default=60, help="fuzzing time per target")
    ap.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    ap.add_argument("--rss-mb", type=int, default=2048, help="memory limit of the fuzzing process")
    ap.add_argument("--max-len", type=int, default=65536, help="largest input tried, in bytes")
    args = ap.parse_args()
    failed = 0
    for target in args.targets or TARGETS:
        code, _ = run(target, args.seconds, args.timeout, args.rss_mb, args.max_len)
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
