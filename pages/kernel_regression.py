import streamlit as st

from app_ui import page_header

page_header("kernel_regression")
st.info("This demo is being built.")
