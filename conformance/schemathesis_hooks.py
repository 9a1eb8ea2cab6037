"""Loaded by the schemathesis command line (``SCHEMATHESIS_HOOKS``) when the suite runs its
stateful phase: the contracts' custom formats, as the in-process tests register them, and the
rules the contracts state in prose (:mod:`.checks`), so chained calls are held to them too."""

from __future__ import annotations

import schemathesis

from . import checks
from .strategies import contract_formats

for _name, _strategy in contract_formats().items():
    schemathesis.openapi.format(_name, _strategy)
checks.register()
