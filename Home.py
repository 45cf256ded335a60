"""Attention Lab: the entry point. `streamlit run Home.py` starts here.

Page configuration and navigation, nothing else: the Home text lives in
demos/home.py and each demo in demos/<slug>.py. Nothing imported here pulls
in torch, so the first screen opens fast.

The page files live in demos/, not pages/: Streamlit still treats a folder
named pages/ as the old automatic multipage app, and a visitor whose first
request is a deep link (say /masked_attention, right after the server starts)
then gets that old sidebar and a page run without this script.
tests/browser/test_browser.py opens a deep link on a fresh server to keep it so.
"""

import streamlit as st

from app import process
from app.catalog import SECTIONS, demos_in

st.set_page_config(
    page_title="Attention Lab",
    page_icon="🎯",  # an emoji icon is drawn by the browser; a material icon is fetched from Google
    layout="wide",
    initial_sidebar_state="expanded",
)

process.configure()  # once per server process: one BLAS thread (see app/process.py)

home = st.Page("demos/home.py", title="Home", icon=":material/home:", url_path="home", default=True)
sections = {"Start here": [home]}
for section in SECTIONS:
    sections[section] = [
        st.Page(demo.file, title=demo.title, icon=demo.icon, url_path=demo.slug)
        for demo in demos_in(section)
    ]
st.navigation(sections, position="sidebar", expanded=True).run()
