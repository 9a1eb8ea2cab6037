"""mypy sees each top-level folder under its package name through the links in ``.typecheck/``.

The folders are packages only by ``[tool.setuptools.package-dir]`` (``mocks/`` is ``gosstand.mocks``),
which mypy does not read; ``.typecheck/gosstand/`` gives it the same mapping as one link per folder
(the reason is written beside ``[tool.mypy]`` in pyproject.toml). A package added to package-dir
without its link, or left out of mypy's package list, would silently go unchecked: these tests say so.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINKS = ROOT / ".typecheck" / "gosstand"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_dirs() -> dict[str, str]:
    return _pyproject()["tool"]["setuptools"]["package-dir"]


def test_every_mapped_folder_has_a_relative_link_under_its_package_name() -> None:
    mapped = _package_dirs()
    # gosstand itself is found in the project root, beside the links' folder
    assert mapped.pop("gosstand") == "gosstand"
    expected = {name.removeprefix("gosstand."): folder for name, folder in mapped.items()}
    links = {entry.name: entry for entry in LINKS.iterdir()}
    assert set(links) == set(expected), "the links in .typecheck/gosstand/ differ from package-dir"
    for name, link in links.items():
        assert link.is_symlink() and not os.path.isabs(os.readlink(link)), f"{link} is not a relative link"
        assert link.resolve() == ROOT / expected[name], f"{link} points elsewhere than {expected[name]}/"


def test_mypy_checks_every_package_of_package_dir() -> None:
    assert set(_pyproject()["tool"]["mypy"]["packages"]) == set(_package_dirs())
