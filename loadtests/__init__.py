"""The load runs: Locust users on the journeys, arrivals and load shapes, failovers, the records a
report is built from. They need gosstand's ``[load]`` extra (Locust and the rest); importing any
part of them without it says so."""

from ..extras import require

require("gosstand's load runs (gosstand peak, replay, seed; locust -f on its locustfile)", "load")
