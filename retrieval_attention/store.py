"""The key-value store and its three retrievals: hard lookup, top-k search, soft attention.

All three return the same :class:`RetrievalResult` over the same corpus, so they can be compared
as three weightings of one set of keys:

* hard lookup (a Python dict): one-hot weights on an exact hit, all zeros on a miss;
* top-k search (FAISS): softmax over the k nearest keys, zero elsewhere;
* soft attention: ``softmax(q·Kᵀ · scale / T)`` over every key.

The output is always ``weights @ V``: a blend of the values.

What a value vector holds, and how an output is read back, is :mod:`retrieval_attention.values`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.attention import effective_num_keys, entropy, softmax
from retrieval_attention.core.topk import topk_order
from retrieval_attention.core.validate import (
    Scale,
    check_k,
    check_query,
    check_temperature,
    effective_factor,
    scale_factor,
)
from retrieval_attention.corpus import Corpus, normalize_key
from retrieval_attention.encoders.base import Encoder, Progress
from retrieval_attention.encoders.cache import embed_documents, embed_queries
from retrieval_attention.encoders.registry import encoder_ready, get_encoder
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.index import VectorIndex
from retrieval_attention.temperature import EncoderTemperature, encoder_temperature
from retrieval_attention.values import ValueLayout, ValueSummary, build_values, describe_output

__all__ = [
    "KeyValueStore",
    "RetrievalResult",
    "Scale",
    "ValueLayout",
    "ValueSummary",
]

Mode = Literal["hard", "topk", "soft"]
_QUERY_CACHE_SIZE = 256  # query vectors a store remembers


@dataclass(frozen=True)
class RetrievalResult:
    """One retrieval's answer, in the same form for all three modes."""

    mode: Mode  # "hard", "topk" or "soft"
    query: str  # the query as given
    ids: tuple[str, ...]  # record ids, best first (hard: 0 or 1, topk: k, soft: all n)
    positions: NDArray[np.int64]  # their positions in the corpus, same order
    scores: NDArray[np.float32]  # their raw scores q·k (cosine); 1.0 for a hard hit
    weights: NDArray[np.float32]  # (n,) weight of every key in corpus order; sums to 1 (0 on a miss)
    output: NDArray[np.float32]  # (dv,) weights @ V
    temperature: float | None = None  # T used (topk, soft)
    scale: float = 1.0  # multiplier of q·k before dividing by T
    lookup_key: str | None = None  # hard: the normalised key the dict tried
    all_scores: NDArray[np.float32] | None = field(default=None, compare=False)  # (n,) q·k of every key,
    # corpus order: what every view draws from; None for a hard lookup on its own (a dict embeds nothing)

    @property
    def hit(self) -> bool:
        """False only for a hard-lookup miss."""
        return bool(self.weights.sum() > 0)

    @property
    def entropy(self) -> float:
        """Entropy of the weights in nats (0 for one-hot)."""
        return float(entropy(self.weights))

    @property
    def effective_num_keys(self) -> float:
        """1 / Σ w²: 1 for one-hot, n for uniform, 0 for a miss."""
        return float(effective_num_keys(self.weights))

    def top(self, m: int) -> list[tuple[str, float, float]]:
        """The first m (id, score, weight) triples."""
        return [
            (vid, float(s), float(self.weights[p]))
            for vid, s, p in zip(self.ids[:m], self.scores[:m], self.positions[:m])
        ]


class KeyValueStore:
    """A corpus as keys K (n, d) and values V (n, dv), searchable three ways.

    Build it with :meth:`from_corpus`. Keys are the title embeddings; values are described in the
    module docstring.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> store.hard_lookup("learn python in one hour").hit
        True
        >>> store.soft_attention("funny cat videos", temperature=0.05).weights.sum().round(4)
        np.float32(1.0)
    """

    def __init__(
        self,
        corpus: Corpus,
        encoder: Encoder,
        K: NDArray[np.float32],
        value_embeddings: NDArray[np.float32],
    ) -> None:
        n = len(corpus)
        if K.shape != (n, encoder.dim) or value_embeddings.shape != (n, encoder.dim):
            raise InvalidParameterError(
                f"keys {K.shape} and value embeddings {value_embeddings.shape} must both be {(n, encoder.dim)}"
            )
        self.corpus = corpus
        self.encoder = encoder
        self.K = np.ascontiguousarray(K, dtype=np.float32)  # (n, d)
        self.value_embeddings = np.ascontiguousarray(value_embeddings, dtype=np.float32)  # (n, d)
        self.layout = ValueLayout(categories=tuple(corpus.categories), dim=encoder.dim)
        self.V = build_values(corpus, self.layout, self.value_embeddings)  # (n, dv)
        self.index = VectorIndex(self.K)
        self._ids = np.array([v.id for v in corpus.videos], dtype=object)  # (n,) ids for fancy indexing
        self._dict: dict[str, int] = {}
        for i, v in enumerate(corpus.videos):
            self._dict.setdefault(normalize_key(v.title), i)  # a dict keeps one value per key
        self._query_cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._query_lock = threading.Lock()
        self._temperature: EncoderTemperature | None = None  # the encoder's own T, found on first use
        self.cache_dir: Path | None = None  # the embedding cache folder (None: the per-user default)

    @classmethod
    def from_corpus(
        cls,
        corpus: Corpus,
        encoder: Encoder | str | None = None,
        cache_dir: Path | None = None,
        use_cache: bool = True,
        batch_size: int = 64,
        progress: Progress | None = None,
        remember_queries: Sequence[str] = (),
    ) -> KeyValueStore:
        """Embed a corpus's keys and values (with the on-disk cache) and index the keys.

        Args:
            corpus: from :func:`load_corpus`.
            encoder: an :class:`Encoder`, a model name / path, or None for the default model.
            cache_dir: embedding cache folder (None: the per-user default).
            use_cache: False to always re-embed.
            batch_size: texts per encoder call.
            progress: ``progress(done, total)`` over keys and values together.
            remember_queries: queries to embed now through the same on-disk cache (an app's
                examples): with every cache warm the store answers them while a model given
                by ``get_encoder(..., wait=False)`` is still loading.

        Raises:
            ModelNotFoundError: the encoder cannot be loaded.
        """
        enc = encoder if isinstance(encoder, Encoder) else get_encoder(encoder)
        n = len(corpus)

        def part(offset: int) -> Progress | None:
            return None if progress is None else (lambda done, _total: progress(offset + done, 2 * n))

        K = embed_documents(enc, corpus.titles, "key", cache_dir, use_cache, batch_size, part(0))
        value_texts = [f"{v.title}. {v.description}" if v.description else v.title for v in corpus]
        Ve = embed_documents(enc, value_texts, "value", cache_dir, use_cache, batch_size, part(n))
        store = cls(corpus, enc, K, Ve)
        store.cache_dir = cache_dir  # where the spread rule (a custom model's own T) finds its vectors
        queries = [check_query(q) for q in dict.fromkeys(remember_queries)]
        if queries:
            for q, vec in zip(queries, embed_queries(enc, queries, cache_dir, use_cache)):
                store._remember(q, vec)
        return store

    def describe_output(self, output: NDArray[np.floating], nearest: int = 3) -> ValueSummary:
        """Read an output vector (a blend of values) back into category mix, payload and videos.

        See :func:`retrieval_attention.values.describe_output`.
        """
        return describe_output(output, self.layout, self.value_embeddings, self.corpus, nearest)

    # -- queries --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.corpus)

    @property
    def dim(self) -> int:
        return self.encoder.dim

    @property
    def temperature_info(self) -> EncoderTemperature:
        """The encoder's own temperatures and why (:func:`~retrieval_attention.temperature.encoder_temperature`).

        Known models answer at once; another model is measured once (the spread rule) on first use.
        """
        if self._temperature is None:
            self._temperature = encoder_temperature(self.encoder, self.cache_dir)
        return self._temperature

    @property
    def default_temperature(self) -> float:
        """The T every retrieval uses when none is given: the encoder's own."""
        return self.temperature_info.temperature

    def embed_query(self, query: str) -> NDArray[np.float32]:
        """The query's unit vector q (d,); the last 256 queries are remembered."""
        check_query(query)
        with self._query_lock:
            q = self._query_cache.get(query)
            if q is not None:
                self._query_cache.move_to_end(query)
                return q
        q = self.encoder.encode_queries([query])[0]
        self._remember(query, q)
        return q

    def _remember(self, query: str, q: NDArray[np.float32]) -> None:
        with self._query_lock:  # sessions share a store: one thread edits the cache at a time
            self._query_cache[query] = q
            self._query_cache.move_to_end(query)
            while len(self._query_cache) > _QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)

    def query_ready(self, query: str) -> bool:
        """True if :meth:`embed_query` answers ``query`` at once: it is remembered, or the model is in.

        False while the model is still loading in the background, and after its load failed.
        """
        with self._query_lock:
            if query in self._query_cache:
                return True
        return encoder_ready(self.encoder) and getattr(self.encoder, "load_error", None) is None

    def scores(self, query: str | NDArray[np.floating]) -> NDArray[np.float32]:
        """Raw scores q·k (cosine similarity) of every key, shape (n,)."""
        q = self.embed_query(query) if isinstance(query, str) else np.asarray(query, dtype=np.float32)
        return self.K @ q

    def hard_lookup(self, query: str) -> RetrievalResult:
        """A Python dict: the record whose normalised title equals the normalised query, else nothing.

        Normalisation is Unicode NFKC, case folding and collapsed whitespace, nothing more.
        """
        check_query(query)
        key = normalize_key(query)
        n, dv = len(self), self.V.shape[1]
        w = np.zeros(n, dtype=np.float32)
        pos = self._dict.get(key)
        if pos is None:
            empty = np.zeros(0, dtype=np.int64)
            return RetrievalResult(
                "hard", query, (), empty, np.zeros(0, np.float32), w, np.zeros(dv, np.float32), lookup_key=key
            )
        w[pos] = 1.0
        return RetrievalResult(
            "hard",
            query,
            (self.corpus.videos[pos].id,),
            np.array([pos], dtype=np.int64),
            np.ones(1, dtype=np.float32),
            w,
            self.V[pos].copy(),
            lookup_key=key,
        )

    def topk_search(
        self,
        query: str,
        k: int = 5,
        temperature: float | None = None,
        scale: Scale | float = "none",
    ) -> RetrievalResult:
        """The k nearest keys (FAISS), weighted by a softmax over those k only.

        Args:
            query: text.
            k: number of keys kept, >= 1 (capped at the corpus size).
            temperature: T > 0 for the softmax over the k scores; None: the encoder's own
                (:attr:`default_temperature`).
            scale: "none" (cosine) or "sqrt_d" (÷√d as in transformers) or a number.
        """
        k, (t, s, c) = check_k(k), self._settings(temperature, scale)
        q = self.embed_query(query)
        return self._topk(query, q, self.K @ q, k, t, s, c)

    def _settings(self, temperature: float | None, scale: Scale | float) -> tuple[float, float, float]:
        """(T, scale as a number, c = scale / T), checked once for every retrieval; None is the encoder's T."""
        t = check_temperature(self.default_temperature if temperature is None else temperature, np.float32)
        c = effective_factor(scale, t, d=self.dim)  # scores are cosines: |q·k| <= 1
        return t, scale_factor(scale, self.dim), c

    def _topk(
        self,
        query: str,
        q: NDArray[np.float32],
        all_scores: NDArray[np.float32],
        k: int,
        t: float,
        s: float,
        c: float,
    ) -> RetrievalResult:
        _, I = self.index.search(q[None, :], k)  # (1, k): FAISS finds the k nearest keys
        I = I[0]
        D = all_scores[I]  # (k,) their scores, from the one q·K every view draws from
        wk = softmax(D * np.float32(c))  # (k,) softmax over the kept keys only
        w = np.zeros(len(self), dtype=np.float32)
        w[I] = wk
        return RetrievalResult(
            "topk",
            query,
            tuple(self._ids[I].tolist()),
            I,
            D,
            w,
            (wk @ self.V[I]).astype(np.float32),  # (dv,)
            temperature=t,
            scale=s,
            all_scores=all_scores,
        )

    def soft_attention(
        self,
        query: str,
        temperature: float | None = None,
        scale: Scale | float = "none",
    ) -> RetrievalResult:
        """Attention over every key: ``w = softmax(q·Kᵀ · scale / T)``, output ``w @ V``.

        Args:
            query: text.
            temperature: T > 0. Near 0 this is the hard top-1; large T is average pooling.
                None: the encoder's own (:attr:`default_temperature`: 0.05 for all-MiniLM-L6-v2,
                0.01 for multilingual-e5-small).
            scale: "none" (cosine, the default), "sqrt_d" (÷√d, as transformers do: on unit
                vectors it makes the weights almost uniform) or a number.
        """
        q = self.embed_query(query)
        return self.soft_attention_from_scores(query, self.K @ q, temperature, scale)

    def soft_attention_from_scores(
        self,
        query: str,
        all_scores: NDArray[np.floating],
        temperature: float | None = None,
        scale: Scale | float = "none",
    ) -> RetrievalResult:
        """Soft attention from scores already computed (``result.all_scores``): no embedding, no q·K.

        ``w = softmax(all_scores · scale / T)``, output ``w @ V``; the same numbers as
        :meth:`soft_attention` for the same query, so a page can compare settings from one q·K.

        Args:
            query: the text the scores belong to (kept on the result).
            all_scores: (n,) raw q·k of every key in corpus order.
            temperature: T > 0; None: the encoder's own.
            scale: "none", "sqrt_d" or a number, as in :meth:`soft_attention`.
        """
        t, s, c = self._settings(temperature, scale)
        raw = np.asarray(all_scores, dtype=np.float32)
        if raw.shape != (len(self),):
            raise InvalidParameterError(f"all_scores must have shape ({len(self)},), got {raw.shape}")
        if not np.isfinite(raw).all():
            raise InvalidParameterError("all_scores must be finite numbers (q·k of every key), got NaN or infinity")
        w = softmax(raw * np.float32(c)).astype(np.float32, copy=False)  # (n,) softmax(q·k · scale / T)
        out = w @ self.V  # (dv,)
        order = topk_order(raw)  # best first; ties keep corpus order
        return RetrievalResult(
            "soft",
            query,
            tuple(self._ids[order].tolist()),
            order.astype(np.int64),
            raw[order],
            w,
            out.astype(np.float32),
            temperature=t,
            scale=s,
            all_scores=raw,
        )

    def retrieve(
        self,
        query: str,
        k: int = 5,
        temperature: float | None = None,
        scale: Scale | float = "none",
    ) -> dict[Mode, RetrievalResult]:
        """All three retrievals for one query: the query is embedded once and q·K computed once.

        Every result carries the same ``all_scores`` (n,) array, so a page draws from what comes
        back instead of asking the store again.
        """
        hard = self.hard_lookup(query)
        k, (t, s, c) = check_k(k), self._settings(temperature, scale)
        q = self.embed_query(query)
        all_scores = self.K @ q  # (n,) the one q·K of this query
        return {
            "hard": replace(hard, all_scores=all_scores),
            "topk": self._topk(query, q, all_scores, k, t, s, c),
            "soft": self.soft_attention_from_scores(query, all_scores, t, s),
        }
