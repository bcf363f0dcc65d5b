"""Predict, then reveal: the lessons ask a question before they show the measured answer."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ui.components.i18n import _


def predict_ui(question: str, answers: Sequence[str], key: str) -> str | None:
    """The heading, the question and its options (none picked at first).

    Args:
        question: the question, in markdown.
        answers: the options: English msgids (fixed codes, the widget's value), shown translated.
        key: the radio's widget key.

    Returns:
        The option the student picked, or None (then a line says the reveal waits for a pick).
    """
    st.subheader(_("Predict, then reveal"))
    choice = st.radio(question, list(answers), index=None, key=key, format_func={a: _(a) for a in answers}.__getitem__)
    if choice is None:
        st.caption(_("Pick an answer to unlock the reveal."))
    return choice


def guess_line(choice: str, answer: str, exact: bool = False) -> str:
    """The student's guess against the answer, in bold markdown.

    Args:
        choice: the picked option.
        answer: the right option (``exact``), or the option closest to a live measurement.
        exact: True when ``answer`` is right by definition, not the closest to a number.

    Returns:
        "**Your guess: … (✅ right).**" or "**Your guess: … (the closest option is: …).**".
    """
    if choice == answer:
        mark = _("✅ right")
    elif exact:
        mark = _("the answer is: {answer}").format(answer=_(answer))
    else:
        mark = _("the closest option is: {answer}").format(answer=_(answer))
    return _("**Your guess: {choice} ({mark}).**").format(choice=_(choice), mark=mark)
