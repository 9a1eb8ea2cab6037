"""A stack's own control token, printed for an operator to copy, goes on a command line as printed:
``gosstand up --control-token TOKEN`` takes every token a stack makes. A token that began with
``-`` (``token_urlsafe``'s did, one time in 64) was read by argparse as a second option, and the
command refused it with exit 2."""

from __future__ import annotations

import dataclasses

import pytest
from gosstand.stand.containers import ContainerStack
from gosstand.stand.inprocess import InProcessStack
from gosstand.stand.stack import EmbeddedStack

from gosstand.cli import build_parser


@pytest.mark.parametrize("stack_class", [EmbeddedStack, ContainerStack, InProcessStack])
def test_every_token_a_stack_makes_is_taken_by_gosstand_ups_command_line(stack_class: type) -> None:
    [token_field] = [field for field in dataclasses.fields(stack_class) if field.name == "control_token"]
    parser = build_parser()
    for _ in range(1000):  # one in 64 began with '-' before: ~16 of these
        token = token_field.default_factory()
        assert parser.parse_args(["up", "--control-token", token]).control_token == token
