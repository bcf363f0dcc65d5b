"""Inside a real transformer: all-MiniLM-L6-v2's own attention heads, from our numpy forward pass.

``model`` runs our forward pass on a sentence and recomputes its heads; ``results`` holds what comes
back and the helpers; ``reference`` runs transformers' own model for the check (torch, on demand only);
``walkthrough`` is one token's steps (article 001), ``words`` merges WordPiece pieces into words,
``patterns`` names heads by what they look at (previous token, [SEP], ...), ``projections`` draws x, q and k in 2-D and ``positions`` shuffles words with and without positions.
"""

from retrieval_attention.inspector.model import TransformerInspector, load_inspector
from retrieval_attention.inspector.patterns import (
    MIXED,
    PATTERN_LABELS,
    PATTERNS,
    PRONOUNS,
    THRESHOLDS,
    HeadPattern,
    Link,
    antecedent_candidates,
    find_pronoun,
    head_patterns,
    link,
    name_pattern,
    pair_weight,
    pattern_scores,
    strongest_antecedent,
)
from retrieval_attention.inspector.positions import PermutationCheck, permutation_check
from retrieval_attention.inspector.projections import PCA2D, ProjectionPicture, pca_2d, projection_picture
from retrieval_attention.inspector.results import (
    LayerAttention,
    LayerProjections,
    ModelCheck,
    Relevance,
    asymmetry,
    causal_mask,
    most_asymmetric_pair,
)
from retrieval_attention.inspector.walkthrough import (
    ORIGINAL_TRANSFORMER,
    MatrixShapes,
    SelfHead,
    Walkthrough,
    check_model_sentence,
    special_mask,
    strongest_self_head,
    walkthrough,
    without_special,
    word_attention,
)
from retrieval_attention.inspector.words import WordAttention, merge_vectors, merge_weights, word_groups, word_labels

__all__ = [
    "MIXED",
    "PATTERNS",
    "PATTERN_LABELS",
    "PRONOUNS",
    "THRESHOLDS",
    "HeadPattern",
    "Link",
    "antecedent_candidates",
    "find_pronoun",
    "head_patterns",
    "link",
    "name_pattern",
    "pair_weight",
    "pattern_scores",
    "strongest_antecedent",
    "ORIGINAL_TRANSFORMER",
    "PCA2D",
    "LayerAttention",
    "LayerProjections",
    "MatrixShapes",
    "ModelCheck",
    "PermutationCheck",
    "ProjectionPicture",
    "Relevance",
    "SelfHead",
    "TransformerInspector",
    "Walkthrough",
    "WordAttention",
    "asymmetry",
    "causal_mask",
    "check_model_sentence",
    "load_inspector",
    "merge_vectors",
    "merge_weights",
    "most_asymmetric_pair",
    "pca_2d",
    "permutation_check",
    "projection_picture",
    "special_mask",
    "strongest_self_head",
    "walkthrough",
    "without_special",
    "word_attention",
    "word_groups",
    "word_labels",
]
