"""The bundled encoder exported to ONNX (fp32) from its installed weights, at setup time: torch is needed here only.

`make export-onnx` runs `python -m rag.index.export`, which writes `models/all-MiniLM-L6-v2.onnx` and, with
`--layers rag/models/reader/encoder.safetensors --name reader-encoder`, the reader's encoder (the bundled model
with its trained layers); with `--int8`, also `models/all-MiniLM-L6-v2-int8.onnx`, the fp32 file's weights
quantized to int8 (onnxruntime's dynamic quantization, a scale per output channel; no torch needed for that step).
Beside each file, a manifest (`<name>.json`) names what it was made from; `rag.index.onnx` refuses a file whose
manifest does not match the installed model or layers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.index import onnx
from rag.ingest.files import sha256

OPSET = 17
# Per channel: the vectors' cosine to fp32's is 0.994 on average (0.988 at worst) over SciFact paragraphs,
# against 0.943 (0.890) with one scale per tensor (BENCHMARKS.md, "Build speed: int8").
PER_CHANNEL = True


def _transformer(source: Path, layers: Path | None) -> Any:
    """The model's BERT, with `layers` (a safetensors file of trained weights, any dtype) put in place."""
    from safetensors.torch import load_file
    from transformers import AutoModel

    model: Any = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    if layers is not None:
        trained = {k: v.float() for k, v in load_file(str(layers)).items()}
        missing, unexpected = model.load_state_dict(trained, strict=False)
        if unexpected or any(not k.startswith("embeddings.") for k in missing):
            raise RagError(f"the layers in {layers} do not fit the model in {source}")
    return model


def _hidden(model: Any) -> Any:
    """The transformer as a function of its three inputs to its last hidden state, the one output exported."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    return Hidden().eval()


def export(out: Path, source: Path, layers: Path | None = None) -> Path:
    """Write `out` (an ONNX file, fp32) and its manifest from the model folder `source` (and trained `layers`)."""
    import onnxruntime
    import torch

    transformer = _transformer(source, layers)
    model = _hidden(transformer)
    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}")  # two setups at once: each writes its own, the last wins
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, ids, torch.zeros_like(ids)), str(partial), input_names=list(onnx.INPUTS),
            output_names=["last_hidden_state"], dynamic_axes={**{n: axes for n in onnx.INPUTS}, "last_hidden_state": axes},
            opset_version=OPSET, dynamo=False, do_constant_folding=True,
        )
    manifest = {
        "source": str(source), "layers": str(layers.resolve()) if layers else None,
        **onnx.provenance(source, layers), "format": onnx.FORMAT, "opset": OPSET, "precision": "fp32", "dim": int(transformer.config.hidden_size),
        "source_sha256": sha256(source / "model.safetensors"), "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
    }
    os.replace(partial, out)
    onnx.manifest_path(out).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return out


@contextmanager
def _quiet_root() -> Iterator[None]:
    """The root logger silent and left as it was: the quantizer logs its advice (pre-process first; measured
    without) through `logging.warning`, which would otherwise configure the root logger of the process."""
    root, handler = logging.getLogger(), logging.NullHandler()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
        root.removeHandler(handler)


def quantize(fp32: Path, out: Path) -> Path:
    """Write `out`, the ONNX file `fp32` with its weights dynamically quantized to int8, and its manifest."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    made = json.loads(onnx.manifest_path(fp32).read_text(encoding="utf-8"))
    partial = out.with_name(f".{out.stem}.{os.getpid()}.onnx")
    with _quiet_root():
        quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=PER_CHANNEL)
    manifest = {**made, "precision": "int8", "quantization": {"method": "dynamic", "weights": "QInt8", "per_channel": PER_CHANNEL},
                "fp32_sha256": sha256(fp32)}
    os.replace(partial, out)
    onnx.manifest_path(out).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    from rag.index import embed

    parser = argparse.ArgumentParser(prog="python -m rag.index.export", description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=onnx.BUNDLED, help="file name in models/, without .onnx")
    parser.add_argument("--layers", type=Path, help="trained layers (safetensors) to put into the bundled model")
    parser.add_argument("--models", type=Path, default=onnx.MODELS, help="folder to write into")
    parser.add_argument("--int8", action="store_true", help="also write <name>-int8.onnx, its weights quantized to int8")
    args = parser.parse_args(argv)
    out = args.models / f"{args.name}.onnx"
    source = embed.bundled_model_path()
    if onnx.current(out, source, args.layers):
        print(f"{out} is up to date")
    else:
        export(out, source, args.layers)
        print(f"exported {out} ({out.stat().st_size / 2**20:.0f} MB)")
    int8 = args.models / f"{onnx.named(args.name, 'int8')}.onnx"
    if args.int8 and onnx.current(int8, source, args.layers, "int8"):
        print(f"{int8} is up to date")
    elif args.int8:
        quantize(out, int8)
        print(f"quantized {int8} ({int8.stat().st_size / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()
