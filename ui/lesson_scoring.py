"""Placeholder while the page is built."""

import streamlit as st

st.title("lesson_scoring")
st.info("This page is being built.")
