"""A Milvus collection as the store: Milvus Lite (a local file) here, a Milvus server or cluster by URI in production.

One collection holds a paragraph per row: its key (primary), its words (analysed, with Milvus's own
BM25 function into a sparse field), its dense vector. The words are our stems (`text.stems`, the
tokens bm25s gets), because Milvus Lite's analyser neither stems nor drops stop words (its
`analyzer_params` filters are ignored); a Milvus server could take the plain text with a stemming
analyser instead. BENCHMARKS.md has SciFact both ways. Dense, lexical and fused search all run in
Milvus (`hybrid_search` with `RRFRanker(60)`); no second index is kept beside it. Every call has a
timeout, and a Milvus that cannot be reached becomes a StoreError with the URI, never a hang.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from rag import text as T
from rag.errors import StoreError

RRF_K = 60
TIMEOUT = 10.0  # seconds for any one call
WRITE_TIMEOUT = 120.0  # seconds for one batch of writes (Milvus Lite slows while it compacts a large collection)
SEAL_TIMEOUT = 300.0  # seconds for sealing what a build wrote (100k rows take 3 s on Milvus Lite)
MAX_TEXT = 8192  # characters of text a row may hold (paragraphs are under 1,000 characters plus a title)
BATCH = 1000


class Milvus:
    """The store in a Milvus collection; `rows` maps the keys of the build that opened it to its row numbers."""

    name = "milvus"
    server_fusion = True

    def __init__(self, uri: str, collection: str, dim: int, keys: list[str] | None = None, token: str = "") -> None:
        try:
            from pymilvus import MilvusClient

            for noisy in ("pymilvus", "pymilvus.milvus_client", "grpc._server"):  # set after pymilvus configures them
                logging.getLogger(noisy).setLevel(logging.CRITICAL)  # they repeat what StoreError says

            self.client = MilvusClient(uri=uri, token=token or "", timeout=TIMEOUT)
            if not self.client.has_collection(collection, timeout=TIMEOUT):
                self._create(collection, dim)
            self.client.load_collection(collection, timeout=TIMEOUT)
        except ImportError as e:
            raise StoreError("pymilvus is not installed: run `make setup` again") from e
        except Exception as e:  # pymilvus raises its own kinds for an unreachable or refusing server
            raise StoreError(f"Milvus at {uri} cannot be used ({type(e).__name__}: {_short(e)}): check RAG_MILVUS_URI") from e
        self.uri, self.collection, self.dim = uri, collection, dim
        self.rows = {k: i for i, k in enumerate(keys or [])}
        self.order = list(keys or [])  # row -> key

    def _create(self, collection: str, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                     output_field_names=["sparse"]))
        params = self.client.prepare_index_params()
        params.add_index("dense", index_type="FLAT", metric_type="IP")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(collection, schema=schema, index_params=params, timeout=TIMEOUT)

    def add(self, keys: list[str], texts: list[str], vectors: np.ndarray) -> None:
        for at in range(0, len(keys), BATCH):
            rows = [{"key": k, "text": words(t)[:MAX_TEXT], "dense": v.astype(float).tolist()}
                    for k, t, v in zip(keys[at : at + BATCH], texts[at : at + BATCH], vectors[at : at + BATCH])]
            self._call(self.client.upsert, self.collection, rows, timeout=WRITE_TIMEOUT)

    def delete(self, keys: list[str]) -> None:
        for at in range(0, len(keys), BATCH):
            self._call(self.client.delete, self.collection, ids=keys[at : at + BATCH], timeout=WRITE_TIMEOUT)

    def seal(self) -> None:
        """Flush what was written, so that searches use the sealed segments' indexes instead of scanning rows.

        Unsealed rows are searched by brute force: on Milvus Lite at 100k rows, sealing makes a dense search
        about 10 times faster (BENCHMARKS.md). Call it once after a batch of writes, not after each.
        """
        self._call(self.client.flush, self.collection, timeout=SEAL_TIMEOUT)

    def dense(self, vector: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[int]:
        found = self._call(self.client.search, self.collection, [vector.astype(float).tolist()], anns_field="dense",
                           limit=k, search_params={"metric_type": "IP"}, filter=self.where(rows))
        return self._rows(found)

    def lexical(self, question: str, k: int, rows: np.ndarray | None = None) -> list[int]:
        if not words(question):
            return []
        found = self._call(self.client.search, self.collection, [words(question)], anns_field="sparse", limit=k,
                           search_params={"metric_type": "BM25"}, filter=self.where(rows))
        return self._rows(found)

    def fused(self, vector: np.ndarray, question: str, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        from pymilvus import AnnSearchRequest, RRFRanker

        expr = self.where(rows) or None
        requests = [AnnSearchRequest([vector.astype(float).tolist()], "dense", {"metric_type": "IP"}, k, expr=expr)]
        if words(question):
            requests.append(AnnSearchRequest([words(question)], "sparse", {"metric_type": "BM25"}, k, expr=expr))
        found = self._call(self.client.hybrid_search, self.collection, requests, RRFRanker(RRF_K), limit=k)
        return [(self.rows[h["key"]], float(h["distance"])) for h in found[0] if h["key"] in self.rows]

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        found = self._call(self.client.get, self.collection, ids=keys, output_fields=["dense"])
        return {r["key"]: np.asarray(r["dense"], dtype=np.float32) for r in found}

    def keys(self) -> set[str]:
        out: set[str] = set()
        iterator = self._call(self.client.query_iterator, self.collection, batch_size=BATCH, output_fields=["key"])
        while batch := iterator.next():
            out.update(r["key"] for r in batch)
        iterator.close()
        return out

    def count(self) -> int:
        stats = self._call(self.client.get_collection_stats, self.collection)
        return int(stats.get("row_count", 0))

    def where(self, rows: np.ndarray | None) -> str:
        """A filter expression keeping only `rows` ("" keeps all): their keys listed, which suits thousands of
        rows, not millions (a collection with source and date fields would filter those instead)."""
        if rows is None:
            return ""
        return "key in [" + ", ".join(f'"{self.order[int(i)]}"' for i in rows) + "]"

    def _rows(self, found: Any) -> list[int]:
        """Row numbers of the hits the opening build knows (rows added since by another build are skipped)."""
        return [self.rows[h["key"]] for h in found[0] if h["key"] in self.rows]

    def _call(self, method: Any, *args: Any, timeout: float = TIMEOUT, **kwargs: Any) -> Any:
        try:
            return method(*args, timeout=timeout, **kwargs)
        except Exception as e:  # pymilvus's errors have no common base worth naming here
            raise StoreError(f"Milvus at {self.uri} failed ({type(e).__name__}: {_short(e)}): check that it is running") from e


def words(text: str) -> str:
    """What Milvus's BM25 indexes and is asked with: our stems, space-separated (stop words dropped).

    >>> words("The ferries were running.")
    'ferri run'
    """
    return " ".join(T.stems(text))


def _short(e: Exception) -> str:
    text = str(e).replace("\n", " ")
    return text if len(text) < 200 else text[:200] + "…"


def sync(kept: dict[str, Any], keys: list[str], texts: list[str], vectors: np.ndarray, token: str = "") -> None:
    """Make the collection hold exactly these paragraphs: upsert the keys it lacks, delete the keys now gone."""
    collection = Milvus(kept["uri"], kept["collection"], vectors.shape[1], token=token)
    present = collection.keys()
    first = {k: i for i, k in reversed(list(enumerate(keys)))}  # one row per key, the first
    new = [i for k, i in first.items() if k not in present]
    gone = sorted(present - set(keys))
    collection.add([keys[i] for i in new], [texts[i] for i in new], vectors[new])
    collection.delete(gone)
    if new or gone:
        collection.seal()
