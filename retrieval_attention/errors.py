"""The project's error classes: one family, so callers can catch exactly what we raise.

Every error a user can cause (a bad query, a bad corpus file, a bad parameter, a missing model)
is a subclass of :class:`RetrievalAttentionError`, and each message says what was wrong and
what to do about it in one line.
"""

from __future__ import annotations

__all__ = [
    "CorpusError",
    "InvalidParameterError",
    "ModelNotFoundError",
    "QueryError",
    "RetrievalAttentionError",
    "UnknownTokenError",
]


class RetrievalAttentionError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidParameterError(RetrievalAttentionError, ValueError):
    """A numeric parameter is out of range: temperature <= 0 or NaN, k < 1, ..."""


class QueryError(RetrievalAttentionError, ValueError):
    """The query text cannot be used: empty, whitespace only, ..."""


class UnknownTokenError(QueryError):
    """The model's tokenizer maps part of the text to [UNK]: the model cannot read those characters."""


class CorpusError(RetrievalAttentionError, ValueError):
    """A corpus or history file cannot be read: empty, missing column, duplicate ids, encoding, ..."""


class ModelNotFoundError(RetrievalAttentionError, LookupError):
    """The requested embedding model is not installed or cannot be loaded offline."""
