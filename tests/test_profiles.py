"""Traffic profiles as data: the packaged ones load by name, each names a failover schedule that
exists and fits its traffic, and a profile with a typo is refused instead of sending nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from gosstand.loadtests.profile import JOURNEYS, Profile, load_profile, packaged_profiles
from gosstand.loadtests.run import UsageError, _failover_path, check_traffic
from gosstand.loadtests.schedule import RunShape, load_schedule

BASE = {"name": "x", "duration_s": 10, "peak_users": 4, "curve": [1.0]}


def test_packaged_profiles_load_by_name_with_a_schedule_for_their_services():
    assert set(packaged_profiles()) == {"peak-hour", "weighing-morning"}
    for name in packaged_profiles():
        profile = load_profile(name)
        assert set(profile.mix) <= set(JOURNEYS) and sum(profile.mix.values()) > 0
        sent = {"esia", "fts"} if {"esia_login", "declaration"} & set(profile.mix) else {"esia", "utko"}
        shape = RunShape(duration_s=profile.duration_s, replicas={"esia": 2, "fts": 2, "utko": 2},
                         healthy_window_s=5)
        actions = load_schedule(_failover_path("default", profile), shape)
        assert actions and {action.service for action in actions} <= sent, name  # it fails what it loads
    assert load_profile(None).name == "peak-hour"
    assert _failover_path("default", load_profile(None)).name == "failover.yaml"
    assert _failover_path("default", load_profile("weighing-morning")).name == "failover_weighing.yaml"
    assert _failover_path("none", load_profile(None)) is None


def test_a_file_wins_over_a_packaged_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("weighing-morning").write_text("name: mine\nduration_s: 5\npeak_users: 1\ncurve: [1]\nmix: {declaration: 1}\n")
    assert load_profile("weighing-morning").name == "mine"


@pytest.mark.parametrize(("changes", "said"), [
    ({"mix": {"declarations": 1}}, "unknown journey(s) declarations"),
    ({"mix": {"declaration": 1}, "pacing_s": {"weight_control": 1}}, "unknown journey(s) weight_control"),
    ({"mix": {"declaration": 0}}, "not all zero"),
    ({"mix": {"declaration": 1}, "curve": [1.5]}, "between 0 and 1"),
])
def test_bad_profiles_are_refused_with_the_reason(changes, said):
    with pytest.raises(ValueError, match=said.replace("(", r"\(").replace(")", r"\)")):
        Profile.from_mapping({**BASE, **changes})


def test_a_utko_target_needs_utko_traffic():
    with pytest.raises(UsageError, match="sends no UTKO traffic"):
        check_traffic(load_profile("peak-hour"), {"utko": "http://127.0.0.1:9"})
    check_traffic(load_profile("weighing-morning"), {"utko": "http://127.0.0.1:9"})
