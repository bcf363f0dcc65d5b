"""Altair chart builders, one module per page family, and one theme. Tidy frames in, chart objects out.

Plots import the models, never the other way round; nothing here imports streamlit.
"""
