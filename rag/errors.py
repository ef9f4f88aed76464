"""User-facing errors. Each message says what to do next.

    RagError                  anything a user can act on
    ├── CorpusError           the corpus folder or file cannot be used
    ├── IndexError_           no index, a stale, corrupt or mismatched one
    ├── IndexLockedError      another build holds the index lock
    ├── InputError            a bad question, k, history or request
    │   └── TooLarge          a request body over the limit (HTTP 413)
    ├── NotFound              no paragraph or document with that id (HTTP 404)
    ├── StoreError            the search store (Milvus) cannot be reached or failed (HTTP 502)
    └── LLMError              the OpenAI-compatible server failed
        ├── LLMTimeout        it did not answer in time (HTTP 504)
        └── LLMBadResponse    it answered with something unusable (HTTP 502)

The core raises these; only the CLI and the API turn them into exit codes and statuses.
"""

from __future__ import annotations


class RagError(Exception):
    """An error whose message a person can act on."""


class CorpusError(RagError):
    """The corpus cannot be read."""


class IndexError_(RagError):
    """The index is missing, stale, corrupt or built with another model."""


class IndexLockedError(RagError):
    """Another process is building the same index."""


class InputError(RagError):
    """The request is malformed or out of bounds."""


class TooLarge(InputError):
    """A request body is over the size limit."""


class NotFound(RagError):
    """Nothing in the index has the id asked for."""


class StoreError(RagError):
    """The search store (a Milvus server or file) cannot be used."""


class LLMError(RagError):
    """The language model server failed."""


class LLMTimeout(LLMError):
    """The language model server did not answer in time."""


class LLMBadResponse(LLMError):
    """The language model server replied with something that cannot be used."""
