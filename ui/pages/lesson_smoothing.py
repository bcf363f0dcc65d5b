"""Attention as smoothing: the widgets here, the content in :mod:`retrieval_attention.views.smoothing`."""

from __future__ import annotations

import streamlit as st

from retrieval_attention.views import smoothing as view
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.downloads import download_csv
from ui.components.i18n import N_, _, current_lang, fmt_setting, setting_labels
from ui.components.predict import guess_line, predict_ui

WIDTHS = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 50.0, 100.0]  # σ in time steps
WINDOWS = [1, 3, 5, 7, 9, 13, 17, 21]
CONTENT_WIDTHS = [0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0]  # σ in units of y
ANSWERS = [  # fixed codes (the radio's value), shown translated
    N_("It narrows to a spike on step t"),
    N_("It flattens: every step gets about 1/n, and the smoothed series flattens to the mean"),
    N_("It keeps its shape and moves"),
    N_("It turns negative far from t"),
]
#: session_state: what the page drew last ({"settings", "revealed"}); fragments update it, the save reads it.
DRAWN = "smoothing_drawn"


@st.fragment
def wide_question(settings: view.SmoothingSettings, drawn: dict) -> None:
    """What does a very wide kernel do? Asked first, then drawn at σ = 100."""
    question = _(
        "What happens to the weight row of step {step} when the kernel is very wide (σ = {sigma} steps)?"
    ).format(step=settings.step, sigma=fmt_setting(view.WIDE))
    choice = predict_ui(question, ANSWERS, key="wide_guess")
    drawn["revealed"] = choice is not None
    if choice is None:
        return
    section = view.wide_section(settings)
    with st.expander(section.heading, expanded=True):
        st.markdown(guess_line(choice, ANSWERS[1], exact=True))
        draw_section(section, heading=False)


@st.fragment
def content_part(settings: view.SmoothingSettings, drawn: dict) -> None:
    """Section 2: its two widgets, then what the builder returns for them."""
    head = st.container()
    a, b = st.columns(2)
    window = a.select_slider(_("Window length (steps)"), WINDOWS, value=9, key="content_window")
    width = b.select_slider(
        _("Similarity width σ (units of y)"),
        CONTENT_WIDTHS,
        value=0.3,
        key="content_width",
        format_func=setting_labels(CONTENT_WIDTHS),  # built in this run: see setting_labels
    )
    settings = view.SmoothingSettings(settings.step, settings.sigma, int(window), float(width), settings.lang)
    drawn["settings"] = settings
    draw_section(view.content_section(settings), before=head)
    download_csv(view.content_frame(settings), "content_vs_position_smoothing.csv", "dl_content")


def main() -> None:
    lang = current_lang()
    drawn = st.session_state.setdefault(DRAWN, {"revealed": False})
    draw_intro(view.smoothing_title(lang), view.smoothing_intro(lang))
    n = len(view.series().t)
    head = st.container()  # the section's heading, above its two sliders; its charts follow them
    a, b = st.columns(2, gap="medium", vertical_alignment="bottom")
    step = a.slider(_("Step t to inspect (its weight row is drawn under the series)"), 0, n - 1, 70, key="step")
    sigma = b.select_slider(
        _("Kernel width σ (time steps)"), WIDTHS, value=3.0, key="kernel_width", format_func=setting_labels(WIDTHS)
    )
    window, width = st.session_state.get("content_window", 9), st.session_state.get("content_width", 0.3)
    settings = view.SmoothingSettings(int(step), float(sigma), int(window), float(width), lang)
    drawn["settings"] = settings
    draw_section(view.position_section(settings), before=head)
    download_csv(view.position_frame(settings), "gaussian_smoothing.csv", "dl_position")
    wide_question(settings, drawn)
    content_part(settings, drawn)
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG."))
    save_button(lambda: view.smoothing_lesson(drawn["settings"], revealed=drawn["revealed"]), "smoothing")


main()
