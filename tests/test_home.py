"""Home, the navigation and the catalog of demos."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from app.catalog import DEMOS, SECTIONS, demos_in
from tests.apptest_util import ROOT, assert_clean, run_page


def test_home_runs_and_links_every_demo():
    app = run_page("Home.py")
    assert_clean(app)
    assert app.title[0].value == "Attention Lab"
    links = app.get("page_link")
    assert len(links) == len(DEMOS)
    table = app.table[0].value
    assert list(table["Demo"])[1:-1] == [demo.title for demo in DEMOS]


def test_workshop_plans_add_up():
    app = run_page("Home.py")
    table = app.table[0].value
    long_plan, short_plan = (column for column in table.columns if column.endswith("plan"))
    for plan in (long_plan, short_plan):
        minutes = [int(value) for value in table[plan] if value != "self-study"]
        assert plan == f"{sum(minutes)}-minute plan"
    assert long_plan == "90-minute plan" and short_plan == "60-minute plan"


def test_headings_do_not_skip_a_level():
    app = run_page("Home.py")
    assert [item.tag for item in app.header] and not any(item.tag != "h2" for item in app.header)


def test_fully_masked_rows_behave_as_home_says():
    """Home: SDPA gives zero weights to a query with no allowed key; nn.MultiheadAttention
    uses True = ignore, and returns NaN for that row when it returns weights (its default)."""
    import torch
    import torch.nn.functional as F

    from lab.attention import scaled_dot_product_attention

    q = torch.randn(1, 2, 4, dtype=torch.float64)
    allowed = torch.tensor([[[True, True], [False, False]]])
    sdpa = F.scaled_dot_product_attention(q, q, q, attn_mask=allowed)
    assert torch.equal(sdpa[0, 1], torch.zeros(4, dtype=torch.float64))
    _, weights = scaled_dot_product_attention(q.numpy(), q.numpy(), q.numpy(), mask=allowed.numpy())
    assert (weights[0, 1] == 0).all()

    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True, dtype=torch.float64)
    ignore = ~allowed[0]  # the opposite convention: True = may NOT attend
    out, mha_weights = mha(q, q, q, attn_mask=ignore)
    assert torch.isnan(mha_weights[0, 1]).all() and torch.isnan(out[0, 1]).all()
    assert not torch.isnan(mha_weights[0, 0]).any()


def test_home_does_not_import_torch():
    """Run Home in a fresh interpreter and check torch never got imported."""
    script = textwrap.dedent(
        f"""
        import sys
        from streamlit.testing.v1 import AppTest
        app = AppTest.from_file({str(ROOT / "Home.py")!r}, default_timeout=60).run()
        assert not app.exception, app.exception
        heavy = sorted(name for name in ("torch", "sklearn") if name in sys.modules)
        print("imported:", heavy)
        sys.exit(1 if "torch" in heavy else 0)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_catalog_is_consistent():
    slugs = [demo.slug for demo in DEMOS]
    assert len(set(slugs)) == len(slugs)
    assert sum(len(demos_in(section)) for section in SECTIONS) == len(DEMOS)
    for demo in DEMOS:
        assert demo.path.is_file(), f"{demo.file} is missing"
        assert demo.path.parent == ROOT / "demos"
        assert demo.promise.endswith(".")


def test_no_pages_folder():
    """A folder named pages/ switches Streamlit back to its old multipage mode (see Home.py)."""
    assert not (ROOT / "pages").exists()


def test_readme_lists_every_page():
    readme = (ROOT / "README.md").read_text()
    for demo in DEMOS:
        assert demo.title in readme, f"README does not list {demo.title!r}"


def test_lab_never_imports_streamlit():
    for path in (ROOT / "lab").rglob("*.py"):
        source = path.read_text()
        assert "import streamlit" not in source and "from streamlit" not in source, path
