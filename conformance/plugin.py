"""The conformance pytest plugin (target selection arrives with the conformance suite)."""
