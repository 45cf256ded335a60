"""Mutation testing of one module of the teaching core with its own unit tests (issue #17).

    make mutants MODULE=lab/attention.py TESTS="tests/test_attention.py"
    .venv/bin/python scripts/mutants.py lab/attention.py tests/test_attention.py

mutmut changes one operator or constant of the module at a time and runs the
tests against each change ("mutant"); a mutant that no test notices
"survives", and shows a number the tests do not pin down. The run happens in a
scratch copy of the repository (mutmut writes a ``mutants/`` tree beside the
code), so the working tree is never touched. Prints the counts, the score
(killed, timeouts included, over all mutants) and the diff of every survivor,
and writes them to artifacts/mutants/<module>.json. It takes minutes per
module, so it is a documented command, not part of CI; docs/testing.md holds
the latest scores and why each remaining survivor is left.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {"killed", "timeout", "segfault"}  # outcomes where a test noticed the change


def scratch_copy(destination: Path) -> None:
    """Copy the tracked and new (not ignored) files of the repository into ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def configure(scratch: Path, module: str, tests: list[str]) -> None:
    """Point the copy's ``[tool.mutmut]`` (pyproject.toml) at one module and its tests."""
    package = module.split("/")[0]
    chosen = {
        "source_paths": [package],
        "only_mutate": [module],
        "pytest_add_cli_args_test_selection": tests,
    }
    pyproject = scratch / "pyproject.toml"
    lines = pyproject.read_text().splitlines()
    section = lines.index("[tool.mutmut]")
    for number in range(section + 1, len(lines)):
        if lines[number].startswith("["):
            break
        key = lines[number].split("=")[0].strip()
        if key in chosen:
            lines[number] = f"{key} = {json.dumps(chosen[key])}"
    pyproject.write_text("\n".join(lines) + "\n")


def results(scratch: Path, mutmut: Path) -> dict[str, str]:
    """Mutant name -> outcome, from ``mutmut results --all true``."""
    listing = subprocess.run(
        [str(mutmut), "results", "--all", "true"],
        cwd=scratch,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    outcome = {}
    for line in listing.splitlines():
        if ":" in line:
            name, status = line.rsplit(":", 1)
            outcome[name.strip()] = status.strip()
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="e.g. lab/attention.py")
    parser.add_argument("tests", nargs="+", help="test files or folders that cover it")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args()
    mutmut = Path(sys.executable).parent / "mutmut"
    if not mutmut.exists():
        sys.exit("mutmut is not installed: `make mutants` installs requirements-dev.txt first")
    scratch = Path(tempfile.mkdtemp(prefix="mutants-"))
    try:
        scratch_copy(scratch)
        configure(scratch, args.module, args.tests)
        # One BLAS/OpenMP thread: mutmut forks its workers, and an OpenMP pool started before
        # the fork (k-means in scikit-learn) hangs in the child, which mutmut reports as timeouts.
        threads = {
            name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        }
        environment = {**os.environ, **threads, "PYTHONPATH": str(scratch)}
        subprocess.run([str(mutmut), "run"], cwd=scratch, env=environment, check=False)
        outcome = results(scratch, mutmut)
        survivors = sorted(name for name, status in outcome.items() if status == "survived")
        diffs = {
            name: subprocess.run(
                [str(mutmut), "show", name], cwd=scratch, capture_output=True, text=True
            ).stdout
            for name in survivors
        }
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    total = len(outcome)
    killed = sum(status in KILLED for status in outcome.values())
    counts: dict[str, int] = {}
    for status in outcome.values():
        counts[status] = counts.get(status, 0) + 1
    for name in survivors:
        print(diffs[name])
    score = killed / total if total else 0.0
    print(
        f"\n{args.module}: {total} mutants, {killed} killed, {len(survivors)} survived "
        f"({score:.0%}); {counts}"
    )
    out = ROOT / "artifacts" / "mutants" / (args.module.replace("/", "_") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"module": args.module, "tests": args.tests, "counts": counts, "score": score}
    out.write_text(json.dumps({**report, "survivors": diffs}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
