"""The index: the embedder, the store Protocol with its faiss and milvus stores, builds, and the lifecycle.

    embed      the bundled sentence embedder and its cache
    store/     what retrieval needs from an index, as one Protocol: faiss (in the process) and milvus
    builds     a build folder written, locked and made live
    lifecycle  the index opened, updated (only changed paragraphs embedded), loaded and swapped

The lifecycle's functions are this package's own: `index.open(...)`, `index.build(...)`, `index.load(...)`.
"""

from rag.index.lifecycle import (
    CLEANING,
    FORMAT,
    BuildReport,
    Index,
    Listing,
    Where,
    build,
    list_corpus,
    load,
    open,
    status,
)

__all__ = ["CLEANING", "FORMAT", "BuildReport", "Index", "Listing", "Where", "build", "list_corpus", "load", "open", "status"]
