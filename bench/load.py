"""Bounded load run against a `rag serve` it starts on loopback: requests/s, p50/p99 and errors per
endpoint, and the server's resident memory sampled through the run (a leak shows as growth).

    python bench/load.py [--seconds 60] [--clients 50] [--json]

Questions cycle through eval/questions.jsonl. The server uses the environment's settings
(RAG_CORPUS_DIR, RAG_INDEX_DIR), with any OPENAI_* variables removed: the offline answerer.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl").read_text().splitlines() if line.strip()]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(base: str, path: str, clients: int, seconds: float, pid: int) -> dict[str, float]:
    end = time.monotonic() + seconds
    lat: list[float] = []
    errors = 0

    def worker(i: int) -> None:
        nonlocal errors
        with httpx.Client(timeout=60) as c:
            n = i
            while time.monotonic() < end:
                t = time.perf_counter()
                try:
                    ok = c.post(base + path, json={"question": QUESTIONS[n % len(QUESTIONS)], "k": 5}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                lat.append((time.perf_counter() - t) * 1000)
                errors += not ok
                n += 1

    t0 = time.monotonic()
    memory = [rss_mb(pid)]
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(worker, i) for i in range(clients)]
        while not all(f.done() for f in futures):
            time.sleep(1)
            memory.append(rss_mb(pid))
        for f in futures:
            f.result()
    wall = time.monotonic() - t0
    return {"rps": round(len(lat) / wall, 1), "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1), "requests": len(lat), "errors": errors,
            "rss_start_mb": round(memory[0], 1), "rss_end_mb": round(memory[-1], 1), "rss_max_mb": round(max(memory), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="length of each run")
    ap.add_argument("--clients", type=int, nargs="+", default=[50], help="concurrent clients, one run per value")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            sys.exit("error: rag serve did not come up; run `rag serve` by hand to see why")
        for q in QUESTIONS:  # warm-up: every question once, so caches are filled before memory is watched
            httpx.post(base + "/ask", json={"question": q}, timeout=60)
        results = {f"{path} x{c}": run(base, path, c, args.seconds, proc.pid)
                   for path in ("/ask", "/search") for c in args.clients}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if args.json:
        print(json.dumps(results))
    else:
        for name, r in results.items():
            print(f"{name:14} {r['rps']:7.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
                  f"({r['requests']} requests, {r['errors']} errors)  "
                  f"RSS {r['rss_start_mb']:.0f} -> {r['rss_end_mb']:.0f} MB (max {r['rss_max_mb']:.0f})")


if __name__ == "__main__":
    main()
