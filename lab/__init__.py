"""Attention Lab's teaching core: the mathematics behind every page.

Nothing in ``lab`` imports Streamlit, and importing ``lab`` (or ``lab.catalog``,
which Home reads) does not import torch: modules that need torch import it
themselves, so Home opens fast.
"""
