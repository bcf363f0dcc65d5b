"""One builder per page: the page's inputs in, the page's document out, with no Streamlit.

A page of the app places its widgets, calls its builder and draws what comes back with one
renderer (``ui/components/document.py``); "Save this view" writes the very same document
(:func:`retrieval_attention.export.export_html`), the CLI prints or saves it, and a notebook shows
it (a :class:`~retrieval_attention.export.document.Lesson` displays itself). Each builder returns
sections with stable keys, so that a widget inside a fragment rebuilds only its section.

* :mod:`~retrieval_attention.views.alignment`: Bahdanau in Q/K/V terms, and 我爱吃苹果 aligned.
* :mod:`~retrieval_attention.views.analogy`: the search-engine analogy in a few sentences.
* :mod:`~retrieval_attention.views.documents`: the main page's and the recommender's documents by
  keyword (:func:`retrieval_lesson`, :func:`recommender_lesson`), for scripts, the CLI and notebooks.
* :mod:`~retrieval_attention.views.frame`: the frame articles 001 and 003 assume (three diagrams of
  我爱吃苹果: the RNN's bottleneck, attention at every decoder step, the Transformer's three attentions).
* :mod:`~retrieval_attention.views.glossary`: the terms in English, 中文 and Español side by side.
* :mod:`~retrieval_attention.views.model`: self, cross and causal attention inside the real model
  (one head, every head of a layer, Concat·W_O, K·Kᵀ vs Q·Kᵀ).
* :mod:`~retrieval_attention.views.problems`: what a page says when the library refuses a query.
* :mod:`~retrieval_attention.views.projections`: why three vectors per word (x, q and k in 2-D; the
  sentence shuffled without and with position embeddings).
* :mod:`~retrieval_attention.views.recommender`: target attention over a watch history (DIN), the
  recommendations three ways and leave-last-out.
* :mod:`~retrieval_attention.views.retrieval`: the main page's three retrievals (hard lookup, top-k,
  soft attention), the temperature continuum, the softmax arithmetic and the ÷√d comparison.
* :mod:`~retrieval_attention.views.riley`: Riley in three parts (article 004: values only, keys only,
  queries against keys, on the model's own vectors).
* :mod:`~retrieval_attention.views.scoring`: scoring functions (four scores of one query, what the
  additive score costs, measured, and why ÷√d).
* :mod:`~retrieval_attention.views.smoothing`: attention as smoothing (the Gaussian kernel, then
  weights by content).
* :mod:`~retrieval_attention.views.topk`: top-k retrieval as efficient attention (what the k best
  keys keep, both error identities, the error for every k).
* :mod:`~retrieval_attention.views.walkthrough`: one token, step by step (article 001's numbers by
  hand, then the same five steps in the model, then the matrix form).
"""

from retrieval_attention.views.alignment import AlignmentSettings, alignment_lesson
from retrieval_attention.views.analogy import analogy_lesson
from retrieval_attention.views.frame import FrameSettings, frame_lesson
from retrieval_attention.views.glossary import glossary_lesson
from retrieval_attention.views.model import ModelSettings, model_lesson, transformer_lesson
from retrieval_attention.views.projections import ProjectionSettings, projections_lesson
from retrieval_attention.views.recommender import RecommenderSettings, target_attention_lesson
from retrieval_attention.views.retrieval import RetrievalSettings, retrieval_document
from retrieval_attention.views.riley import RileySettings, riley_lesson
from retrieval_attention.views.scoring import ScoringSettings, scoring_lesson
from retrieval_attention.views.smoothing import SmoothingSettings, smoothing_lesson
from retrieval_attention.views.topk import TopKSettings, topk_lesson
from retrieval_attention.views.walkthrough import WalkthroughSettings, walkthrough_lesson

__all__ = [
    "AlignmentSettings",
    "FrameSettings",
    "ModelSettings",
    "ProjectionSettings",
    "RecommenderSettings",
    "RetrievalSettings",
    "RileySettings",
    "ScoringSettings",
    "SmoothingSettings",
    "TopKSettings",
    "WalkthroughSettings",
    "alignment_lesson",
    "analogy_lesson",
    "frame_lesson",
    "glossary_lesson",
    "model_lesson",
    "projections_lesson",
    "retrieval_document",
    "riley_lesson",
    "scoring_lesson",
    "smoothing_lesson",
    "target_attention_lesson",
    "topk_lesson",
    "transformer_lesson",
    "walkthrough_lesson",
]
