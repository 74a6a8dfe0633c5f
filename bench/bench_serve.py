"""The web UI / HTTP API under load: requests/s and p50/p95/p99 latency per page kind.

    python bench/build_serve_store.py --db bench/out/serve_100k.db --articles 100000   # once
    python bench/bench_serve.py --db bench/out/serve_100k.db                           # 20 s a scenario
    python bench/bench_serve.py --db bench/out/serve_100k.db --connections 1,8 \
        --scenarios story-html,story-api

Starts ``newsdesk --db DB serve --host 127.0.0.1 --port P`` (``--server-cmd`` runs
another server with the same arguments), waits until it accepts connections, then
for each scenario:

1. preflight: every URL of the scenario once, one at a time (status, size, and the
   latency of this first, cold request: caches, the embedding model on the first
   semantic search);
2. load: a load generator on loopback keeps ``--connections`` connections busy for
   ``--duration`` seconds, each request the next URL of the scenario's list in turn
   (closed loop: a connection sends its next request when the last one is answered,
   so latency under load includes queueing in the server).

Load generator: ``wrk`` (Debian package ``wrk``; one thread, since on 2 cores it
competes with the server for CPU) with a Lua script that rotates through the URLs
and prints the latency percentiles; without wrk (or with ``--loadgen httpx``) a
small asyncio + httpx generator, which costs more CPU per request. The table says
which one ran. The server's memory is the RSS of its process tree (sampled every
0.2 s: peak during the scenario, and at the end); its CPU seconds per request come
from /proc.

Scenarios (URLs from the store's sidecar written by build_serve_store.py):

  list-html        GET /
  list-api         GET /api/stories?limit=50
  list-api-pages   GET /api/stories?limit=50&offset=N   (N = 50, 500, 5000, 10000, last page)
  story-html       GET /stories/{id}        the sampled stories (accounts cached at build)
  story-api        GET /api/stories/{id}
  search-html      GET /search?q=TERM       frequent entity names of the data
  search-api       GET /api/search?q=TERM
  search-semantic  GET /api/search?q=TERM&mode=semantic

Other processes: the CPU the machine spent outside the server and the load generator
during each load is reported ("others' CPU s"; with PostgreSQL the database server's
own CPU counts there too); ``--wait-quiet S`` waits up to S seconds before each
scenario for other processes to idle. ``--profile`` samples the server with py-spy
during each load and prints the functions in the most samples.

Results: a table on stdout and JSON in bench/out/serve_<store>_<time>.json
(git-ignored); the server's own output goes to bench/out/serve_server_<time>.log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"

SCENARIOS = ("list-html", "list-api", "list-api-pages", "story-html", "story-api",
             "search-html", "search-api", "search-semantic")

WRK_LUA = r"""
-- newsdesk bench_serve: rotate through the URL paths listed in the file given after "--",
-- and print one JSON line with the counts and latency percentiles (microseconds).
local paths = {}
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  n = math.random(0, #paths - 1)
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"min_us":%d,"mean_us":%.1f,"max_us":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.min, latency.mean, latency.max, latency:percentile(50),
    latency:percentile(90), latency:percentile(95), latency:percentile(99)))
end
"""


def scenario_urls(sample: dict) -> dict[str, list[str]]:
    stories = sample["account_stories"]
    terms = [t["term"] for t in sample["search_terms"]]
    offsets = [o for o in sample["list_offsets"] if o > 0] or [0]
    return {
        "list-html": ["/"],
        "list-api": ["/api/stories?limit=50"],
        "list-api-pages": [f"/api/stories?limit=50&offset={o}" for o in offsets],
        "story-html": [f"/stories/{s}" for s in stories],
        "story-api": [f"/api/stories/{s}" for s in stories],
        "search-html": [f"/search?q={quote(t)}" for t in terms],
        "search-api": [f"/api/search?q={quote(t)}" for t in terms],
        "search-semantic": [f"/api/search?q={quote(t)}&mode=semantic" for t in terms],
    }


# ----------------------------------------------------------------------------- /proc
def _proc_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def rss_mb(root: int) -> float:
    """Summed VmRSS (MiB) of ``root`` and every process below it."""
    total = 0
    for pid in _proc_tree(root):
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total / 1024


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and every process below it."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _proc_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / tick


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def wait_quiet(server_pid: int, max_wait: float, threshold: float = 0.15) -> float:
    """Wait (at most ``max_wait`` s) until other processes use under ``threshold`` of a core
    over 2 s; returns the share measured last."""
    t0 = time.perf_counter()
    while True:
        b0, c0 = machine_busy_seconds(), cpu_seconds(server_pid)
        time.sleep(2)
        share = max(0.0, (machine_busy_seconds() - b0) - (cpu_seconds(server_pid) - c0)) / 2
        if share < threshold or time.perf_counter() - t0 >= max_wait:
            return share
        print(f"  waiting for a quiet machine: other processes use {share:.0%} of a core", flush=True)
        time.sleep(8)


# Plumbing that every request runs through (threads, event loop, the HTTP server).
SKIP_FRAMES = re.compile(r"\((threading\.py|selectors\.py|contextlib\.py|concurrent/|anyio/|asyncio/|"
                         r"uvicorn/|<frozen)")


def spy_summary(raw: Path, top: int = 12) -> list[tuple[str, float]]:
    """The functions (excluding the server plumbing) in the most samples of a py-spy raw
    (collapsed stacks) file, as (frame, share of the samples of busy threads)."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        for frame in set(stack.split(";")):
            inclusive[frame] = inclusive.get(frame, 0) + int(n)
    rows = [(f, c / total) for f, c in inclusive.items() if total and not SKIP_FRAMES.search(f)
            and not f.startswith(("process ", "thread ")) and c < 0.98 * total]
    rows.sort(key=lambda x: -x[1])
    return rows[:top]


class Sampler:
    """Peak RSS of a process tree while a block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.2)

    def __enter__(self) -> Sampler:
        self._th.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._th.join()
        self.peak = max(self.peak, rss_mb(self.pid))


# ----------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(db: str, host: str, port: int, template: str | None) -> list[str]:
    if template:
        return [x.format(db=db, host=host, port=port) for x in shlex.split(template)]
    return [sys.executable, "-m", "newsdesk", "--db", db, "serve", "--host", host, "--port", str(port)]


def start_server(cmd: list[str], log_path: Path, port: int, timeout: float) -> tuple[subprocess.Popen, float]:
    """Start the server and wait until it accepts TCP connections; (process, seconds)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fh = log_path.open("w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    while True:
        if proc.poll() is not None:
            fh.close()
            tail = "".join(log_path.read_text(errors="replace").splitlines(True)[-30:])
            raise SystemExit(f"error: the server exited with status {proc.returncode} before answering:\n"
                             f"  {shlex.join(cmd)}\n{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, time.perf_counter() - t0
        except OSError:
            pass
        if time.perf_counter() - t0 > timeout:
            stop_server(proc)
            raise SystemExit(f"error: the server did not accept connections within {timeout:.0f} s "
                             f"(log: {log_path})")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ----------------------------------------------------------------------------- load
def preflight(base: str, urls: list[str], timeout: float) -> dict:
    """Each URL once, one at a time: statuses, sizes, cold latencies."""
    import httpx

    lat, sizes, bad = [], [], []
    states: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=timeout) as client:
        for u in urls:
            t = time.perf_counter()
            try:
                r = client.get(u)
                lat.append(time.perf_counter() - t)
                sizes.append(len(r.content))
                if u.startswith("/api/stories/") and r.status_code == 200:
                    # a story whose account is not fresh makes the server compute it meanwhile
                    st = str(r.json().get("account_state"))
                    states[st] = states.get(st, 0) + 1
                if r.status_code >= 400:
                    bad.append({"url": u, "status": r.status_code, "body": r.text[:200]})
            except httpx.HTTPError as exc:
                lat.append(time.perf_counter() - t)
                bad.append({"url": u, "status": None, "body": f"{type(exc).__name__}: {exc}"})
    lat.sort()
    return {"urls": len(urls), "errors": len(bad), "bad": bad[:5], "account_states": states,
            "first_ms": round(lat[0] * 1000, 1) if lat else None,
            "median_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
            "max_ms": round(lat[-1] * 1000, 1) if lat else None,
            "bytes_median": sorted(sizes)[len(sizes) // 2] if sizes else 0}


def run_wrk(base: str, urls: list[str], duration: float, connections: int, threads: int,
            timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script, listing = Path(tmp) / "rotate.lua", Path(tmp) / "urls.txt"
        script.write_text(WRK_LUA)
        listing.write_text("\n".join(urls) + "\n")
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
               f"--timeout={max(1, round(timeout))}s", "-s", str(script), base, "--", str(listing)]
        r = subprocess.run(cmd, capture_output=True, text=True)
    line = next((x for x in r.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if r.returncode != 0 or line is None:
        raise SystemExit(f"error: wrk failed ({r.returncode}): {r.stderr.strip()}\n{r.stdout}")
    w = json.loads(line[len("WRKJSON "):])
    secs = w["duration_us"] / 1e6
    # A failed request: an error status, a timeout, or no connection. wrk also counts a read
    # error when the server closes the connection after an error response, so read/write
    # errors are reported apart ("socket") instead of counting one failure twice.
    errors = w["err_connect"] + w["err_status"] + w["err_timeout"]
    return {"requests": w["requests"], "seconds": round(secs, 2), "rps": w["requests"] / secs if secs else 0,
            "p50_ms": w["p50_us"] / 1000, "p95_ms": w["p95_us"] / 1000, "p99_ms": w["p99_us"] / 1000,
            "mean_ms": w["mean_us"] / 1000, "max_ms": w["max_us"] / 1000, "errors": errors,
            "socket_errors": w["err_read"] + w["err_write"],
            "error_kinds": {k[4:]: v for k, v in w.items() if k.startswith("err_") and v},
            "bytes": w["bytes"]}


async def _httpx_load(base: str, urls: list[str], duration: float, connections: int,
                      timeout: float) -> dict:
    import httpx

    lat: list[float] = []
    errors: dict[str, int] = {}
    nbytes = 0
    counter = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        t0 = time.perf_counter()
        deadline = t0 + duration

        async def worker() -> None:
            nonlocal counter, nbytes
            while time.perf_counter() < deadline:
                u = urls[counter % len(urls)]
                counter += 1
                t = time.perf_counter()
                try:
                    r = await client.get(u)
                    nbytes += len(r.content)
                    if r.status_code >= 400:
                        errors["status"] = errors.get("status", 0) + 1
                    else:
                        lat.append(time.perf_counter() - t)
                except httpx.TimeoutException:
                    errors["timeout"] = errors.get("timeout", 0) + 1
                except httpx.HTTPError:
                    errors["other"] = errors.get("other", 0) + 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        secs = time.perf_counter() - t0
    import numpy as np

    a = np.array(lat) * 1000 if lat else np.zeros(1)
    n = len(lat) + sum(errors.values())
    return {"requests": n, "seconds": round(secs, 2), "rps": n / secs,
            "p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "p99_ms": float(np.percentile(a, 99)), "mean_ms": float(a.mean()), "max_ms": float(a.max()),
            "errors": sum(errors.values()), "socket_errors": 0, "error_kinds": errors, "bytes": nbytes}


def run_httpx(base: str, urls: list[str], duration: float, connections: int, timeout: float) -> dict:
    return asyncio.run(_httpx_load(base, urls, duration, connections, timeout))


# ----------------------------------------------------------------------------- report
def table(rows: list[dict]) -> str:
    head = ("scenario", "conns", "URLs", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
            "cold ms (max)", "srv CPU ms/req", "RSS MiB peak", "others' CPU s")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(str(x) for x in (
            r["scenario"], r["connections"], r["urls"], r["requests"], f"{r['rps']:.1f}",
            f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['p99_ms']:.1f}",
            f"{r['errors']}" + (f" (+{r['socket_errors']} socket)" if r["socket_errors"] else ""),
            f"{r['preflight']['median_ms']} ({r['preflight']['max_ms']})",
            f"{r['server_cpu_ms_per_request']:.1f}" if r["server_cpu_ms_per_request"] is not None else "-",
            f"{r['rss_peak_mb']:.0f}", f"{r['other_cpu_seconds']:.1f}")) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--db", required=True, help="the store built by build_serve_store.py (file or URL)")
    ap.add_argument("--duration", type=float, default=20, help="seconds of load per scenario")
    ap.add_argument("--connections", default="8", help="concurrent connections; a comma list runs each")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, of: "
                    + ", ".join(SCENARIOS))
    ap.add_argument("--loadgen", choices=("auto", "wrk", "httpx"), default="auto")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a request counts as an error")
    ap.add_argument("--sample", help="the store's sidecar JSON (default: as build_serve_store.py wrote it)")
    ap.add_argument("--server-cmd", help="another server to start, with {db} {host} {port}, e.g. "
                    "'python app.py --db {db} serve --host {host} --port {port}'")
    ap.add_argument("--startup-timeout", type=float, default=300)
    ap.add_argument("--out", help="JSON result path (default bench/out/serve_<store>_<time>.json)")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="before each scenario, wait up to this long for other processes to idle")
    ap.add_argument("--profile", action="store_true",
                    help="sample the server with py-spy during each load (py-spy on PATH or --py-spy); "
                         "collapsed stacks to bench/out/, the busiest functions printed")
    ap.add_argument("--py-spy", default="py-spy", help="the py-spy executable")
    a = ap.parse_args()

    sys.path.insert(0, str(HERE))
    from build_serve_store import sample_path

    side = sample_path(a.db, a.sample)
    if not side.is_file():
        raise SystemExit(f"error: no sidecar {side}: build the store with bench/build_serve_store.py "
                         "(or pass --sample)")
    sample = json.loads(side.read_text())
    urls = scenario_urls(sample)
    wanted = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in urls]
    if unknown:
        raise SystemExit(f"error: unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    conns = [int(x) for x in str(a.connections).split(",")]
    if a.server_cmd is None and not (REPO / "src" / "newsdesk" / "server.py").is_file():
        try:
            import newsdesk.server  # noqa: F401
        except ImportError:
            raise SystemExit("error: newsdesk.server is not there yet ('newsdesk serve'); pass --server-cmd "
                             "to benchmark another server with the same routes") from None
    wrk = shutil.which("wrk")
    if a.loadgen == "wrk" and not wrk:
        raise SystemExit("error: wrk not found (apt-get install -y wrk)")
    loadgen = "wrk" if (a.loadgen in ("auto", "wrk") and wrk) else "httpx"
    if loadgen == "wrk":
        v = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        loadgen_desc = f"wrk {(v.stdout + v.stderr).split()[1]} ({a.threads} thread)"
    else:
        import httpx

        loadgen_desc = f"asyncio + httpx {httpx.__version__}"
        if a.loadgen == "auto":
            print("note: wrk not found (apt-get install -y wrk); using the asyncio + httpx generator",
                  file=sys.stderr)

    if a.profile and not shutil.which(a.py_spy):
        raise SystemExit(f"error: --profile needs py-spy ({a.py_spy} not found; pip install py-spy)")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    store_name = Path(a.db).stem if "://" not in a.db else side.name.removesuffix(".sample.json")
    port = free_port()
    cmd = server_command(a.db, "127.0.0.1", port, a.server_cmd)
    log_path = OUT / f"serve_server_{stamp}.log"
    base = f"http://127.0.0.1:{port}"
    print(f"store: {a.db} ({sample['articles']:,} articles, {sample['stories']:,} stories)")
    print(f"server: {shlex.join(cmd)}  (log {log_path.relative_to(REPO)})")
    print(f"load generator: {loadgen_desc}; {a.duration:g} s per scenario; connections {a.connections}")
    proc, startup = start_server(cmd, log_path, port, a.startup_timeout)
    results: list[dict] = []
    try:
        idle_rss = rss_mb(proc.pid)
        print(f"server accepting connections after {startup:.1f} s; RSS {idle_rss:.0f} MiB")
        for name in wanted:
            for c in conns:
                with Sampler(proc.pid) as pre_s:
                    pre = preflight(base, urls[name], a.timeout)
                print(f"{name} x{c}: preflight {pre['urls']} URL(s), median {pre['median_ms']} ms, "
                      f"max {pre['max_ms']} ms, {pre['errors']} error(s)"
                      + (f", account states {pre['account_states']}" if pre["account_states"] else ""),
                      flush=True)
                for b in pre["bad"]:
                    print(f"  {b['status']} {b['url']}: {b['body'][:120]!r}")
                quiet = wait_quiet(proc.pid, a.wait_quiet) if a.wait_quiet else None
                spy = None
                if a.profile:
                    raw = OUT / f"serve_profile_{stamp}_{name}_x{c}.txt"
                    spy = subprocess.Popen([a.py_spy, "record", "-f", "raw", "-F", "-r", "200",
                                            "-o", str(raw), "-d", str(max(1, round(a.duration))),
                                            "-p", str(proc.pid), "--nonblocking"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                cpu0 = cpu_seconds(proc.pid)
                busy0 = machine_busy_seconds()
                kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                own0 = resource.getrusage(resource.RUSAGE_SELF)
                with Sampler(proc.pid) as s:
                    if loadgen == "wrk":
                        r = run_wrk(base, urls[name], a.duration, c, a.threads, a.timeout)
                    else:
                        r = run_httpx(base, urls[name], a.duration, c, a.timeout)
                cpu = cpu_seconds(proc.pid) - cpu0
                busy = machine_busy_seconds() - busy0
                kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                own1 = resource.getrusage(resource.RUSAGE_SELF)
                # the load generator's CPU: wrk (a reaped child), or this process for httpx
                a0, a1 = (kids0, kids1) if loadgen == "wrk" else (own0, own1)
                gen = a1.ru_utime + a1.ru_stime - a0.ru_utime - a0.ru_stime
                mine = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
                # CPU that neither the server nor the load generator (nor this script) used:
                # other work on the machine, which the figures then undercount the server by.
                others = max(0.0, busy - cpu - gen - (mine if loadgen == "wrk" else 0.0))
                profile = None
                if spy is not None:
                    spy.wait()
                    if raw.is_file():
                        profile = {"file": str(raw.relative_to(REPO)),
                                   "top": [(f, round(x, 3)) for f, x in spy_summary(raw)]}
                row = {"scenario": name, "connections": c, "urls": len(urls[name]), **r,
                       "profile": profile, "quiet_share_before": quiet,
                       "server_cpu_seconds": round(cpu, 2), "loadgen_cpu_seconds": round(gen, 2),
                       "other_cpu_seconds": round(others, 2),
                       "server_cpu_ms_per_request": cpu * 1000 / r["requests"] if r["requests"] else None,
                       "rss_peak_mb": max(s.peak, pre_s.peak), "rss_end_mb": rss_mb(proc.pid),
                       "preflight": pre}
                results.append(row)
                print(f"  {r['requests']} requests, {r['rps']:.1f} req/s, p50 {r['p50_ms']:.1f} ms, "
                      f"p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['errors']} error(s); "
                      f"server CPU {row['server_cpu_ms_per_request'] or 0:.1f} ms/request, "
                      f"RSS peak {row['rss_peak_mb']:.0f} MiB; load generator CPU {gen:.1f} s, "
                      f"other processes {others:.1f} s", flush=True)
                if profile:
                    print("  busiest functions (share of samples, inclusive):")
                    for f, x in profile["top"]:
                        print(f"    {x:6.1%}  {f[:150]}")
                if others > 0.1 * r["seconds"]:
                    print(f"  warning: other processes used {others:.1f} CPU s during these "
                          f"{r['seconds']:.0f} s: the machine was not quiet", flush=True)
        final_rss = rss_mb(proc.pid)
    finally:
        stop_server(proc)
    print()
    print(table(results))
    report = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "store": {"db": sample.get("db"), "dialect": sample.get("dialect"), "articles": sample["articles"],
                  "stories": sample["stories"], "built": sample.get("built")},
        "server": {"command": cmd if a.server_cmd else ["newsdesk", "--db", "DB", "serve", "--host",
                                                         "127.0.0.1", "--port", "PORT"],
                   "startup_seconds": round(startup, 2), "rss_idle_mb": round(idle_rss, 1),
                   "rss_final_mb": round(final_rss, 1)},
        "loadgen": loadgen_desc, "duration": a.duration, "results": results,
    }
    out = Path(a.out) if a.out else OUT / f"serve_{store_name}_{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
