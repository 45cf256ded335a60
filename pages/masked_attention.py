import streamlit as st

from app_ui import page_header

page_header("masked_attention")
st.info("This demo is being built.")
