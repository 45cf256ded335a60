import streamlit as st

from app_ui import page_header

page_header("soft_vs_hard")
st.info("This demo is being built.")
