"""The glossary: every term the app uses, in English, 中文 and Español side by side (issue 13)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.components.glossary import glossary_rows
from ui.components.i18n import _
from ui.components.present import explain

st.title(_("Glossary"))
explain(  # folded in presentation mode: the table comes up
    _(
        "The words the app and the articles use, in the three languages. The Chinese terms are the ones "
        "articles 001-003 use (Simplified); the Traditional column is article 000's; the Spanish terms "
        "are article 004's."
    )
)
st.table(pd.DataFrame(glossary_rows()), hide_index=True)  # a static table: every meaning wraps, none is cut
