"""Placeholder while the page is built."""

import streamlit as st

st.title("transformer_page")
st.info("This page is being built.")
