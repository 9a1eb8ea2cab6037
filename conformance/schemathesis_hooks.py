"""Loaded by the schemathesis command line (``SCHEMATHESIS_HOOKS``) when the suite runs its
stateful phase: the contracts' custom formats, as the in-process tests register them."""

from __future__ import annotations

import schemathesis

from .strategies import contract_formats

for _name, _strategy in contract_formats().items():
    schemathesis.openapi.format(_name, _strategy)
