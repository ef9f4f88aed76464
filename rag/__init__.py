"""Question answering over a news corpus, where every sentence cites the paragraph it came from."""

from __future__ import annotations

__version__ = "0.1.0"
