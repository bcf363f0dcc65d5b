"""The look of every chart: the Okabe-Ito palette, projector-sized type, shared colours. No streamlit here.

Chart builders take tidy frames and return Altair chart objects; the app applies :func:`projector`.
"""

from __future__ import annotations

import altair as alt

__all__ = [
    "BLACK",
    "BLUE",
    "DROPPED",
    "GREEN",
    "GREY",
    "KEPT",
    "OKABE_ITO",
    "ORANGE",
    "PINK",
    "SKY",
    "VERMILLION",
    "projector",
]

#: Okabe & Ito's palette, distinguishable with every common colour-vision deficiency.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
KEPT, DROPPED = "#0072B2", "#B0B0B0"


def projector(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Big type for a projector: 20 px titles, 15 px labels."""
    return (
        chart.configure_title(fontSize=20, anchor="start", fontWeight="bold")
        .configure_axis(labelFontSize=15, titleFontSize=16, labelLimit=320)
        .configure_legend(labelFontSize=15, titleFontSize=15, labelLimit=320)
        .configure_range(category=OKABE_ITO)
    )


BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, _YELLOW, BLACK = OKABE_ITO
GREY = "#999999"
