"""The wheel ships every package the code imports.

``[tool.setuptools] packages`` lists the packages by name, and the editable install a developer
works in finds a sub-package missing from that list all the same: only the wheel — which the
container image installs — lacks it, and a container replica then dies at start on an import.
So each folder with an ``__init__.py`` under a mapped folder must be listed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set()
    for package, folder in setuptools["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *parts)))
    assert sorted(found - set(setuptools["packages"])) == []
