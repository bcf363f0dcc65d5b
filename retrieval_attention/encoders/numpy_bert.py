"""The numpy encoder: a sentence-transformers folder whose whole pipeline we run ourselves (no torch).

Served only for a local folder whose pipeline :mod:`retrieval_attention.encoders.bert` implements
exactly: ``modules.json`` is Transformer -> Pooling -> Normalize, the pooling is the mean of the
tokens, and the Transformer is a BERT model (``config.json``: ``model_type`` "bert", ``hidden_act``
"gelu", absolute positions) with its weights in ``model.safetensors`` and its tokenizer in
``tokenizer.json``: all-MiniLM-L6-v2 (the default) and its MiniLM siblings. For anything else
:func:`pipeline_problem` says why, and :func:`~retrieval_attention.encoders.get_encoder` uses
sentence-transformers instead. Imports numpy, ``tokenizers`` and ``safetensors`` only.

The tokenizer is the model's own ``tokenizer.json`` run by the ``tokenizers`` package, with its
stored padding turned off (all-MiniLM-L6-v2's file pads every text to 128 tokens, which would put
padding into a single query's mean) and truncation at the model's ``max_seq_length``, as
sentence-transformers does. A batch is padded on the right to its longest text, with a mask.

Threads: numpy's BLAS (OpenBLAS) splits every matrix product over all cores and keeps its workers
spinning between products, which on a busy machine turns a short forward pass into a long wait
(docs/benchmarks.md). So loading this encoder sets numpy's BLAS to one thread for the process
(what :func:`~retrieval_attention.infra.threads.recommended_threads` recommends for every
workload), and a corpus is embedded in batches spread over one worker thread per core instead:
coarse parallel work that degrades gracefully when other processes want the cores too.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import DEFAULT_MODEL, MODEL_ENV_VAR
from retrieval_attention.encoders.base import Progress, _fingerprint, normalize_rows, resolve_model_path
from retrieval_attention.encoders.bert import BertConfig, BertWeights, ForwardTrace, LayerWeights, forward, mean_pool
from retrieval_attention.errors import ModelNotFoundError
from retrieval_attention.infra.threads import _set_blas_threads

__all__ = [
    "NumpyBertEncoder",
    "NumpyBertModel",
    "TokenizedText",
    "load_numpy_bert",
    "pipeline_problem",
    "transformer_problem",
]

log = logging.getLogger(__name__)

_MODULES = (  # the one sentence-transformers pipeline we implement, module by module
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
_POOLING_MODES = ("cls_token", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def transformer_problem(folder: str | Path) -> str | None:
    """Why the numpy forward pass cannot run the BERT model in ``folder``, or None if it can.

    Looks only at small files: ``config.json`` (a BERT with gelu and absolute positions),
    ``model.safetensors`` and ``tokenizer.json`` (which must exist).
    """
    p = Path(folder)
    if not p.is_dir():
        return "not a local folder"
    for needed in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (p / needed).is_file():
            return f"no {needed}"
    try:
        cfg = _json(p / "config.json")
    except (OSError, ValueError) as exc:
        return f"config.json unreadable ({type(exc).__name__})"
    if not isinstance(cfg, dict):
        return "config.json is not an object"
    wanted = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}
    for key, value in wanted.items():
        if cfg.get(key, value if key == "position_embedding_type" else None) != value:
            return f"config.json has {key} = {cfg.get(key)!r}, the numpy path implements {value!r}"
    return None


def pipeline_problem(folder: str | Path) -> str | None:
    """Why the numpy encoder does not serve ``folder``, or None when it implements its pipeline exactly.

    Args:
        folder: a sentence-transformers model folder.

    Returns:
        None for Transformer (BERT, see :func:`transformer_problem`) -> mean Pooling -> Normalize;
        otherwise a short reason ("pooling is cls_token", "no model.safetensors", ...).

    Example:
        >>> pipeline_problem(resolve_model_path()) is None  # the default all-MiniLM-L6-v2
        True
    """
    problem = transformer_problem(folder)
    if problem is not None:
        return problem
    p = Path(folder)
    try:
        modules = _json(p / "modules.json")
        types = tuple(m["type"] for m in modules)
        pooling = _json(p / modules[1]["path"] / "config.json") if len(modules) > 1 else {}
        sbert = _json(p / "sentence_bert_config.json") if (p / "sentence_bert_config.json").exists() else {}
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        return f"modules.json or a module's config is missing or unreadable ({type(exc).__name__})"
    if types != _MODULES:
        return f"modules.json is {[t.rsplit('.', 1)[-1] for t in types]}, not Transformer -> Pooling -> Normalize"
    mode = pooling.get("pooling_mode", "mean")
    others = [m for m in _POOLING_MODES if pooling.get(f"pooling_mode_{m}")]
    if mode != "mean" or not pooling.get("pooling_mode_mean_tokens", mode == "mean") or others:
        return f"pooling is {', '.join(others) or mode}, not the mean of the tokens"
    if sbert.get("do_lower_case"):
        return "sentence_bert_config.json lower-cases before the tokenizer"
    return None


@dataclass(frozen=True)
class TokenizedText:
    """One text as the model sees it."""

    ids: tuple[int, ...]  # T token ids, [CLS] first and [SEP] last
    tokens: tuple[str, ...]  # the T WordPiece tokens
    special: tuple[bool, ...]  # True for [CLS], [SEP]


class NumpyBertModel:
    """A BERT-style encoder loaded from a folder into numpy: config, weights, tokenizer. Use :func:`load_numpy_bert`.

    Immutable once loaded, so any number of threads may call it at once.
    """

    def __init__(self, path: str, config: BertConfig, weights: BertWeights, tokenizer: Any, max_seq_length: int):
        self.path = path
        self.config = config
        self.weights = weights
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer: no padding, truncation at max_seq_length
        self.max_seq_length = max_seq_length  # T at most, [CLS] and [SEP] included

    def tokenize(self, text: str) -> TokenizedText:
        """One text -> its tokens (truncated at ``max_seq_length``, never padded)."""
        e = self.tokenizer.encode(text)
        return TokenizedText(tuple(e.ids), tuple(e.tokens), tuple(bool(s) for s in e.special_tokens_mask))

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        if len(texts) == 1:
            return [self.tokenizer.encode(texts[0]).ids]
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def embed_ids(self, rows: Sequence[Sequence[int]]) -> NDArray[np.float32]:
        """Token id rows (of any lengths) -> (B, d) unit vectors: pad, forward, mean over real tokens, L2.

        Rows are padded on the right to the longest with id 0, and the mask keeps padding out of
        the attention and the mean, so a text gets the same vector alone or in any batch.
        """
        lengths = np.array([len(r) for r in rows])  # (B,)
        ids = np.zeros((len(rows), int(lengths.max())), dtype=np.int64)  # (B, T) padded with [PAD] = 0
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
        mask = np.arange(ids.shape[1]) < lengths[:, None]  # (B, T) True for real tokens
        key_mask = None if mask.all() else mask
        hidden = forward(ids, key_mask, self.weights).last_hidden  # (B, T, d)
        return normalize_rows(mean_pool(hidden, key_mask))  # (B, d)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Texts -> (B, d) float32 unit vectors, in one padded batch."""
        return self.embed_ids(self._ids(texts))

    def trace(self, text: str) -> tuple[TokenizedText, ForwardTrace]:
        """One text's tokens and its forward pass with every layer's intermediates (batch of 1, no padding)."""
        tok = self.tokenize(text)
        return tok, forward(np.array([tok.ids], dtype=np.int64), None, self.weights, keep=True)


def _tensors(path: Path) -> dict[str, NDArray[Any]]:
    from safetensors.numpy import load_file

    raw = load_file(str(path))
    return {k.removeprefix("bert."): v for k, v in raw.items()}


def _weights(tensors: dict[str, NDArray[Any]], cfg: BertConfig) -> BertWeights:
    """Tensors named as transformers names them -> BertWeights, matrices laid out as (in, out)."""

    def get(name: str, shape: tuple[int, ...], transpose: bool = False) -> NDArray[np.float32]:
        if name not in tensors:
            raise ModelNotFoundError(f"model.safetensors has no tensor {name!r}")
        t = tensors[name].T if transpose else tensors[name]
        if t.shape != shape:
            raise ModelNotFoundError(f"model.safetensors: {name!r} has shape {t.shape}, config.json says {shape}")
        out = np.ascontiguousarray(t, dtype=np.float32)
        out.flags.writeable = False  # shared by every encoder and inspector of this folder
        return out

    d, f = cfg.d_model, cfg.d_ff

    def layer(i: int) -> LayerWeights:
        pre = f"encoder.layer.{i}."
        att, out = pre + "attention.self.", pre + "attention.output."
        return LayerWeights(
            W_Q=get(att + "query.weight", (d, d), True), b_Q=get(att + "query.bias", (d,)),
            W_K=get(att + "key.weight", (d, d), True), b_K=get(att + "key.bias", (d,)),
            W_V=get(att + "value.weight", (d, d), True), b_V=get(att + "value.bias", (d,)),
            W_O=get(out + "dense.weight", (d, d), True), b_O=get(out + "dense.bias", (d,)),
            ln1_gamma=get(out + "LayerNorm.weight", (d,)), ln1_beta=get(out + "LayerNorm.bias", (d,)),
            W_1=get(pre + "intermediate.dense.weight", (d, f), True), b_1=get(pre + "intermediate.dense.bias", (f,)),
            W_2=get(pre + "output.dense.weight", (f, d), True), b_2=get(pre + "output.dense.bias", (d,)),
            ln2_gamma=get(pre + "output.LayerNorm.weight", (d,)), ln2_beta=get(pre + "output.LayerNorm.bias", (d,)),
        )  # fmt: skip

    e = "embeddings."
    return BertWeights(
        config=cfg,
        word=get(e + "word_embeddings.weight", (cfg.vocab_size, d)),
        position=get(e + "position_embeddings.weight", (cfg.max_position, d)),
        token_type=get(e + "token_type_embeddings.weight", (cfg.type_vocab_size, d)),
        ln_gamma=get(e + "LayerNorm.weight", (d,)),
        ln_beta=get(e + "LayerNorm.bias", (d,)),
        layers=tuple(layer(i) for i in range(cfg.n_layers)),
    )


def _max_seq_length(p: Path, cfg: BertConfig) -> int:
    """sentence-transformers' rule: sentence_bert_config.json's max_seq_length, else the tokenizer's
    model_max_length, never more than the position table."""
    sbert = p / "sentence_bert_config.json"
    value = _json(sbert).get("max_seq_length") if sbert.exists() else None
    if value is None and (p / "tokenizer_config.json").exists():
        value = _json(p / "tokenizer_config.json").get("model_max_length")
    return int(min(value or cfg.max_position, cfg.max_position))


@functools.lru_cache(maxsize=4)
def load_numpy_bert(path: str) -> NumpyBertModel:
    """Load the BERT model in the folder ``path`` (once per path and process).

    Raises:
        ModelNotFoundError: one line, when the folder is not one the numpy path runs
            (:func:`transformer_problem`) or a file is damaged.
    """
    problem = transformer_problem(path)
    if problem is not None:
        raise ModelNotFoundError(f"{path!r} is not a BERT model the numpy encoder can run: {problem}")
    p = Path(path)
    try:
        raw = _json(p / "config.json")
        cfg = BertConfig(
            d_model=int(raw["hidden_size"]),
            n_layers=int(raw["num_hidden_layers"]),
            n_heads=int(raw["num_attention_heads"]),
            d_ff=int(raw["intermediate_size"]),
            vocab_size=int(raw["vocab_size"]),
            max_position=int(raw["max_position_embeddings"]),
            type_vocab_size=int(raw.get("type_vocab_size", 2)),
            eps=float(raw.get("layer_norm_eps", 1e-12)),
        )
        weights = _weights(_tensors(p / "model.safetensors"), cfg)
        from tokenizers import Tokenizer

        max_len = _max_seq_length(p, cfg)
        tokenizer = Tokenizer.from_file(str(p / "tokenizer.json"))
        tokenizer.no_padding()  # the file may pad to a fixed length: a query must not be padded
        tokenizer.enable_truncation(max_length=max_len)
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(f"model in {path} could not be loaded: {exc}") from None
    except Exception as exc:  # damaged or unexpected files: one line, the cause kept for debugging
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise ModelNotFoundError(f"model in {path} could not be loaded ({type(exc).__name__}: {first})") from exc
    _set_blas_threads(1)  # see the module docstring: OpenBLAS's spinning threads, coarse workers instead
    log.info("numpy encoder: loaded %s; numpy's BLAS set to one thread", path)
    return NumpyBertModel(path, cfg, weights, tokenizer, max_len)


class NumpyBertEncoder:
    """A sentence-transformers BERT folder run by our own numpy forward pass (no torch).

    The same encoder for queries and documents. Loading takes a fraction of a second, so there
    is no background load: the constructor returns a ready encoder.

    Args:
        name_or_path: a model name or local folder; None for ``$RETRIEVAL_ATTENTION_MODEL`` or the
            default all-MiniLM-L6-v2.

    Raises:
        ModelNotFoundError: the folder's pipeline is not one this encoder implements
            (:func:`pipeline_problem`), or it cannot be loaded.
    """

    def __init__(self, name_or_path: str | None = None) -> None:
        self.name = name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL
        self.path = resolve_model_path(self.name)
        problem = pipeline_problem(self.path)
        if problem is not None:
            raise ModelNotFoundError(f"model {self.name!r} is not one the numpy encoder implements: {problem}")
        self.model = load_numpy_bert(self.path)
        self.dim = self.model.config.d_model
        self.max_seq_length = self.model.max_seq_length
        # not shared with sentence-transformers' vectors: equal to about 1e-7, not bit for bit
        self.cache_id = f"numpy-bert:{_fingerprint(self.path)}:maxlen={self.max_seq_length}"

    def encode_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Queries -> (n, d) float32 unit vectors (one padded batch)."""
        return self.model.embed(texts)

    def encode_documents(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        """Documents -> (n, d) float32 unit vectors, ``progress(done, total)`` after each batch.

        Texts are tokenised at once, then batched by token count (longest first, as
        sentence-transformers does) so little of each batch is padding; the batches run on one
        worker thread per core; rows come back in input order.
        """
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        ids = self.model._ids(texts)
        order = np.argsort([-len(r) for r in ids], kind="stable")  # (n,) longest first
        batches = [order[i : i + max(1, batch_size)] for i in range(0, n, max(1, batch_size))]

        def embed(rows: NDArray[np.intp]) -> NDArray[np.float32]:
            return self.model.embed_ids([ids[i] for i in rows])  # (len(rows), d)

        workers = min(len(batches), os.cpu_count() or 1)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="embed")
        try:
            done = 0
            for rows, x in zip(batches, pool.map(embed, batches)):
                out[rows] = x  # (len(rows), d), in the order the batches were made
                done += len(rows)
                if progress is not None:
                    progress(done, n)
        finally:
            # Ctrl-C (or a failing batch) drops the batches not started: `with` would wait for all of them
            pool.shutdown(wait=True, cancel_futures=True)
        return out

    def __repr__(self) -> str:
        return f"NumpyBertEncoder({self.name!r}, dim={self.dim})"
