"""The package surface: everything it promises is importable, and it stays torch-free."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import lab.position
from lab.position import compute, order, rotary_embedding

REPOSITORY = Path(__file__).resolve().parents[2]


def test_every_public_name_is_exported_from_its_home_module():
    homes = (compute, order, rotary_embedding)
    for name in lab.position.__all__:
        exported = getattr(lab.position, name)
        assert any(getattr(home, name, None) is exported for home in homes), name


def test_the_page_caps_fit_together():
    assert lab.position.MAX_TOKENS <= lab.position.MAX_LENGTH
    assert lab.position.MAX_SENTENCE_D_MODEL <= lab.position.MAX_D_MODEL


def test_importing_the_package_loads_neither_torch_nor_streamlit():
    probe = (
        "import sys, lab.position; "
        "print(sorted(m for m in ('torch', 'streamlit') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == "[]"


def test_no_module_is_shadowed_by_a_function_of_the_same_name():
    # A re-exported function named like its module would replace the module on the
    # package (lab.position.rotary was once both), and ``from lab.position import``
    # would then hand out the wrong one.
    for module in pkgutil.iter_modules(lab.position.__path__):
        # Import it first: the package gets a module's attribute only once it is imported.
        importlib.import_module(f"lab.position.{module.name}")
        attribute = getattr(lab.position, module.name)
        assert isinstance(attribute, types.ModuleType), module.name
