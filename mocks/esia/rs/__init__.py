"""ESIA's REST API of person and organisation data (``/rs``)."""
