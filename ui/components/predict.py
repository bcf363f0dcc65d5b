"""Predict, then reveal: the lessons ask a question before they show the measured answer."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st


def predict_ui(question: str, answers: Sequence[str], key: str) -> str | None:
    """The heading, the question and its options (none picked at first).

    Args:
        question: the question, in markdown.
        answers: the options.
        key: the radio's widget key.

    Returns:
        The option the student picked, or None (then a line says the reveal waits for a pick).
    """
    st.subheader("Predict, then reveal")
    choice = st.radio(question, list(answers), index=None, key=key)
    if choice is None:
        st.caption("Pick an answer to unlock the reveal.")
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
    mark = "✅ right" if choice == answer else f"{'the answer is' if exact else 'the closest option is'}: {answer}"
    return f"**Your guess: {choice} ({mark}).**"
