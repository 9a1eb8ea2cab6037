"""Placeholder until the fts mock lands."""
from pathlib import Path
from ..core.context import ServiceContext
from ..core.service import ServiceDefinition

def definition(ctx: ServiceContext) -> ServiceDefinition:
    return ServiceDefinition(routes=[], contract=Path(__file__).with_name("openapi.yaml"))
