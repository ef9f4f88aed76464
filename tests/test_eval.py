from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import ROOT, Settings
from tests.test_cli import _env

pytestmark = pytest.mark.slow  # subprocesses or a server on loopback


def test_gate_bites_when_retrieval_is_degraded(settings: Settings, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "rag", "eval", "--mode", "bm25", "-k", "1", "--json", "--out", str(tmp_path)],
                       capture_output=True, text=True, env=_env(settings), timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "gate failed: recall@1" in r.stderr or "gate failed: answer_accuracy" in r.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    assert not result["gate"]["passed"] and (tmp_path / "report.md").read_text().startswith("# Eval report")


def test_eval_runs_another_question_file(settings: Settings, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()]
    other = tmp_path / "other.jsonl"
    other.write_text("\n".join(json.dumps(r) for r in rows if r["id"] in {"s08", "s09", "u02"}) + "\n")
    r = subprocess.run([sys.executable, "-m", "rag", "eval", "--set", str(other), "--json"], capture_output=True,
                       text=True, env=_env(settings), timeout=600)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["overall"]["questions"] == 3 and result["overall"]["answer_accuracy"] == 1.0


def test_bad_question_file_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    r = subprocess.run([sys.executable, "-m", "rag", "eval", "--set", str(bad)], capture_output=True, text=True,
                       env=_env(settings), timeout=300)
    assert r.returncode == 2 and "does not fit the schema" in r.stderr


def test_each_sealed_split_stands_apart(tmp_path: Path) -> None:
    from rag.errors import InputError
    from rag.evaluate import load_set

    row = {"type": "unanswerable", "answerable": False, "answers": [], "sources": [], "evidence": []}
    splits = ["", "", "sealed", "", "sealed-2", "", "", "", "sealed-3", "sealed-4"]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps({**row, "id": f"q{i}", "question": "?", **({"split": s} if s else {})}) + "\n"
                            for i, s in enumerate(splits)))
    ids = {split: [q.id for q in load_set(path, split)] for split in ("all", "calibration", "holdout", "sealed", "sealed-2", "sealed-3", "sealed-4")}
    assert ids == {"all": ["q0", "q1", "q3", "q5", "q6", "q7"], "calibration": ["q0", "q1", "q5", "q6"],
                   "holdout": ["q3", "q7"], "sealed": ["q2"], "sealed-2": ["q4"],
                   "sealed-3": ["q8"], "sealed-4": ["q9"]}
    path.write_text(json.dumps({**row, "id": "q", "question": "?", "split": "secret"}) + "\n")
    with pytest.raises(InputError, match="split must be one of sealed, sealed-2, sealed-3, sealed-4"):
        load_set(path)
