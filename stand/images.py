"""The container images of the stack, built with or without a registry, and reused when unchanged.

Two ways, one result (:class:`ImageSet`: the mocks, Redis and HAProxy image names, and on request
the load image):

``registry``
    ``docker/Dockerfile`` ``FROM python:3.11-slim``; Redis and HAProxy are the official images.
``offline``
    For machines no registry reaches (these, and air-gapped networks): ``debootstrap`` makes a
    Debian 12 root filesystem from the Debian mirror with python3, redis-server and haproxy,
    ``docker import`` turns it into ``gosstand-base:bookworm``, and ``docker/Dockerfile``,
    ``docker/redis.Dockerfile`` and ``docker/haproxy.Dockerfile`` build on it.

Either way the project goes in from a wheelhouse that ``pip wheel`` fills on the host, so image
builds never reach PyPI. The mocks' image holds gosstand's base install only (what serves the
mocks); ``gosstand-load`` (``--load``: Locust on the journeys, for the Kubernetes base's Locust pod)
is the same Dockerfile over a wheelhouse with the ``[load]`` extra. Offline builds run with
``network_mode="none"``; registry builds only apt-install Debian's GOST engine for OpenSSL on top of
the slim image.

Every image carries the label ``org.gosstand.hash``: a digest of what it was made from (the
package list and mirror for the base; the base, the project's sources and the Dockerfile for the
others). A build whose digest matches an existing image's label is skipped, which makes a warm
``gosstand containers build`` take about a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import require
from ..mocks.core.filelock import exclusive
from .protocol import StackError

if TYPE_CHECKING:
    import docker

__all__ = [
    "MODES",
    "HASH_LABEL",
    "ImageSet",
    "ImageBuildError",
    "build_images",
    "docker_client",
    "project_dir",
]

#: ``auto`` picks ``registry`` when the Python base image can be had, else ``offline``.
MODES = ("auto", "registry", "offline")
HASH_LABEL = "org.gosstand.hash"
#: On images only: containers inherit their image's labels, and ``org.gosstand=true`` on a
#: container is what ``gosstand containers clean`` removes.
APP_LABEL = "org.gosstand.image"

DEBIAN_SUITE = "bookworm"
#: libengine-gost-openssl: ESIA's GOST R 34.10-2012 signatures go through the system OpenSSL.
DEBIAN_PACKAGES = ("python3", "python3-venv", "redis-server", "haproxy", "ca-certificates", "libengine-gost-openssl")
BASE_IMAGE = f"gosstand-base:{DEBIAN_SUITE}"
REGISTRY_PYTHON = "python:3.11-slim"
REGISTRY_REDIS = "redis:7.2-bookworm"
REGISTRY_HAPROXY = "haproxy:2.8"

#: Wheels the image's interpreter needs beyond what ``pip wheel`` resolves for the host's: Debian
#: 12's Python is 3.11.2, and redis-py wants async-timeout below 3.11.3.
TARGET_EXTRAS = ("async-timeout>=4.0.3",)

#: What goes into the wheel: the project's packages and the files setuptools reads.
SOURCE_ROOTS = ("pyproject.toml", "README.md", "gosstand", "mocks", "scenarios", "conformance", "loadtests", "reports",
                "stand")

Log = Callable[[str], None]


class ImageBuildError(StackError):
    """An image could not be built (no debootstrap, no Docker daemon, a failed step) — so a container
    stack cannot start either: ``gosstand up`` and ``peak`` say so in one line, exit 2."""


@dataclass(frozen=True, kw_only=True)
class ImageSet:
    mocks: str
    redis: str
    haproxy: str
    #: ``registry`` or ``offline``: how the images were made.
    source: str
    #: The mocks' image with gosstand's ``[load]`` extra, when it was asked for.
    load: str | None = None


def docker_client() -> docker.DockerClient:
    """A client of the local daemon; :class:`ImageBuildError` when none answers."""
    require("the container images", "containers")
    from docker.errors import DockerException

    import docker

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except DockerException as error:
        raise ImageBuildError(f"no Docker daemon answers: {error}") from error
    return client


def project_dir() -> Path:
    """The source checkout the running gosstand was installed from (editable installs only)."""
    here = Path(__file__).resolve().parent.parent
    if not (here / "pyproject.toml").exists():
        raise ImageBuildError(f"{here} is not a gosstand source checkout: images are built from one")
    return here


def cache_dir() -> Path:
    """Where the wheelhouse and the debootstrap work area live (``GOSSTAND_CACHE`` overrides)."""
    root = os.environ.get("GOSSTAND_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gosstand"
    )
    return Path(root)


# -- digests -----------------------------------------------------------------------------------
def _digest(*parts: str | bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part if isinstance(part, bytes) else part.encode())
        sha.update(b"\0")
    return sha.hexdigest()[:24]


def _source_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in SOURCE_ROOTS:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
            )
    return sorted(files)


def source_digest(root: Path) -> str:
    """A digest of every file that ends up in the gosstand wheel."""
    parts: list[str | bytes] = []
    for path in _source_files(root):
        parts += [str(path.relative_to(root)), path.read_bytes()]
    return _digest(*parts)


def _mirror() -> str:
    return os.environ.get("GOSSTAND_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def base_digest() -> str:
    return _digest(DEBIAN_SUITE, _mirror(), *DEBIAN_PACKAGES, APP_LABEL)


# -- the daemon's images -----------------------------------------------------------------------
def _label_of(client: docker.DockerClient, image: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return (client.images.get(image).labels or {}).get(HASH_LABEL)
    except ImageNotFound:
        return None


def _present(client: docker.DockerClient, image: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(image)
        return True
    except ImageNotFound:
        return False


def _pull(client: docker.DockerClient, image: str) -> bool:
    """Whether ``image`` is here, pulling it if needed; ``False`` when no registry serves it."""
    from docker.errors import APIError

    if _present(client, image):
        return True
    repository, _, tag = image.partition(":")
    try:
        client.images.pull(repository, tag=tag or "latest")
        return True
    except APIError:
        return False


def _docker_build(
    client: docker.DockerClient, *, context: Path, dockerfile: str, tag: str, digest: str, buildargs: dict[str, str],
    network: str = "none",
) -> None:
    from docker.errors import BuildError

    try:
        client.images.build(
            path=str(context), dockerfile=dockerfile, tag=tag, buildargs=buildargs, rm=True, forcerm=True,
            labels={HASH_LABEL: digest, APP_LABEL: "true"}, network_mode=network, pull=False,
        )
    except BuildError as error:
        lines = "".join(str(item.get("stream", item.get("error", ""))) for item in error.build_log)
        raise ImageBuildError(f"docker build of {tag} failed:\n{lines[-4000:]}") from error


# -- the offline base image --------------------------------------------------------------------
def build_base_image(client: docker.DockerClient, *, force: bool = False, log: Log = print) -> str:
    """``gosstand-base:bookworm`` from a debootstrap root filesystem (reused when unchanged)."""
    digest = base_digest()
    if not force and _label_of(client, BASE_IMAGE) == digest:
        log(f"{BASE_IMAGE}: up to date")
        return BASE_IMAGE
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise ImageBuildError("debootstrap needs root to make the base image's root filesystem")
    work = cache_dir() / "rootfs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rootfs, tarball = work / "root", work / "root.tar"
    started = time.monotonic()
    log(f"{BASE_IMAGE}: debootstrap {DEBIAN_SUITE} from {_mirror()} (a few minutes)…")
    _run([debootstrap, "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}",
          DEBIAN_SUITE, str(rootfs), _mirror()], log)
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / leftover).glob("*"):
            if path.is_file():
                path.unlink()
    _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), "."], log)
    changes = [
        f"LABEL {HASH_LABEL}={digest} {APP_LABEL}=true",
        "ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        'CMD ["/bin/bash"]',
    ]
    repository, _, tag = BASE_IMAGE.partition(":")
    client.api.import_image_from_file(str(tarball), repository=repository, tag=tag, changes=changes)
    shutil.rmtree(work, ignore_errors=True)
    log(f"{BASE_IMAGE}: imported in {time.monotonic() - started:.0f}s")
    return BASE_IMAGE


def _run(command: list[str], log: Log) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ImageBuildError(f"{command[0]} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-4000:]}")


# -- the wheelhouse and the mocks image --------------------------------------------------------
def _copy_sources(root: Path, scratch: Path) -> None:
    for path in _source_files(root):
        target = scratch / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def build_wheelhouse(root: Path, *, extra: str = "", log: Log = print) -> Path:
    """Two directories of wheels under one: ``deps/`` (every dependency of the base install, or of
    ``extra`` in ``deps-<extra>/``; reused while ``pyproject.toml`` is unchanged) and ``project/``
    (the gosstand wheel, made afresh).

    The image installs them in two layers, so a change to the code alone rebuilds only the
    last, small one. The project is copied to a scratch directory first, so building its wheel
    leaves no ``build/`` or ``*.egg-info`` in the checkout.
    """
    wheelhouse = cache_dir() / "wheelhouse"
    deps, project = wheelhouse / _deps_folder(extra), wheelhouse / "project"
    deps_digest = _digest((root / "pyproject.toml").read_bytes(), *TARGET_EXTRAS)
    stamp = wheelhouse / f"{deps.name}.digest"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gosstand-src-") as scratch:
        _copy_sources(root, Path(scratch))
        if not (stamp.exists() and stamp.read_text() == deps_digest):
            log("wheelhouse: pip wheel gosstand's dependencies…")
            shutil.rmtree(deps, ignore_errors=True)
            _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(deps),
                  f"{scratch}[{extra}]" if extra else scratch, *TARGET_EXTRAS], log)
            for own in deps.glob("gosstand-*.whl"):
                own.unlink()
            stamp.write_text(deps_digest)
        shutil.rmtree(project, ignore_errors=True)
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(project), scratch],
             log)
    log(f"wheelhouse: ready in {time.monotonic() - started:.0f}s ({wheelhouse})")
    return wheelhouse


def _deps_folder(extra: str) -> str:
    return f"deps-{extra}" if extra else "deps"


def _build_from_dockerfile(
    client: docker.DockerClient, *, dockerfile: Path, tag: str, digest: str, base: str,
    wheelhouse: Path | None = None, extra: str = "", force: bool, log: Log,
) -> str:
    if not force and _label_of(client, tag) == digest:
        log(f"{tag}: up to date")
        return tag
    started = time.monotonic()
    previous = _image_id(client, tag)
    with tempfile.TemporaryDirectory(prefix="gosstand-build-") as context:
        shutil.copy2(dockerfile, Path(context) / "Dockerfile")
        if wheelhouse is not None:
            shutil.copytree(wheelhouse / _deps_folder(extra), Path(context) / "wheelhouse")
            shutil.copytree(wheelhouse / "project", Path(context) / "project")
        # Offline builds need no network; FROM python:3.11-slim apt-installs the GOST engine.
        _docker_build(client, context=Path(context), dockerfile="Dockerfile", tag=tag, digest=digest,
                      buildargs={"BASE": base}, network="none" if base == BASE_IMAGE else "host")
    if previous is not None and previous != _image_id(client, tag):
        _remove_quietly(client, previous)  # the superseded build, now untagged
    log(f"{tag}: built in {time.monotonic() - started:.0f}s")
    return tag


def _image_id(client: docker.DockerClient, tag: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return str(client.images.get(tag).id)
    except ImageNotFound:
        return None


def _remove_quietly(client: docker.DockerClient, image_id: str) -> None:
    from docker.errors import APIError

    try:
        client.images.remove(image_id)
    except APIError:
        pass  # still used by a container, or shared: leave it


def choose_mode(client: docker.DockerClient, mode: str) -> str:
    if mode not in MODES:
        raise ImageBuildError(f"image mode must be one of {MODES}, not {mode!r}")
    if mode != "auto":
        return mode
    return "registry" if _pull(client, REGISTRY_PYTHON) else "offline"


def build_images(
    *, mode: str | None = None, force: bool = False, load: bool = False, log: Log = print,
    client: docker.DockerClient | None = None,
) -> ImageSet:
    """Build (or reuse) every image the container stack needs and say which they are; with
    ``load`` the load image too.

    ``mode`` defaults to ``GOSSTAND_IMAGES`` or ``auto``.
    """
    client = client or docker_client()
    # Two builds at once (two CI jobs, two test sessions) would share the root filesystem's
    # scratch folder and the tags: the second waits, then finds the images up to date.
    with exclusive(cache_dir() / "build.lock"):
        return _build_images(client, mode=mode, force=force, load=load, log=log)


def _build_images(client: docker.DockerClient, *, mode: str | None, force: bool, load: bool, log: Log) -> ImageSet:
    mode = choose_mode(client, mode or os.environ.get("GOSSTAND_IMAGES", "auto"))
    root = project_dir()
    dockerfiles = root / "docker"
    sources = _digest(source_digest(root), *TARGET_EXTRAS)
    if mode == "registry":
        if not (_pull(client, REGISTRY_PYTHON) and _pull(client, REGISTRY_REDIS) and _pull(client, REGISTRY_HAPROXY)):
            raise ImageBuildError("the registry images cannot be pulled; use the offline build (--offline)")
        base, pulled_id = REGISTRY_PYTHON, client.images.get(REGISTRY_PYTHON).id
        if pulled_id is None:
            raise ImageBuildError(f"the pulled {REGISTRY_PYTHON} has no image id")
        base_id = pulled_id
        redis, haproxy = REGISTRY_REDIS, REGISTRY_HAPROXY
    else:
        base = build_base_image(client, force=force, log=log)
        base_id = base_digest()
        redis = _build_from_dockerfile(
            client, dockerfile=dockerfiles / "redis.Dockerfile", tag="gosstand-redis:latest",
            digest=_digest(base_id, (dockerfiles / "redis.Dockerfile").read_bytes()), base=base, force=force, log=log)
        haproxy = _build_from_dockerfile(
            client, dockerfile=dockerfiles / "haproxy.Dockerfile", tag="gosstand-haproxy:latest",
            digest=_digest(base_id, (dockerfiles / "haproxy.Dockerfile").read_bytes()), base=base, force=force,
            log=log)
    built = {}
    for name, extra in (("mocks", ""), *((("load", "load"),) if load else ())):
        tag = f"gosstand-{name}:{mode}"
        digest = _digest(base_id, sources, (dockerfiles / "Dockerfile").read_bytes(), extra)
        if force or _label_of(client, tag) != digest:
            wheelhouse = build_wheelhouse(root, extra=extra, log=log)
            _build_from_dockerfile(client, dockerfile=dockerfiles / "Dockerfile", tag=tag, digest=digest, base=base,
                                   wheelhouse=wheelhouse, extra=extra, force=True, log=log)
        else:
            log(f"{tag}: up to date")
        built[name] = tag
    return ImageSet(mocks=built["mocks"], redis=redis, haproxy=haproxy, source=mode, load=built.get("load"))


def describe(images: ImageSet) -> str:
    return json.dumps(asdict(images))


def remove_images(client: docker.DockerClient, names: Iterable[str] = ()) -> list[str]:
    """Remove the images gosstand built (by label), or the ones named; returns what went."""
    removed: list[str] = []
    targets: list[Any] = [client.images.get(n) for n in names] if names else client.images.list(
        filters={"label": f"{APP_LABEL}=true"})
    for image in targets:
        for tag in image.tags or [image.id]:
            client.images.remove(tag, force=True)
            removed.append(tag)
    return removed
