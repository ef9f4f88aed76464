"""The bundled encoder exported to ONNX (fp32) from its installed weights, at setup time: torch is needed here only.

`make export-onnx` runs `python -m rag.index.export`, which writes `models/all-MiniLM-L6-v2.onnx` and, with
`--layers rag/models/reader/encoder.safetensors --name reader-encoder`, the reader's encoder (the bundled model
with its trained layers). Beside each file, a manifest (`<name>.json`) names what it was made from; `rag.index.onnx`
refuses a file whose manifest does not match the installed model or layers.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.index import onnx
from rag.ingest.files import sha256

OPSET = 17


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


def main(argv: list[str] | None = None) -> None:
    from rag.index import embed

    parser = argparse.ArgumentParser(prog="python -m rag.index.export", description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=onnx.BUNDLED, help="file name in models/, without .onnx")
    parser.add_argument("--layers", type=Path, help="trained layers (safetensors) to put into the bundled model")
    parser.add_argument("--models", type=Path, default=onnx.MODELS, help="folder to write into")
    args = parser.parse_args(argv)
    out = args.models / f"{args.name}.onnx"
    source = embed.bundled_model_path()
    if onnx.current(out, source, args.layers):
        print(f"{out} is up to date")
        return
    export(out, source, args.layers)
    print(f"exported {out} ({out.stat().st_size / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()
