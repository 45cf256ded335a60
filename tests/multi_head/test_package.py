"""The lab.multi_head package: its public names, and what importing it pulls in."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import lab.multi_head as package

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lab" / "multi_head"


def test_every_public_name_is_importable_from_the_package():
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    from lab.multi_head import multi_head_attention  # the name the alignment page uses

    assert multi_head_attention is package.compute.multi_head_attention


def test_importing_the_package_loads_neither_torch_nor_streamlit():
    code = "import sys, lab.multi_head; print('torch' in sys.modules, 'streamlit' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_train_py_imports_torch_and_nothing_imports_streamlit():
    for path in sorted(PACKAGE.glob("*.py")):
        modules = imported_modules(path)
        assert "streamlit" not in modules, path.name
        assert ("torch" in modules) == (path.name == "train.py"), path.name


def test_no_module_level_getattr():
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "__getattr__" not in names, path.name


@pytest.mark.parametrize(
    "old",
    [
        "lab.multihead",
        "lab.multihead_charts",
        "lab.hand_heads",
        "lab.head_patterns",
        "lab.tiny_transformer",
        "lab.toy_language",
    ],
)
def test_the_old_flat_modules_are_gone(old):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(old)


def test_renamed_names_have_one_definition():
    assert not hasattr(package, "tokenize") and callable(package.toy_tokens)
    assert not hasattr(package, "TrainConfig") and package.TinyTrainConfig().seed == 3
    assert not hasattr(package.compute, "_as_matrix")
    assert not hasattr(package.compute, "_check_num_heads")


def test_the_checkpoint_files_carry_the_page_slug():
    checkpoints = ROOT / "lab" / "checkpoints"
    assert (checkpoints / "multi_head.npz").exists() and (checkpoints / "multi_head.json").exists()
    assert not (checkpoints / "tiny_transformer.npz").exists()
    assert package.CHECKPOINT == checkpoints / "multi_head.npz"
