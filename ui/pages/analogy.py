"""Page: the search-engine analogy, for students, in a few sentences (no model, no data)."""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _
from ui.components.present import explain

st.title(_("The analogy in 60 seconds"))


def roles_section() -> None:
    """Query, keys and values as a search engine's parts."""
    a, b, c = st.columns(3, border=True)
    with a:
        st.subheader("🔍 " + _("Query"))
        st.markdown(
            _("What you type into the search bar: *funny cat videos*.\n\nIn a transformer: the token that is asking.")
        )
    with b:
        st.subheader("🔑 " + _("Keys"))
        st.markdown(
            _(
                "What the search engine compares your query with: the **video titles**.\n\n"
                "In a transformer: every token's key vector."
            )
        )
    with c:
        st.subheader("📦 " + _("Values"))
        st.markdown(_("What you get back: the **videos** themselves.\n\nIn a transformer: every token's value vector."))


def three_ways_section() -> None:
    """Dictionary, search engine, attention, and the temperature between them."""
    st.header(_("Three ways to answer"))
    st.markdown(
        "\n".join(
            (
                "1. "
                + _(
                    "**A dictionary** answers only an exact key. One weight is 1, all the others are 0. "
                    "*Cute kittens* ≠ *funny cats*: miss."
                ),
                "2. " + _("**A search engine (top-k)** scores every title, keeps the k best and throws the rest away."),
                "3. "
                + _(
                    "**Attention** keeps *every* title, with a weight: `w = softmax(q·k / T)`. The answer is the "
                    "weighted average of all values: mostly the best matches, a little of everything else."
                ),
            )
        )
    )
    st.info(
        _(
            "The temperature T is the dial between them: T → 0 gives the dictionary's single winner; "
            "large T gives every key the same weight (average pooling)."
        )
    )


def three_vectors_section() -> None:
    """Why a query separate from its key."""
    st.header(_("Why three vectors, not one?"))
    explain(  # folded in presentation mode
        _(
            "If a word used the same vector to ask and to be found, relevance would be **symmetric**: *Riley → dog* "
            "would be as strong as *dog → Riley*. Real relations are not symmetric, so a transformer gives every "
            "token a separate **query** (what I look for) and **key** (what I offer). Our multilingual encoder does "
            "the same thing in miniature: E5 encodes a query with `query:` and a title with `passage:`."
        )
    )


def main() -> None:
    roles_section()
    three_ways_section()
    three_vectors_section()
    st.page_link("ui/pages/retrieval.py", label=_("Try it: three retrievals side by side"), icon=":material/search:")


main()
