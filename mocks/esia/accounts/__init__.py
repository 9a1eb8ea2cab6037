"""ESIA accounts: people and organisations, registration, recovery, levels and second factors."""
