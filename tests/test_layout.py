"""The layout rules of issue #10, checked on the tree: one house, no circles, thin pages."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from app.catalog import DEMOS
from tests.apptest_util import ROOT

PACKAGES = ("lab", "app")
CONTROLS = {"slider", "select_slider", "selectbox", "radio", "toggle", "checkbox",
            "number_input", "text_input", "segmented_control", "pills", "multiselect"}  # fmt: skip
DRAWING = {"vega_lite_chart", "altair_chart"}


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path) -> set[str]:
    """Modules of the lab and app imported at module level (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def test_no_import_circle():
    modules = {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }

    def runs(imported: str, importer: str) -> set[str]:
        """What importing ``imported`` runs: it, and the packages on the way, except the
        importer's own packages (already running, and Python lets a submodule import its
        siblings through them). ``from <own package> import name`` stays an edge."""
        parts = imported.split(".")
        on_the_way = {".".join(parts[:end]) for end in range(2, len(parts))}
        own = {importer.rsplit(".", depth)[0] for depth in range(1, importer.count(".") + 1)}
        return {imported} | (on_the_way - own)

    graph = {
        name: {
            module
            for imported in imports_of(path)
            for module in runs(imported, name)
            if module in modules and module != name
        }
        for name, path in modules.items()
    }
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path, name, other]))
            if other not in state:
                visit(other, [*path, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_lab_never_imports_streamlit():
    for path in (ROOT / "lab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(name.split(".")[0] == "streamlit" for name in names), path


@pytest.mark.parametrize("package", sorted({demo.slug for demo in DEMOS}))
def test_each_demo_package_imports_without_torch(package):
    script = textwrap.dedent(
        f"""
        import sys
        import lab.{package}
        assert "torch" not in sys.modules, "lab.{package} imported torch"
        assert "streamlit" not in sys.modules, "lab.{package} imported streamlit"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("demo", DEMOS, ids=lambda demo: demo.slug)
def test_pages_are_thin_and_use_the_shared_plumbing(demo):
    source = demo.path.read_text()
    assert len(source.splitlines()) <= 450, f"{demo.file} is over 450 lines"
    assert (ROOT / "lab" / demo.slug / "__init__.py").is_file(), f"no package lab/{demo.slug}/"
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "st"
        ):
            assert node.attr not in CONTROLS, (
                f"{demo.file}: st.{node.attr}: use app.ui (bound to the address)"
            )
            assert node.attr not in DRAWING, f"{demo.file}: st.{node.attr}: use app.charts.draw"
