"""CI runs exactly what the README tells a contributor to run, so a green build means the
documented command passes, lint and type checks included."""
from __future__ import annotations

import re

from tests.architecture import ROOT


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)
    return blocks[1].strip()


def test_ci_ends_with_the_readme_test_command_verbatim():
    lines = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    assert lines[-1] == _readme_test_command()


def test_the_readme_test_command_runs_ruff_and_mypy_before_the_tests():
    steps = [step.strip() for step in _readme_test_command().split("&&")]
    assert steps.index(".venv/bin/ruff check .") < steps.index(".venv/bin/mypy") \
        < next(i for i, step in enumerate(steps) if step.startswith(".venv/bin/pytest"))
