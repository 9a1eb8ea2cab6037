"""The open model's arrival timetable: the rate the profile asks for, arrivals no answer can
move, the mix's shares, and the arrivals shared among load processes without a gap or a double."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from gosstand.loadtests.arrivals import Timetable, journey_cycle
from gosstand.loadtests.profile import Profile, load_profile

OPEN = {"name": "open", "duration_s": 10, "peak_rate": 20, "curve": [1.0],
        "mix": {"esia_login": 2, "declaration": 1}}


def profile(**changes: object) -> Profile:
    return Profile.from_mapping({**OPEN, **changes})


def test_a_constant_rate_spaces_its_arrivals_evenly_from_the_start():
    offsets = list(Timetable(profile()).offsets())
    assert len(offsets) == 200  # 20/s for 10 s
    assert offsets[0] == 0 and offsets[-1] == pytest.approx(9.95)
    assert all(b - a == pytest.approx(0.05) for a, b in itertools.pairwise(offsets))


def test_a_ramp_offers_what_the_rate_integrates_to_and_nothing_after_the_run():
    # 0 → 20/s over the first 5 s, then 20 → 10/s: 50 + 75 arrivals
    table = Timetable(profile(curve=[0.0, 1.0, 0.5]))
    offsets = list(table.offsets())
    assert table.total == pytest.approx(125) and len(offsets) == 125
    assert all(0 <= t < 10 for t in offsets) and offsets == sorted(offsets)
    # The rate's integral to t on the ramp up is 2 t²: arrivals come faster as it rises.
    assert sum(t < 2.5 for t in offsets) == 13  # arrivals 0..12 are due by 2.5 s (2 · 2.5² = 12.5)
    assert sum(t < 5 for t in offsets) == 50
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    assert gaps[1] > gaps[20] > gaps[45]
    # offered(t) counts the arrivals due by t, whatever happened to the ones before
    for t in (0, 1, 2.5, 4.99, 5, 7.3, 9.99, 10, 60):
        assert table.offered(t) == sum(offset <= t for offset in offsets), t


def test_the_load_processes_share_the_arrivals_without_a_gap_or_a_double():
    whole = list(Timetable(profile(curve=[0.2, 1.0, 0.4])).offsets())
    shares = [list(Timetable(profile(curve=[0.2, 1.0, 0.4]), share=(i, 3)).offsets()) for i in range(3)]
    assert sorted(itertools.chain(*shares)) == whole
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    for i, share in enumerate(shares):
        assert share == whole[i::3]
        assert Timetable(profile(curve=[0.2, 1.0, 0.4]), share=(i, 3)).offered(10) == len(share)


def test_each_process_keeps_the_mix_shares():
    for index in range(2):
        arrivals = list(Timetable(profile(), share=(index, 2)).arrivals())
        counts = Counter(arrival.journey for arrival in arrivals)
        assert counts["esia_login"] == pytest.approx(2 * counts["declaration"], abs=2)
    assert list(itertools.islice(journey_cycle({"a": 2, "b": 1, "c": 0}), 6)) == ["a", "b", "a", "a", "b", "a"]


def test_a_closed_model_profile_has_no_timetable_until_given_a_rate():
    closed = load_profile("peak-hour")
    assert not closed.open_model
    with pytest.raises(ValueError, match="closed-model profile; give --rate"):
        Timetable(closed)
    opened = load_profile("peak-hour", peak_rate=30)
    assert opened.open_model and opened.rate_at(0) == pytest.approx(30 * 0.30)
    curve = opened.curve  # the mean of a curve linear between its steps: the trapezoid rule
    mean = (sum(curve) - (curve[0] + curve[-1]) / 2) / (len(curve) - 1)
    assert len(list(Timetable(opened).offsets())) == pytest.approx(opened.duration_s * 30 * mean, abs=1)


def test_an_open_model_profile_round_trips_and_refuses_nonsense():
    opened = profile(max_users=7)
    again = Profile.from_mapping(opened.to_mapping())
    assert (again.peak_rate, again.max_users, again.open_model) == (20, 7, True)
    # --peak-users turns an open profile into a closed one; both at once is refused
    assert not Profile.from_mapping(OPEN, peak_users=5).open_model
    with pytest.raises(ValueError, match="not both"):
        Profile.from_mapping(OPEN, peak_users=5, peak_rate=3)
    for bad in ({"peak_rate": 0}, {"peak_rate": -1}, {"peak_rate": 1e9}, {"max_users": 0}):
        with pytest.raises(ValueError, match="peak_rate|max_users"):
            profile(**bad)
