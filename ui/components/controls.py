"""The sidebar controls the retrieval pages share: encoder, k, temperature and scaling."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from retrieval_attention.config import DEFAULT_MODEL, DEFAULT_TEMPERATURE, MULTILINGUAL_MODEL

ENCODERS = {
    "English · all-MiniLM-L6-v2": DEFAULT_MODEL,
    "Multilingual · multilingual-e5-small": MULTILINGUAL_MODEL,
}
#: Temperature choices on a log scale, strictly above 0.
# fmt: off
TEMPERATURES = [0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
                1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0]
# fmt: on
SCALES = {"none: q·k (cosine)": "none", "÷√d, as transformers do": "sqrt_d"}


@dataclass(frozen=True)
class Controls:
    """What the sidebar returns."""

    model: str  # the encoder's name or folder
    k: int  # keys kept by the top-k search
    temperature: float  # softmax temperature T > 0
    scale: str  # "none" (cosine) or "sqrt_d" (÷√d)


def sidebar_controls(show_k: bool = True) -> Controls:
    """Encoder, k, temperature and scaling: the widgets only, values returned.

    Args:
        show_k: False for a page with its own k (the slider is then not drawn and k is 5).

    Returns:
        The :class:`Controls` the reader set.
    """
    sb = st.sidebar
    sb.header("Controls")
    label = sb.radio(
        "Encoder",
        list(ENCODERS),
        key="encoder",
        help="The multilingual one finds English titles for Chinese or Spanish queries.",
    )
    custom = sb.text_input(
        "…or another sentence-transformers model (name or folder)",
        key="custom_model",
        help="Offline by default: a local folder, or a name in your Hugging Face cache. "
        "Set RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD=1 before starting to allow downloads.",
    ).strip()
    k = sb.slider("k (top-k search)", 1, 20, 5, key="k") if show_k else 5
    t = sb.select_slider(
        "Temperature T (log scale)",
        options=TEMPERATURES,
        value=DEFAULT_TEMPERATURE,
        key="temperature",
        format_func=lambda x: f"{x:g}",
        help="softmax(q·k · scale / T). Small T: one key takes all (a lookup). Large T: all keys equal (average pooling).",
    )
    scale_label = sb.radio("Scale q·k by", list(SCALES), key="scale")
    return Controls(model=custom or ENCODERS[label], k=int(k), temperature=float(t), scale=SCALES[scale_label])
