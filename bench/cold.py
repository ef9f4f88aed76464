"""Cold starts: each command timed as a whole process, several times, with its peak memory.

    python bench/cold.py [--runs 5] [--only ask,search,serve,eval] [--eval-split holdout] [--json]

Commands, on the seed corpus and its index (built first, not timed): `rag ask "What is the CSTO?"`,
`rag search "What is the CSTO?"`, `rag serve` until GET /health answers, and `rag eval` on one split (--eval-runs
times, it is long). Wall is from the start of the process to its exit (to /health answering, for serve); peak RSS
is the process's maximum resident set, from wait4. --python and --cwd time another checkout, e.g. one before a change:
`git worktree add /tmp/before HEAD~1; python bench/cold.py --cwd /tmp/before` (RAG_INDEX_DIR and RAG_CORPUS_DIR
point at this checkout's, so both read the same index).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What is the CSTO?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """The peak RSS of a finished child, in MB."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss // 1024


def once(python: str, cwd: Path, args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of `python -m rag ARGS`; a failure stops the bench."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, "-m", "rag", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rss = _wait(proc)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # eval exits 1 when a metric is below its threshold: still a timed run
        raise SystemExit(f"rag {' '.join(args)} failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return wall, rss


def serve_once(python: str, cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds until `rag serve` answers /health, and its peak RSS (MB) by then."""
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, "-m", "rag", "serve", "--port", str(port)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = None
    while wall is None and time.perf_counter() - t0 < 120 and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                wall = time.perf_counter() - t0 if r.status == 200 else None
        except OSError:
            time.sleep(0.02)
    proc.terminate()
    rss = _wait(proc)
    if wall is None:
        raise SystemExit("rag serve never answered /health")
    return wall, rss


def summary(runs: list[tuple[float, int]]) -> dict[str, float]:
    walls = [w for w, _ in runs]
    return {"runs": len(runs), "median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "max_s": round(max(walls), 3), "peak_rss_mb": max(r for _, r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--eval-runs", type=int, default=1)
    parser.add_argument("--eval-split", default="holdout")
    parser.add_argument("--only", default="ask,search,serve,eval")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--cwd", type=Path, default=ROOT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "RAG_INDEX_DIR": str(ROOT / "index"), "RAG_CORPUS_DIR": str(ROOT / "seeds"), "RAG_LLM": "extractive",
           "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    once(args.python, args.cwd, ["index"], env)  # built (or found fresh) before anything is timed
    commands = {
        "ask": lambda: once(args.python, args.cwd, ["ask", QUESTION], env),
        "search": lambda: once(args.python, args.cwd, ["search", QUESTION], env),
        "serve": lambda: serve_once(args.python, args.cwd, env),
        "eval": lambda: once(args.python, args.cwd, ["eval", "--split", args.eval_split], env),
    }
    results = {}
    for name in args.only.split(","):
        runs = args.eval_runs if name == "eval" else args.runs
        results[name] = summary([commands[name]() for _ in range(runs)])
        if not args.json:
            r = results[name]
            print(f"{name:7} median {r['median_s']:.2f}s  min {r['min_s']:.2f}s  max {r['max_s']:.2f}s  "
                  f"peak {r['peak_rss_mb']} MB  ({r['runs']} runs)", flush=True)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
