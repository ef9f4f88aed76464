"""`--since`, `--until` and `--source` on rag search, ask and check."""

from __future__ import annotations

import json

from rag.config import Settings
from tests.test_cli import _rag

Q = "Which countries sent units to the CSTO force in Kazakhstan?"


def test_search_keeps_to_the_sources_given(settings: Settings) -> None:
    r = _rag(settings, "search", "--json", "-k", "4", "--source", "003_*", "--source", "004_*", Q)
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)["hits"]
    assert len(hits) == 4 and all(h["source"][:3] in ("003", "004") for h in hits)


def test_ask_with_a_filter_that_keeps_nothing_says_so(settings: Settings) -> None:
    r = _rag(settings, "ask", "--source", "nothing-*", Q)
    assert r.returncode == 2 and "error: no document matches the filters: sources nothing-*" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_with_a_bad_date_is_an_input_error(settings: Settings) -> None:
    r = _rag(settings, "check", "--since", "2022-02-30", "Kazakhstan borders Russia.")
    assert r.returncode == 2 and "since" not in r.stdout and "date_from must be a date as YYYY-MM-DD" in r.stderr


def test_chat_keeps_every_turn_to_the_sources(settings: Settings) -> None:
    r = _rag(settings, "chat", "--source", "003_*", "--source", "004_*", stdin=f"{Q}\n:sources\n:quit\n")
    assert r.returncode == 0, r.stderr
    cited = [line.split()[1] for line in r.stdout.splitlines() if line.strip().startswith("[") and "#p" in line]
    assert cited and all(c[:3] in ("003", "004") for c in cited)
    nothing = _rag(settings, "chat", "--source", "nothing-*", stdin=f"{Q}\n")
    assert nothing.returncode == 2 and "no document matches the filters" in nothing.stderr and not nothing.stdout.strip()
