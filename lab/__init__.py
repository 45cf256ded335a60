"""Attention Lab's teaching core: the mathematics behind every page.

Shared pieces sit at the top (``attention``, ``charts``, ``text``, ``checks``,
``exercises``, ``torch_utils``) and each demo has a subpackage named as its
page slug (``lab.masked_attention``, ``lab.multi_head``, ...). Nothing in
``lab`` imports Streamlit, and no package ``__init__`` imports torch: only
``train.py`` modules do, and a page imports them inside the function that trains.
"""
