"""Home, the navigation and the catalog of demos."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from lab.catalog import DEMOS, SECTIONS, demos_in
from tests.apptest_util import ROOT, assert_clean, run_page


def test_home_runs_and_links_every_demo():
    app = run_page("Home.py")
    assert_clean(app)
    assert app.title[0].value == "Attention Lab"
    links = app.get("page_link")
    assert len(links) == len(DEMOS)
    table = app.table[0].value
    assert list(table["Demo"]) == [demo.title for demo in DEMOS]


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
