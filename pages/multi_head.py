import streamlit as st

from app_ui import page_header

page_header("multi_head")
st.info("This demo is being built.")
