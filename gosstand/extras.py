"""The optional parts of gosstand and what each needs installed, so that a user who lacks one is told
which extra to install instead of meeting a bare ``No module named 'locust'``.

The base install serves the mocks; the extras of ``pyproject.toml`` add the load runs, the reports,
the conformance suite, the container stack and the second HTTP server. :data:`EXTRAS` lists each extra's packages by the
names they are imported as (``tests/test_extras.py`` holds it to ``pyproject.toml``). Code that
needs an extra calls :func:`require` before importing from it: a package's ``__init__`` for a whole
layer (the load runs, the reports), a module or a function for one library.
"""

from __future__ import annotations

from importlib.util import find_spec

__all__ = ["EXTRAS", "MissingExtra", "missing", "require"]

#: extra → the top-level modules its distributions provide (``gosstand[load]`` includes ``[report]``).
EXTRAS: dict[str, tuple[str, ...]] = {
    "report": ("hdrh", "matplotlib", "numpy", "jinja2"),
    "load": ("locust", "gevent", "faker", "urllib3", "ijson", "wcmatch"),
    "conformance": ("pytest", "hypothesis", "schemathesis", "respx", "faker", "jinja2", "werkzeug"),
    "containers": ("testcontainers", "docker"),
    "uvicorn": ("uvicorn", "uvloop", "httptools"),
}
#: extras that bring others with them
INCLUDES: dict[str, tuple[str, ...]] = {"load": ("report",)}


class MissingExtra(ImportError):
    """What was asked for needs an extra of gosstand that is not installed; the message says which."""


def _absent(module: str) -> bool:
    try:
        return find_spec(module) is None
    except ImportError:  # a finder that refuses it, or a parent package that is missing
        return True


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` (and of the extras it includes) that cannot be imported here."""
    names = [*EXTRAS[extra], *(name for included in INCLUDES.get(extra, ()) for name in EXTRAS[included])]
    return [name for name in dict.fromkeys(names) if _absent(name)]


def require(what: str, extra: str, *, modules: tuple[str, ...] | None = None) -> None:
    """Raise :class:`MissingExtra` when ``what`` cannot run for want of ``extra`` (or of the
    ``modules`` of it that ``what`` imports). Every extra that provides all the missing modules is
    named, ``extra`` first."""
    absent = missing(extra) if modules is None else [name for name in modules if _absent(name)]
    if not absent:
        return
    extras = [extra, *(other for other, names in EXTRAS.items() if other != extra and set(absent) <= set(names))]
    raise MissingExtra(f"{what} needs gosstand's {' or '.join(f'[{e}]' for e in extras)} extra, which is not "
                       f"installed (missing: {', '.join(absent)}): "
                       + " or ".join(f"pip install 'gosstand[{e}]'" for e in extras))
