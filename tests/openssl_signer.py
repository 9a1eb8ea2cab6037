"""The OpenSSL command line with the gost engine as a person's signature tool: it signs the
challenge of ESIA's signature login as a detached CMS, and shares no code with the verifier in
the mock — a fault copied into both would be invisible."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

__all__ = ["OPENSSL", "OpensslSigner", "openssl_gost_missing"]

OPENSSL = shutil.which("openssl")


def openssl_gost_missing() -> str | None:
    """Why the openssl CLI cannot sign GOST CMS here (``None``: it can)."""
    if OPENSSL is None:
        return "no openssl command"
    probe = subprocess.run([OPENSSL, "engine", "gost"], capture_output=True, text=True, check=False)
    return None if probe.returncode == 0 else "openssl has no gost engine (apt-get install libengine-gost-openssl)"


class OpensslSigner:
    """``openssl cms -sign -engine gost``, its files in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.calls = 0

    def _file(self, name: str, data: bytes) -> str:
        path = self.directory / f"{self.calls}-{name}"
        path.write_bytes(data)
        return str(path)

    def __call__(self, certificate: str, key: str, *, with_certificate: bool = True,
                 attributes: bool = True) -> Callable[[bytes], bytes]:
        """A signer of ``certificate``'s holder: bytes in, DER CMS SignedData out."""
        def sign(message: bytes) -> bytes:
            assert OPENSSL is not None, openssl_gost_missing()
            self.calls += 1
            out = self.directory / f"{self.calls}-signature.der"
            command = [OPENSSL, "cms", "-sign", "-engine", "gost", "-binary", "-outform", "DER",
                       "-in", self._file("challenge", message), "-signer", self._file("cert.pem", certificate.encode()),
                       "-inkey", self._file("key.pem", key.encode()), "-out", str(out)]
            command += [] if with_certificate else ["-nocerts"]
            command += [] if attributes else ["-noattr"]
            subprocess.run(command, capture_output=True, check=True)
            return out.read_bytes()

        return sign
