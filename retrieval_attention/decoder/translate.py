"""A sentence translated by the multilingual decoder, and aligned word by word by one of its heads.

No encoder–decoder translation model can be installed offline here, so the translator is Gemma 3
270M, a decoder-only model, given a two-line example and the sentence::

    中文: 我喜欢猫。
    English: I like cats.
    中文: 我爱吃苹果
    English:                      -> " I love eating apples."

Each English token is written by the query of the position before it, and that query attends back
over the whole prompt, the Chinese sentence included: in today's LLMs, "cross-attention" is causal
self-attention from the output back to the source. The alignment a_ij of article 001 is one head's
weights restricted to the source tokens and renormalised to sum to 1; the raw share that head
puts on the source is reported beside it (most of the rest goes to ``<bos>`` and the example).

Which head: layer 5, head 3 (a global layer). Measured on 我爱吃苹果 → "I love eating apples"
with the word pairs I/我, love/爱, eating/吃, apples/苹果: for every head, the mean renormalised
weight the step writing each English word puts on its Chinese word. The best, layer 5 head 1
(0.97), puts only 1–32 % of its weight on the source (its rows are renormalised from almost
nothing); layer 5 head 3 scores 0.95 with 26–75 % on the source, and its strongest source token is
the expected one for every content word of 我喜欢看书, "Me encanta comer manzanas." and "El perro come
carne." as well (tests/test_decoder_translate.py checks these).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.errors import InvalidParameterError, QueryError

__all__ = ["ALIGNMENT_HEAD", "EXAMPLES", "MAX_SENTENCE_CHARS", "Translation", "translate", "translation_prompt"]

F32 = NDArray[np.float32]

#: (layer, head) of Gemma 3 270M whose weights align the translation with its source (see above).
ALIGNMENT_HEAD = (5, 3)

#: The one example line pair shown to the model before the sentence, per source language.
EXAMPLES = {
    "zh": ("中文", "我喜欢猫。", "I like cats."),
    "es": ("Español", "Me gustan los gatos.", "I like cats."),
}

MAX_SENTENCE_CHARS = 200
_MAX_NEW_TOKENS = 48


@dataclass(frozen=True, eq=False)
class Translation:
    """The translation and its alignment (article 001's a_ij: target i, source j)."""

    sentence: str  # the source sentence
    source: str  # its language: "zh" or "es"
    target: str  # "en"
    prompt: str  # what the model was given
    text: str  # the translation, greedy, up to the end of its line
    source_tokens: list[str]  # the sentence's tokens, as the tokenizer cut them
    target_tokens: list[str]  # the translation's tokens
    alignment: F32  # (target, source) the head's weights over the source tokens, each row renormalised to sum to 1
    source_mass: F32  # (target,) the raw share of that head's weight on the source tokens, before renormalising
    layer: int  # the head used: ALIGNMENT_HEAD
    head: int


def translation_prompt(sentence: str, source: str) -> str:
    """The few-shot prompt for ``sentence`` (see the module doc).

    Example:
        >>> print(translation_prompt("我爱吃苹果", "zh"))
        中文: 我喜欢猫。
        English: I like cats.
        中文: 我爱吃苹果
        English:
    """
    name, example, english = EXAMPLES[source]
    return f"{name}: {example}\nEnglish: {english}\n{name}: {sentence}\nEnglish:"


def translate(decoder: Any, sentence: str, source: str, target: str = "en") -> Translation:
    """Translate ``sentence`` into English with Gemma 3 and align it with :data:`ALIGNMENT_HEAD`.

    Args:
        decoder: the multilingual decoder, ``load_decoder("gemma3")``.
        sentence: one line of Chinese or Spanish, at most :data:`MAX_SENTENCE_CHARS` characters.
        source: "zh" or "es".
        target: "en" (the only target).

    Returns:
        A :class:`Translation`.

    Raises:
        InvalidParameterError: another decoder than Gemma 3, or a language pair not listed.
        QueryError: an empty sentence, more than one line, or too long.
    """
    if getattr(decoder, "architecture", None) != "gemma3":
        raise InvalidParameterError("translation needs the multilingual decoder: load_decoder('gemma3')")
    if source not in EXAMPLES or target != "en":
        raise InvalidParameterError(f"translation goes from {sorted(EXAMPLES)} into 'en', not {source!r} -> {target!r}")
    if not isinstance(sentence, str) or not sentence.strip():
        raise QueryError("the sentence to translate is empty")
    sentence = sentence.strip()
    if "\n" in sentence or "\r" in sentence:
        raise QueryError("translate one line at a time: the sentence holds a line break")
    if len(sentence) > MAX_SENTENCE_CHARS:
        raise QueryError(f"the sentence has {len(sentence)} characters; at most {MAX_SENTENCE_CHARS} are translated")
    prompt = translation_prompt(sentence, source)
    enc = decoder.tokenizer.encode(prompt)
    start = prompt.rindex(sentence)
    end = start + len(sentence)
    src = [i for i, (a, b) in enumerate(enc.offsets) if a < end and b > start and enc.ids[i] not in decoder.stop_ids]
    layer, head = ALIGNMENT_HEAD
    rows, ids = [], []
    for step in decoder.generate(prompt, max_new_tokens=_MAX_NEW_TOKENS, temperature=0):
        if "\n" in decoder.decode([step.token_id]) or step.token_id in decoder.stop_ids:
            break  # the translation's line is over
        ids.append(step.token_id)
        rows.append(step.attention[layer, head, src])  # (source,) weights over the source tokens
    if not ids:
        raise QueryError("the model wrote no translation for this sentence")
    raw = np.stack(rows).astype(np.float32)  # (target, source)
    mass = raw.sum(axis=1)  # (target,)
    return Translation(
        sentence=sentence,
        source=source,
        target=target,
        prompt=prompt,
        text=decoder.decode(ids).strip(),
        source_tokens=[enc.tokens[i] for i in src],
        target_tokens=[decoder.token(i) for i in ids],
        alignment=raw / np.maximum(mass[:, None], np.float32(1e-30)),
        source_mass=mass,
        layer=layer,
        head=head,
    )
