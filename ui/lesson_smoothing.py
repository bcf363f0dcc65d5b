"""Placeholder while the page is built."""

import streamlit as st

st.title("lesson_smoothing")
st.info("This page is being built.")
