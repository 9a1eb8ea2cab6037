"""What the images hold: the mocks' image gosstand's base install only (what serves the mocks —
none of the extras' packages, and a command that needs one says which), the load image the
``[load]`` extra the Kubernetes base's Locust pod runs. Marked ``containers``; the images are
built or reused (digest labels), the containers run without a network."""

from __future__ import annotations

import json
import subprocess

import pytest
from built_images import images_or_skip
from gosstand.stand.images import ImageSet

from gosstand.extras import EXTRAS

pytestmark = [pytest.mark.containers, pytest.mark.slow]

#: Prints which of the extras' modules the image's Python can import.
IMPORTABLE = ("import importlib.util, json, sys; print(json.dumps([m for m in sys.argv[1:] "
              "if importlib.util.find_spec(m)]))")


@pytest.fixture(scope="module")
def images() -> ImageSet:
    return images_or_skip(load=True)


def _run(image: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "run", "--rm", "--network", "none", image, *command], capture_output=True,
                          text=True, timeout=120)


def test_the_mocks_image_holds_none_of_the_extras(images: ImageSet) -> None:
    modules = sorted({name for names in EXTRAS.values() for name in names})
    found = _run(images.mocks, "python", "-c", IMPORTABLE, *modules)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == []
    peak = _run(images.mocks, "gosstand", "peak")
    assert peak.returncode == 2 and "pip install 'gosstand[load]'" in peak.stderr


def test_the_load_image_runs_locust_on_the_journeys(images: ImageSet) -> None:
    assert images.load is not None
    found = _run(images.load, "python", "-c", IMPORTABLE, *EXTRAS["load"], *EXTRAS["report"])
    assert found.returncode == 0, found.stderr
    assert set(json.loads(found.stdout)) == {*EXTRAS["load"], *EXTRAS["report"]}
    # what the Kubernetes base's Locust pod runs, up to Locust reading the locustfile
    listed = _run(images.load, "sh", "-c", "locust -f \"$(python -c 'import gosstand.loadtests as l, pathlib; "
                  "print(pathlib.Path(l.__file__).with_name(\"locustfile.py\"))')\" --list")
    assert listed.returncode == 0, listed.stderr[-2000:]
