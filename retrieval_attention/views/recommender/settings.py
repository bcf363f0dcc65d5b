"""The recommender page's widget values, its constants and the checks every section shares."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.i18n import N_

__all__ = ["METHOD_NAMES", "ODD_SHOWN", "PANEL_WIDTHS", "SLOTS", "TOP", "RecommenderSettings"]

#: Recommendations per method: the lists, the heatmap's rows and the evaluation's cut-off.
TOP = 10
#: The targets' names, in order.
SLOTS = ("A", "B")
#: Odd picks explained under the lists, at most this many.
ODD_SHOWN = 3
#: Each method's name (an English msgid of the package catalogue).
METHOD_NAMES = {
    "attention": N_("Target attention (DIN)"),
    "mean": N_("Mean of the history"),
    "popular": N_("Most popular"),
}
#: The bars' panel width in pixels, by (recency on, two targets): the titles, the panels (and the recency
#: factor's) fit the page's width at 1280 px with the sidebar open, so nothing is cut on a projector.
PANEL_WIDTHS = {(False, False): 400, (False, True): 180, (True, False): 290, (True, True): 130}


@dataclass(frozen=True)
class RecommenderSettings:
    """The page's widget values."""

    history: tuple[str, ...]  # watched video ids, oldest first (the keys and values)
    targets: tuple[str, ...]  # one or two candidate ids (targets A, B), each a query; not in the history
    temperature: float | None = None  # softmax T > 0; None: the encoder's own for target attention
    normalize: bool = True  # softmax weights (True) or DIN's raw q·k weights (False; T unused)
    half_life: float | None = None  # recency half-life in videos; None: recency off
    who: str = ""  # whose history (a persona's name, user text); "" for one built by hand
    about: str = ""  # that persona's description (user text); "" for none
    live: bool = False  # evaluate at these settings (False: the package defaults, as the page opens)
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _check(settings: RecommenderSettings) -> RecommenderSettings:
    if not 1 <= len(settings.targets) <= len(SLOTS):
        raise InvalidParameterError(f"one or two targets, got {len(settings.targets)}")
    return settings
