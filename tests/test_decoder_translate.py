"""我爱吃苹果 translated by Gemma 3 and aligned by its layer 5, head 3 (the choice is explained in
retrieval_attention/decoder/translate.py; these are the sentences it was measured and confirmed on)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval_attention.decoder import ALIGNMENT_HEAD, load_decoder
from retrieval_attention.errors import InvalidParameterError, QueryError

pytestmark = pytest.mark.slow

CASES = [  # sentence, language, the translation, and each content word's source word
    ("我爱吃苹果", "zh", "I love eating apples.", {"I": "我", "love": "爱", "eating": "吃", "apples": "苹果"}),
    ("我喜欢看书", "zh", "I like to read", {"I": "我", "like": "喜欢", "read": "看"}),
    ("Me encanta comer manzanas.", "es", "I love eating apples.", {"I": "Me", "love": "encanta", "eating": "comer", "apples": "manzanas"}),
    ("El perro come carne.", "es", "The dog eats meat.", {"The": "El", "dog": "perro", "eats": "come", "meat": "carne"}),
]


@pytest.fixture(scope="module")
def gemma():
    return load_decoder("gemma3")


@pytest.mark.parametrize(("sentence", "lang", "english", "pairs"), CASES)
def test_translation_and_alignment(gemma, sentence, lang, english, pairs):
    t = gemma.translate(sentence, lang)
    assert t.text == english
    assert (t.layer, t.head) == ALIGNMENT_HEAD
    assert t.alignment.shape == (len(t.target_tokens), len(t.source_tokens))
    np.testing.assert_allclose(t.alignment.sum(axis=1), 1.0, rtol=1e-5)  # renormalised over the source
    assert ((t.source_mass > 0) & (t.source_mass <= 1.0 + 1e-6)).all()
    src = [s.strip("▁") for s in t.source_tokens]
    for i, tok in enumerate(t.target_tokens):
        word = tok.strip("▁")
        if word in pairs:  # the strongest source token of the step that writes the word
            assert src[int(t.alignment[i].argmax())] == pairs[word], (sentence, word, t.alignment[i].round(2))


def test_translation_refuses_bad_input(gemma):
    for bad in ("", "  ", "第一行\n第二行", "字" * 201):
        with pytest.raises(QueryError):
            gemma.translate(bad, "zh")
    with pytest.raises(InvalidParameterError):
        gemma.translate("我爱吃苹果", "fr")
    with pytest.raises(InvalidParameterError):
        gemma.translate("我爱吃苹果", "zh", target="es")
    with pytest.raises(InvalidParameterError, match="gemma3"):
        load_decoder("smollm2").translate("我爱吃苹果", "zh")
