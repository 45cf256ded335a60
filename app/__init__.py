"""Everything that imports Streamlit and is shared by the pages.

``ui`` (header, controls bound to the address), ``charts`` (the one way to
draw a chart), ``runs`` (the one store for retrained runs), ``exercises``
(checked answers and progress) and ``catalog`` (the list of demos, no
Streamlit). Nothing here imports torch.
"""
