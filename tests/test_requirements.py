"""requirements.txt installs on Streamlit Community Cloud as it is: checked without installing.

pip resolves the file for Python 3.11 and 3.12 on Linux x86_64 (every manylinux
tag up to glibc 2.36) from the indexes this machine reaches, binary wheels
only. PyTorch's CPU index is not reachable from the lab machines, so torch is
checked in two parts: PyPI has a torch 2.13.0 wheel for each Python (the
version exists), and the pin in the file selects the CPU build when the CPU
index offers it (PEP 440: a pin without a local label matches ``2.13.0+cpu``,
and ``2.13.0+cpu`` sorts above ``2.13.0``, so pip prefers it).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.apptest_util import ROOT

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]


def _requirements() -> tuple[list[str], list[Requirement]]:
    options, pins = [], []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        (options if line.startswith("-") else pins).append(line)
    return options, [Requirement(pin) for pin in pins]


def _dry_run(requirements: list[str], python: str, *extra: str) -> dict:
    platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    command = [
        sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
        "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
        *platforms, "--retries", "1", "--timeout", "20", "--report", "-", *extra, *requirements,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_every_requirement_is_pinned_and_torch_comes_from_the_cpu_index():
    options, pins = _requirements()
    assert options == [f"--extra-index-url {CPU_INDEX}"]
    for pin in pins:
        assert str(pin.specifier).startswith("=="), f"{pin} is not pinned"
    torch = next(pin for pin in pins if pin.name == "torch")
    assert str(torch.specifier) == "==2.13.0"


def test_the_torch_pin_selects_the_cpu_build_when_it_is_offered():
    torch = next(pin for pin in _requirements()[1] if pin.name == "torch")
    assert torch.specifier.contains(Version("2.13.0+cpu"))
    assert Version("2.13.0+cpu") > Version("2.13.0")  # pip takes the highest match
    assert not SpecifierSet("==2.13.0").contains(Version("2.13.1+cpu"))


@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_requirements_resolve_for_linux_x86_64(python):
    _, pins = _requirements()
    rest = [str(pin) for pin in pins if pin.name != "torch"]
    report = _dry_run(rest, python)
    chosen = {
        item["metadata"]["name"].lower(): item["metadata"]["version"] for item in report["install"]
    }
    for pin in pins:
        if pin.name != "torch":
            assert pin.specifier.contains(Version(chosen[pin.name.lower()])), (pin, chosen)
    torch = _dry_run(["torch==2.13.0"], python, "--no-deps")
    (item,) = torch["install"]
    assert Version(item["metadata"]["version"]).public == "2.13.0"
