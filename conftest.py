"""Hypothesis profiles for this repository's test run (tests/ and conformance/).

CI gates deployments, so there every property and contract test is derandomized: the same
examples on every run, and a red build means a change broke something, not that a new random
example was drawn. Locally (``dev``) examples vary from run to run, which is how the fuzzing
finds new bugs; a failure prints the example and a ``@reproduce_failure`` line.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
