"""Inside a real transformer: the attention of all-MiniLM-L6-v2, recomputed by our numpy code.

The default encoder is a BERT model (6 layers, 12 heads of 32 dims, d_model = 384). This module
reads its weights and the hidden states entering a layer, then recomputes that layer's attention
with our own :func:`~retrieval_attention.core.attention.scaled_dot_product_attention`, head by head:

    x (T, d)                        hidden states entering the layer (T tokens incl. [CLS], [SEP])
    q, K, V = x W_Q + b_Q, ...      (T, d) each, split into heads -> (h, T, hd)
    w = softmax(q Kᵀ / sqrt(hd))    (h, T, T)   what the model returns with output_attentions=True
    heads = w V                     (h, T, hd)
    concat (T, d) -> concat W_O + b_O -> LayerNorm(x + ·)   the rest of the attention sub-layer

and checks the result against the model's own numbers. Variants reuse the same projections:
a causal mask (what a decoder would allow), cross-attention (queries from sentence A, keys and
values from sentence B) and the K·Kᵀ vs Q·Kᵀ asymmetry lesson.

This is the only module that touches torch and transformers, and it imports them lazily inside
:func:`load_inspector`, so importing it is instant. Every sentence is tokenised on its own by the
model's tokenizer (no padding, so no padding mask is needed) and every result includes the
[CLS] and [SEP] tokens exactly as the model sees them. All arrays out are float32 numpy arrays,
read-only because results are cached and shared.

"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.core.attention import scaled_dot_product_attention
from retrieval_attention.core.validate import check_index
from retrieval_attention.encoders.base import apply_offline_policy, resolve_model_path
from retrieval_attention.errors import ModelNotFoundError, QueryError
from retrieval_attention.inspector.results import (
    F32,
    LayerAttention,
    LayerProjections,
    ModelCheck,
    Relevance,
    _frozen,
    _layer_norm,
    _Run,
    _split_heads,
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
    """A loaded BERT-style encoder whose attention we read and recompute. Use :func:`load_inspector`.

    Results are cached per (sentence, layer, variant) on the instance, so a UI can call the methods
    repeatedly; the model runs once per sentence. Methods are safe to call from several threads.
    """

    def __init__(self, model: Any, tokenizer: Any, path: str) -> None:
        """Wrap an already loaded HF ``BertModel`` (eval mode, eager attention) and its tokenizer."""
        self.model = model
        self.tokenizer = tokenizer
        self.path = path
        cfg = model.config
        self.n_layers: int = int(cfg.num_hidden_layers)
        self.n_heads: int = int(cfg.num_attention_heads)
        self.d_model: int = int(cfg.hidden_size)
        self.head_dim: int = self.d_model // self.n_heads
        self.max_length: int = int(min(getattr(tokenizer, "model_max_length", 512), cfg.max_position_embeddings))
        self._lock = threading.Lock()
        self._run_cached = functools.lru_cache(maxsize=256)(self._run_uncached)
        self._projections_cached = functools.lru_cache(maxsize=None)(self._projections_uncached)
        self._attention = functools.lru_cache(maxsize=512)(self._attention_uncached)

    # -- reading the model

    def _check_layer(self, layer: int, upto: int) -> int:
        return check_index(layer, upto, "layer")

    def _check_head(self, head: int) -> int:
        return check_index(head, self.n_heads, "head")

    def _run(self, sentence: str) -> _Run:
        """The model's forward pass over ``sentence``, cached."""
        if not isinstance(sentence, str) or not sentence.strip():
            raise QueryError(f"sentence must be a non-empty string, got {sentence!r}")
        return self._run_cached(sentence)

    def _run_uncached(self, sentence: str) -> _Run:
        """Run the model on one sentence (no padding) and collect hidden states, attentions, outputs."""
        import torch

        enc = self.tokenizer(sentence, return_tensors="pt", truncation=True, max_length=self.max_length)
        ids = enc["input_ids"][0].tolist()
        captured: dict[str, list[Any]] = {"dense": [], "block": []}
        layers = self.model.encoder.layer

        def keep(name: str) -> Any:
            def hook(_module: Any, _inputs: Any, output: Any) -> None:
                captured[name].append((output[0] if isinstance(output, tuple) else output)[0].detach())

            return hook

        with self._lock, torch.inference_mode():
            handles = [lyr.attention.output.dense.register_forward_hook(keep("dense")) for lyr in layers]
            handles += [lyr.attention.register_forward_hook(keep("block")) for lyr in layers]
            try:
                out = self.model(**enc, output_attentions=True, output_hidden_states=True)
            finally:
                for h in handles:
                    h.remove()
        special = self.tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
        return _Run(
            tokens=tuple(self.tokenizer.convert_ids_to_tokens(ids)),
            special=np.asarray(special, dtype=bool),
            hidden=_frozen(torch.stack([h[0] for h in out.hidden_states]).numpy()),  # (n_layers+1, T, d)
            attentions=_frozen(torch.stack([a[0] for a in out.attentions]).numpy()),  # (n_layers, h, T, T)
            dense=_frozen(torch.stack(captured["dense"]).numpy()),  # (n_layers, T, d)
            block=_frozen(torch.stack(captured["block"]).numpy()),  # (n_layers, T, d)
        )

    def tokens(self, sentence: str) -> list[str]:
        """The model's tokens for ``sentence``, with [CLS] first and [SEP] last (lower-cased WordPiece).

        Raises:
            QueryError: empty or non-string sentence.
        """
        return list(self._run(sentence).tokens)

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
            >>> load_inspector().projections(0).W_Q.shape  # doctest: +SKIP
            (384, 384)
        """
        return self._projections_cached(self._check_layer(layer, self.n_layers))

    def _projections_uncached(self, layer: int) -> LayerProjections:
        att = self.model.encoder.layer[layer].attention

        def w(linear: Any) -> F32:
            return _frozen(linear.weight.detach().cpu().numpy().T)  # torch stores (out, in)

        def b(param: Any) -> F32:
            return _frozen(param.detach().cpu().numpy())

        s, o = att.self, att.output
        return LayerProjections(
            layer=int(layer),
            W_Q=w(s.query), b_Q=b(s.query.bias), W_K=w(s.key), b_K=b(s.key.bias),
            W_V=w(s.value), b_V=b(s.value.bias), W_O=w(o.dense), b_O=b(o.dense.bias),
            ln_gamma=b(o.LayerNorm.weight), ln_beta=b(o.LayerNorm.bias), ln_eps=float(o.LayerNorm.eps),
            n_heads=self.n_heads, head_dim=self.head_dim,
        )  # fmt: skip

    # -- our attention

    def _qkv(self, sentence: str, layer: int) -> tuple[F32, F32, F32]:
        """Per-head q, K, V of ``sentence`` at ``layer``, each (h, T, hd)."""
        P = self.projections(layer)
        x = self.hidden_states(sentence, layer)  # (T, d)
        q = _split_heads(x @ P.W_Q + P.b_Q, P.n_heads)  # (h, T, hd)
        K = _split_heads(x @ P.W_K + P.b_K, P.n_heads)  # (h, T, hd)
        V = _split_heads(x @ P.W_V + P.b_V, P.n_heads)  # (h, T, hd)
        return q, K, V

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
            block_output=_frozen(_layer_norm(x_q + projected, P.ln_gamma, P.ln_beta, P.ln_eps)),
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
            >>> ins = load_inspector()  # doctest: +SKIP
            >>> ins.layer_attention("the cat sat", layer=0).weights.shape  # doctest: +SKIP
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
            >>> load_inspector().cross_attention("my dog", "mi perro", 2).weights.shape  # doctest: +SKIP
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
            >>> r = load_inspector().relevance_matrices("she never stops moving", 0, 0)  # doctest: +SKIP
            >>> r.asymmetry_kk < 1e-6 < r.asymmetry_qk  # doctest: +SKIP
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
        """Compare our head-by-head weights with the model's ``output_attentions``.

        Also compares ``concat @ W_O + b_O`` with the output of the model's
        ``attention.output.dense`` (captured by a forward hook; dropout is off in eval mode) and
        ``LayerNorm(x + projected)`` with the output of the model's whole attention sub-layer.

        Args:
            sentences: sentences, each tokenised and run alone (no padding).
            layers: layers to check; None means all.

        Returns:
            ModelCheck with the max absolute differences.

        Example:
            >>> load_inspector().check_against_model(["我爱吃苹果"]).max_diff < 1e-5  # doctest: +SKIP
            True
        """
        if isinstance(sentences, str) or not sentences:
            raise QueryError("sentences must be a non-empty sequence of strings")
        all_layers = range(self.n_layers) if layers is None else layers
        checked = tuple(self._check_layer(x, self.n_layers) for x in all_layers)
        per_head = np.zeros((len(checked), self.n_heads), dtype=np.float32)
        per_sentence: dict[str, float] = {}
        proj_diff = block_diff = 0.0
        for sentence in sentences:
            run = self._run(sentence)
            worst = 0.0
            for row, layer in enumerate(checked):
                ours = self.layer_attention(sentence, layer)
                diff = np.abs(ours.weights - run.attentions[layer]).max(axis=(1, 2))  # (h,)
                per_head[row] = np.maximum(per_head[row], diff)
                worst = max(worst, float(diff.max()))
                proj_diff = max(proj_diff, float(np.abs(ours.projected - run.dense[layer]).max()))
                block_diff = max(block_diff, float(np.abs(ours.block_output - run.block[layer]).max()))
            per_sentence[sentence] = worst
        logger.info("our attention vs the model's: max |diff| %.2e over %d sentences", per_head.max(), len(sentences))
        return ModelCheck(
            max_diff=float(per_head.max()), per_sentence=per_sentence, per_layer=_frozen(per_head.max(axis=1)),
            per_head=_frozen(per_head), layers=checked,
            max_projection_diff=proj_diff, max_block_diff=block_diff,
        )  # fmt: skip


# ----------------------------------------------------------------------------- loading


def load_inspector(name_or_path: str | None = None) -> TransformerInspector:
    """Load the model (default all-MiniLM-L6-v2, offline) and its tokenizer, once per model path.

    The model is loaded with ``attn_implementation="eager"`` (so ``output_attentions`` returns the
    real probabilities), in eval mode and float32. The Hugging Face hub is contacted only as
    :func:`~retrieval_attention.encoders.base.apply_offline_policy` allows.

    Args:
        name_or_path: None for the default all-MiniLM-L6-v2 (whatever ``$RETRIEVAL_ATTENTION_MODEL``
            says, since the lesson is about this model), or a name/folder understood by
            :func:`~retrieval_attention.encoders.resolve_model_path` of a BERT-style model.

    Returns:
        A cached TransformerInspector.

    Raises:
        ModelNotFoundError: the model cannot be found or loaded offline, or is not BERT-style.

    Example:
        >>> ins = load_inspector()  # doctest: +SKIP
        >>> ins.n_layers, ins.n_heads, ins.tokens("hello world")  # doctest: +SKIP
        (6, 12, ['[CLS]', 'hello', 'world', '[SEP]'])
    """
    return _load_inspector_cached(resolve_model_path(name_or_path or DEFAULT_MODEL))


@functools.lru_cache(maxsize=4)
def _load_inspector_cached(path: str) -> TransformerInspector:
    apply_offline_policy()
    start = time.perf_counter()
    import torch
    import transformers

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        model = transformers.AutoModel.from_pretrained(path, attn_implementation="eager", dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot load a transformer from {path!r} offline: {exc}") from None
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if layers is None or not hasattr(layers[0].attention, "self") or not hasattr(layers[0].attention.self, "query"):
        raise ModelNotFoundError(f"{path!r} is not a BERT-style encoder (encoder.layer[i].attention.self.query)")
    model.eval()
    logger.info("loaded %s for attention inspection in %.1f s", path, time.perf_counter() - start)
    return TransformerInspector(model, tokenizer, path)
