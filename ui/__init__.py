"""Streamlit pages and UI helpers: widgets and rendering only, no maths."""
