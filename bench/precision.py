"""Cold builds with the fp32 and the int8 embedder, back to back: paragraphs/s of wall and of CPU time.

    python bench/precision.py [CORPUS ...] [--order int8 fp32 int8] [--json]

Each corpus (default: the seeds and ../shared/benchmarks/scifact-beir) is built from nothing into a temporary
folder once per entry of --order (the default repeats the shorter int8 build, so that contention from other
work on the machine shows as a spread); the load average is recorded at each start. Quality is measured apart:
`RAG_EMBED_PRECISION=int8 python bench/beir.py ../shared/benchmarks/scifact-beir` and `rag eval`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from common import ROOT, table

from rag import index
from rag.index import embed, onnx

DEFAULT = [ROOT / "seeds", ROOT.parent / "shared" / "benchmarks" / "scifact-beir"]


def cold(corpus: Path, precision: str) -> dict[str, object]:
    """One build of `corpus` into an empty folder, timed as wall and as this process's CPU seconds."""
    embedder = embed.load("", precision)
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        report = index.build(corpus, Path(folder), embedder)
        wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {
        "corpus": corpus.name, "precision": precision, "paragraphs": report.paragraphs, "wall_s": round(wall, 1),
        "paragraphs/s": round(report.paragraphs / wall, 1), "cpu_s": round(cpu, 1),
        "paragraphs/cpu_s": round(report.paragraphs / cpu, 1), "load_at_start": round(load, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpora", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--order", nargs="+", default=["int8", "fp32", "int8"], choices=list(onnx.PRECISIONS))
    ap.add_argument("--json", action="store_true", help="one JSON line per build instead of a table")
    a = ap.parse_args()
    rows = []
    for corpus in a.corpora:
        for precision in a.order:
            rows.append(cold(corpus, precision))
            if a.json:
                print(json.dumps(rows[-1]), flush=True)
    if not a.json:
        print(table(rows, list(rows[0])) if rows else "")


if __name__ == "__main__":
    main()
