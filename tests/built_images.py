"""The container tests' images: built, or reused while unchanged (digest labels), and the test
skipped with the reason where no Docker daemon answers or debootstrap is missing."""

from __future__ import annotations

import pytest
from gosstand.stand.containers import docker_unavailable_reason
from gosstand.stand.images import ImageBuildError, ImageSet, build_images


def images_or_skip(*, load: bool = False) -> ImageSet:
    reason = docker_unavailable_reason()
    if reason:
        pytest.skip(reason)
    try:
        return build_images(load=load, log=lambda message: None)
    except ImageBuildError as error:
        if "not installed" in str(error):
            pytest.skip(str(error))
        raise
