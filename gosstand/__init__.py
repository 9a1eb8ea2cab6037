"""gosstand: a test stand for systems that integrate with Russian government services."""
__version__ = "0.1.0"
