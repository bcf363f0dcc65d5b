"""Put a module's shared AppTest back to where it started, so that its tests pass in any order.

A module often shares one AppTest (a run of the real app costs seconds) and its tests move
widgets. A test that leaves a slider, toggle or text box moved changes what the next one sees: a
random order (pytest-randomly) found two such dependencies. :func:`remember` records every keyed
widget's value once; :func:`restore` sets back those that moved and reruns once.
"""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

#: The kinds of widget that hold a value a test may move (buttons and pills are actions, not state).
KINDS = (
    "checkbox",
    "multiselect",
    "number_input",
    "radio",
    "select_slider",
    "selectbox",
    "slider",
    "text_area",
    "text_input",
    "toggle",
)


def remember(at: AppTest) -> dict[tuple[str, str], Any]:
    """Every keyed widget's current value, by (kind, key)."""
    return {(kind, w.key): w.value for kind in KINDS for w in getattr(at, kind) if w.key}


def restore(at: AppTest, start: dict[tuple[str, str], Any]) -> AppTest:
    """Set back every widget on the page whose value moved since ``start``; rerun once if one did."""
    moved = False
    for (kind, key), value in start.items():
        found = [w for w in getattr(at, kind) if w.key == key]
        if found and found[0].value != value:
            found[0].set_value(value)
            moved = True
    if moved:
        at.run()
        assert not at.exception, at.exception
    return at
