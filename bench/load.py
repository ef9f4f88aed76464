"""Bounded load run against a `rag serve` it starts on loopback: requests/s and p50/p99 per endpoint.

    python bench/load.py [--seconds 10] [--clients 1 16] [--json]
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

import httpx
import numpy as np

QUESTIONS = ["What share of Kazakhstan's population is the Russian minority?",
             "Units from which countries were in the CSTO force?",
             "How many Russians have crossed the border since the mobilization?",
             "Who won the 2022 FIFA World Cup?"]


def run(base: str, path: str, clients: int, seconds: float) -> dict[str, float]:
    end = time.monotonic() + seconds
    lat: list[float] = []
    errors = 0

    def worker(i: int) -> None:
        nonlocal errors
        with httpx.Client(timeout=60) as c:
            n = i
            while time.monotonic() < end:
                t = time.perf_counter()
                r = c.post(base + path, json={"question": QUESTIONS[n % len(QUESTIONS)], "k": 5})
                lat.append((time.perf_counter() - t) * 1000)
                errors += r.status_code != 200
                n += 1

    t0 = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.monotonic() - t0
    return {"rps": round(len(lat) / wall, 1), "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1), "requests": len(lat), "errors": errors}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        results = {f"{path} x{c}": run(base, path, c, args.seconds) for path in ("/ask", "/search") for c in args.clients}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if args.json:
        print(json.dumps(results))
    else:
        for name, r in results.items():
            print(f"{name:14} {r['rps']:7.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
                  f"({r['requests']} requests, {r['errors']} errors)")


if __name__ == "__main__":
    main()
