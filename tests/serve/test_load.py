"""The short variant of the load run (bench/load.py): 50 clients against a real `rag serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.config import ROOT, Settings


@pytest.mark.slow
def test_fifty_clients_get_no_errors_and_memory_stays_flat(settings: Settings) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir)}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--clients", "50", "--seconds", "5", "--json"],
                          env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for name, r in results.items():
        assert r["requests"] > 50 and r["errors"] == 0, (name, r)
        assert r["rss_end_mb"] - r["rss_start_mb"] < 100, (name, r)  # warm server: no growth worth the name
