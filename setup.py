"""Builds the wheel with the policy folder inside the package.

`prompts/` stays at the top of the repository, where people editing a policy look for it; a
built wheel carries it as `plugin/prompts/`, so an installed MakeRight (`pip install .`,
`pipx`) finds its default policy without the repository.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class build_py_with_policy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads prompts/ from the checkout
        target = Path(self.build_lib) / "plugin" / "prompts"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(ROOT / "prompts", target)


setup(cmdclass={"build_py": build_py_with_policy})
