"""Corpora and watch histories: the plain frozen types (records) and how files become them (load).

Only the key text (``title``) is required; every problem in a file is a :class:`CorpusError` with one
specific message, and nothing is half-loaded.
"""

from retrieval_attention.corpus.fields import SaidCorpusError
from retrieval_attention.corpus.files import MAX_CORPUS_BYTES, read_capped
from retrieval_attention.corpus.limits import MAX_ROWS, MAX_TITLE_CHARS, RowLimitError, cut_text
from retrieval_attention.corpus.load import (
    KEY_FIELDS,
    LONG_TITLE_CHARS,
    MAX_DURATION_S,
    MAX_VIEWS,
    REFUSED_SUFFIXES,
    bundled_data_path,
    corpus_from_titles,
    load_corpus,
    load_histories,
    parse_corpus,
    parse_titles,
)
from retrieval_attention.corpus.records import (
    FIELDS,
    UNCATEGORISED,
    Corpus,
    Persona,
    Video,
    normalize_key,
    printable_label,
    unencodable,
)

__all__ = [
    "FIELDS",
    "KEY_FIELDS",
    "LONG_TITLE_CHARS",
    "MAX_CORPUS_BYTES",
    "MAX_DURATION_S",
    "MAX_ROWS",
    "MAX_TITLE_CHARS",
    "MAX_VIEWS",
    "REFUSED_SUFFIXES",
    "UNCATEGORISED",
    "RowLimitError",
    "SaidCorpusError",
    "Corpus",
    "Persona",
    "Video",
    "bundled_data_path",
    "corpus_from_titles",
    "cut_text",
    "load_corpus",
    "load_histories",
    "normalize_key",
    "parse_corpus",
    "parse_titles",
    "printable_label",
    "read_capped",
    "unencodable",
]
