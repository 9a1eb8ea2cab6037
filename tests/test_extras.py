"""gosstand's dependencies split by use: the base install serves the mocks, the extras of
``pyproject.toml`` add the load runs, reports, conformance suite and container stack.

The base is checked in a subprocess that cannot import any extra's package (a meta-path finder
refuses them, as if they were not installed): every module of ``gosstand.mocks`` imports, each
service's app answers its health route, ``gosstand up --help`` works — and every part that needs
an extra says which one to install, with the command that installs it. :data:`gosstand.extras.EXTRAS`,
which those messages come from, is held to ``pyproject.toml``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from gosstand.extras import EXTRAS, INCLUDES

ROOT = Path(__file__).resolve().parents[1]

#: Run in the subprocess: refuse the extras' modules, then do what a base install must do.
WITHOUT_EXTRAS = r'''
import contextlib, importlib, importlib.abc, io, json, pkgutil, sys, tempfile
from pathlib import Path

BLOCKED = set(sys.argv[1].split(","))

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
'''


def _base_only(script: str) -> dict:
    """Run ``script`` (which prints one JSON line last) with every extra's module refused."""
    blocked = sorted({name for names in EXTRAS.values() for name in names})
    completed = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS + script, ",".join(blocked)], capture_output=True,
                               text=True, timeout=120, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_mocks_import_and_serve_with_no_extra_installed() -> None:
    found = _base_only(r'''
import gosstand.mocks
failed = {}
for info in pkgutil.walk_packages(gosstand.mocks.__path__, "gosstand.mocks."):
    try:
        importlib.import_module(info.name)
    except Exception as error:
        failed[info.name] = f"{type(error).__name__}: {error}"
from starlette.testclient import TestClient
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.settings import Settings
health = {}
with tempfile.TemporaryDirectory() as state:
    for service in ("esia", "utko", "fts"):
        settings = Settings.in_state_dir(service, f"{service}-1", Path(state), control_token="t")
        with TestClient(create_app(settings)) as client:
            health[service] = client.get("/_gosstand/health").status_code
from gosstand.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    main(["up", "--help"])
print(json.dumps({"failed": failed, "health": health, "up": "--replicas" in out.getvalue(),
                  "loaded": sorted(name for name in sys.modules if name.partition(".")[0] in BLOCKED)}))
''')
    assert found["failed"] == {}
    assert found["health"] == {"esia": 200, "utko": 200, "fts": 200}
    assert found["up"] and found["loaded"] == []


def test_each_part_that_needs_an_extra_names_it() -> None:
    said = _base_only(r'''
from gosstand.cli import main
told = {}
for command in (["peak"], ["worker", "--master-host", "x"], ["report", "x"], ["replay", "x.log"], ["conformance"],
                ["containers", "build"],
                ["up", "--backend", "containers"], ["seed", "--state-dir", "x"]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(command)
    told[command[0] + (" containers" if command[0] == "up" else "")] = [code, err.getvalue()]
for module in ("gosstand.loadtests.users", "gosstand.reports.build", "gosstand.scenarios.identities",
               "gosstand.stand.inprocess"):
    try:
        importlib.import_module(module)
        told[module] = "imported"
    except ImportError as error:
        told[module] = str(error)
from gosstand.stand.containers import docker_unavailable_reason
told["docker_unavailable_reason"] = docker_unavailable_reason()
from gosstand.mocks.core.serve import server_refusal
told["GOSSTAND_SERVER=uvicorn"] = server_refusal("uvicorn")
told["granian"] = server_refusal("granian")
print(json.dumps(told))
''')
    expected = {"peak": "load", "worker": "load", "report": "report", "replay": "load", "conformance": "conformance",
                "containers": "containers", "up containers": "containers", "seed": "load",
                "gosstand.loadtests.users": "load", "gosstand.reports.build": "report",
                "gosstand.scenarios.identities": "load", "gosstand.stand.inprocess": "conformance",
                "docker_unavailable_reason": "containers", "GOSSTAND_SERVER=uvicorn": "uvicorn"}
    assert said.pop("granian") is None  # the default server is the base install's
    for what, extra in expected.items():
        told = said[what]
        if isinstance(told, list):
            code, told = told
            assert code == 2, (what, told)
        assert f"pip install 'gosstand[{extra}]'" in told and "missing: " in told, (what, told)
    assert "pip install 'gosstand[conformance]'" in said["gosstand.scenarios.identities"]  # faker is in both


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_extras_table_agrees_with_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    extras = {extra: [_name(r) for r in requirements] for extra, requirements in optional.items()}
    assert set(EXTRAS) == set(extras) - {"dev"}
    assert {e for r in project["optional-dependencies"]["dev"] if r.startswith("gosstand[")
            for e in r[len("gosstand["):-1].split(",")} == set(EXTRAS)  # [dev] keeps everything
    providers = metadata.packages_distributions()
    base = {_name(r) for r in project["dependencies"]}
    for extra, modules in EXTRAS.items():
        listed = {name for name in extras[extra] if name != "gosstand"}
        listed |= {name for included in INCLUDES.get(extra, ()) for name in extras[included]}
        required = listed | {_name(r) for name in listed for r in (metadata.requires(name) or []) if ";" not in r}
        for module in modules:  # each module the messages name comes with the extra, none with the base
            distributions = {d.lower().replace("_", "-") for d in providers[module]}
            assert distributions & required, (extra, module, distributions)
            assert not distributions & base, (extra, module)
        for name in extras[extra]:  # and each distribution the extra lists gives a module it names
            if name != "gosstand":
                provided = {m for m, ds in providers.items() if name in {d.lower().replace("_", "-") for d in ds}}
                assert provided & set(modules) or name in {"pyjwt"}, (extra, name, sorted(provided)[:5])


def test_the_pytest_plugin_loads_without_the_suites_extra_and_the_suite_says_which(tmp_path: Path) -> None:
    """A project with its own pytest and a base install of gosstand: the plugin (an entry point,
    loaded in every run) must not break its tests; the conformance suite must name its extra."""
    (tmp_path / "test_own.py").write_text("def test_own():\n    assert True\n")
    blocked = ",".join(name for name in EXTRAS["conformance"] if name != "pytest")

    def pytest_run(*arguments: str) -> subprocess.CompletedProcess[str]:
        script = WITHOUT_EXTRAS + ("import pytest\nsys.exit(pytest.main(['-p', 'no:cacheprovider', '-p', "
                                   "'gosstand.conformance.plugin', '--assert=plain', '--noconftest', "
                                   f"*{list(arguments)!r}]))\n")
        return subprocess.run([sys.executable, "-c", script, blocked], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

    own = pytest_run(str(tmp_path / "test_own.py"))
    assert own.returncode == 0 and "1 passed" in own.stdout, own.stdout[-2000:]
    suite = pytest_run("--pyargs", "gosstand.conformance", "--collect-only", "-q")
    assert suite.returncode != 0 and "pip install 'gosstand[conformance]'" in suite.stdout, suite.stdout[-2000:]
