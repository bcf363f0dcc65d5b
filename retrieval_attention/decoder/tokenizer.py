"""The decoders' tokenizers, built from the vocabulary a GGUF file carries (no torch, no transformers).

A GGUF file has no ``tokenizer.json``: it stores the tokens, their types and (for byte-level BPE)
the merges as metadata. This module rebuilds the tokenizer those describe with the ``tokenizers``
library, the way transformers' own GGUF conversion does, so both give the same ids:

* ``tokenizer.ggml.model == "gpt2"`` (SmolLM2): byte-level BPE with the file's merges. The file's
  pre-tokenizer name ``"smollm"`` means: every digit on its own, then the GPT-2 split, which is
  what SmolLM2's own ``tokenizer.json`` does (``Digits(individual_digits=True)`` then
  ``ByteLevel``). transformers' conversion leaves out the digit split (``"smollm"`` is not in its
  table), so the two differ on numbers of two or more digits; we follow the model's own tokenizer.
* ``tokenizer.ggml.model == "llama"`` (Gemma 3): SentencePiece-style BPE on text whose spaces are
  written ``▁``, with byte fallback. The file lists no merges: they are recovered from the
  vocabulary, best first in the order the tokens appear in the file (as transformers does for
  Gemma), and tokens made only of spaces are respelled with ``▁``.

Control tokens (type 3, ``<bos>``, ``<|im_start|>``, ...) are special tokens, matched whole;
user-defined ones (type 4) are matched whole too. The result is saved as ``tokenizer.json`` in the
converted copy, so this runs once per model file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE

from retrieval_attention.errors import ModelNotFoundError

__all__ = ["build_tokenizer", "byte_alphabet", "merges_from_vocabulary"]

_CONTROL, _USER_DEFINED = 3, 4  # llama.cpp's token types


@lru_cache(maxsize=1)
def byte_alphabet() -> dict[int, str]:
    """GPT-2's printable spelling of the 256 bytes (byte-level BPE writes every token in it).

    Example:
        >>> a = byte_alphabet()
        >>> len(a), a[ord("A")], a[ord(" ")]
        (256, 'A', 'Ġ')
    """
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = list(printable)
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def merges_from_vocabulary(
    tokens: Sequence[str], progress: Callable[[float], None] | None = None
) -> list[tuple[str, str]]:
    """The BPE merges a SentencePiece vocabulary implies, best first.

    Every token that can be cut into two tokens of the vocabulary gives one merge per cut; a
    token's rank is its position in the file (earlier = merged first), ties broken by the length
    of the left piece then the right one, as transformers' ``generate_merges`` sorts them.
    ``progress``, if given, is called with the fraction of the tokens done every 32,768 tokens.

    Example:
        >>> merges_from_vocabulary(["a", "b", "c", "ab", "abc"])
        [('a', 'b'), ('ab', 'c')]
    """
    index = {t: i for i, t in enumerate(tokens)}  # a token listed twice ranks by its last position, as in transformers
    merges = []
    # transformers sorts (score = -rank, len left, len right) descending: rank ascending, then the longest left
    # piece first (for one token the left piece's length fixes the cut, so there are no further ties).
    for n, token in enumerate(sorted(index, key=index.__getitem__)):
        if progress is not None and n % 32768 == 0:
            progress(n / len(index))
        for k in range(len(token) - 1, 0, -1):
            left, right = token[:k], token[k:]
            if left in index and right in index:
                merges.append((left, right))
    return merges


def _byte_level(tokens: Sequence[str], merges: Sequence[str], pre: str) -> Tokenizer:
    spelling = byte_alphabet()
    alphabet = set(spelling.values())
    vocab = {
        t if set(t) <= alphabet else "".join(spelling[b] for b in t.encode("utf-8")): i for i, t in enumerate(tokens)
    }
    pairs = [tuple(m.split(" ")) for m in merges]
    tok = Tokenizer(BPE(vocab=vocab, merges=pairs, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    steps = [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
    if pre == "smollm":  # llama.cpp's "smollm": each digit alone, then GPT-2's regex (SmolLM2's tokenizer.json)
        steps.insert(0, pre_tokenizers.Digits(individual_digits=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence(steps)
    tok.decoder = decoders.ByteLevel()
    return tok


def _sentencepiece(tokens: Sequence[str], unk: str | None, progress: Callable[[float], None]) -> Tokenizer:
    respelled = ["▁" * len(t) if " " in t and not t.strip() else t for t in tokens]  # "  " is stored as spaces
    vocab = {t: i for i, t in enumerate(respelled)}
    merges = merges_from_vocabulary(respelled, lambda done: progress(0.7 * done))
    progress(0.7)  # measured on Gemma 3: the merges take about 70 % of the tokenizer's time
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, fuse_unk=True, unk_token=unk, byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous")
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    return tok


def build_tokenizer(metadata: Mapping[str, object], progress: Callable[[float], None] | None = None) -> Tokenizer:
    """The tokenizer a GGUF file's ``tokenizer.ggml.*`` metadata describes.

    Args:
        metadata: the file's metadata (:func:`~retrieval_attention.decoder.gguf_file.read_gguf`).
        progress: called with the fraction done (0 to 1) at a few points of the build.

    Returns:
        A ``tokenizers.Tokenizer`` whose ``encode(text).ids`` are the model's token ids, with the
        beginning-of-text token in front when a SentencePiece file says to add it (Gemma's ``<bos>``).

    Raises:
        ModelNotFoundError: the file describes a tokenizer kind this module does not build.
    """
    def report(fraction: float) -> None:
        if progress is not None:
            progress(fraction)

    kind = metadata.get("tokenizer.ggml.model")
    tokens = list(metadata["tokenizer.ggml.tokens"])
    types = list(metadata.get("tokenizer.ggml.token_type") or [])
    if kind == "gpt2":
        tok = _byte_level(tokens, list(metadata["tokenizer.ggml.merges"]), str(metadata.get("tokenizer.ggml.pre")))
        spelled = set(byte_alphabet().values())
        control = [t for t, ty in zip(tokens, types) if ty == _CONTROL and set(t) <= spelled]
    elif kind == "llama":
        tok = _sentencepiece(tokens, _named(tokens, "<unk>", metadata.get("tokenizer.ggml.unknown_token_id")), report)
        control = [t for t, ty in zip(tokens, types) if ty == _CONTROL]
    else:
        raise ModelNotFoundError(f"cannot build a tokenizer of kind {kind!r} (known: 'gpt2', 'llama')")
    report(0.85)
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in control])
    # Only those the (respelled) vocabulary has, as transformers does: Gemma's "  " is "▁▁" there.
    user = [t for t, ty in zip(tokens, types) if ty == _USER_DEFINED and tok.token_to_id(t) is not None]
    if user:
        tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in user])
    # A byte-level file's flag is not followed: SmolLM2's own tokenizer.json adds no BOS, nor does
    # transformers' conversion (its "BOS" is <|im_start|>, which the chat template writes itself).
    if kind == "llama" and metadata.get("tokenizer.ggml.add_bos_token"):
        bos = _named(tokens, "<bos>", metadata.get("tokenizer.ggml.bos_token_id"))
        if bos is not None:
            tok.post_processor = processors.TemplateProcessing(
                single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, tok.token_to_id(bos))]
            )
    report(1.0)
    return tok


def _named(tokens: Sequence[str], name: str, file_id: object) -> str | None:
    """The token called ``name`` when the vocabulary has it, else the one the file's id points at.

    Gemma 3's GGUF gives id 1 (``<eos>``) as its BOS, EOS, UNK and PAD alike; its ``<bos>`` is id 2
    and ``<unk>`` id 3, and transformers' conversion uses those, so the name wins over the id.
    """
    if name in tokens:
        return name
    return None if file_id is None else tokens[int(file_id)]
