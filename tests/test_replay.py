"""Replay of a recorded peak: access logs and HAR files read as their formats define them, the
user's URL patterns deciding which request starts which journey, and a profile whose curve, mix
and peak rate are exactly the recorded ones — the profile `gosstand peak --profile` then runs.

The sample lines are written here from each format's definition (nginx's ``combined`` and
``main`` log formats, HAProxy's ``option httplog``, HAR 1.2), with made-up addresses and times.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from gosstand.loadtests.profile import Profile, load_profile, packaged_profiles
from gosstand.loadtests.replay.arrivals import ArrivalCounter, Window, WindowError, request_shape
from gosstand.loadtests.replay.build import ReplayError, default_step, parse_step, replay_of
from gosstand.loadtests.replay.formats import (
    FileReading,
    LogFormatError,
    Request,
    parse_haproxy,
    parse_nginx,
    read_requests,
)
from gosstand.loadtests.replay.patterns import JourneyPatterns, PatternError, Role, load_patterns
from hypothesis import given, settings
from hypothesis import strategies as st

from gosstand.cli import main

MSK = dt.timezone(dt.timedelta(hours=3))
START_PATHS = {
    "esia_login": ("GET", "/aas/oauth2/ac?client_id=RP01&scope=openid&state=s1"),
    "declaration": ("POST", "/api/v1/declarations"),
    "utko_objects": ("PUT", "/v1/objects/4f1c2a"),
    "weight_controls": ("POST", "/reo-weight-control-api/api/v1/weight-controls/import"),
}


def nginx_line(at: dt.datetime, method: str, target: str, *, status: int = 200,
               agent: str = "Mozilla/5.0 (X11; Linux x86_64)", addr: str = "192.0.2.10") -> str:
    """A line of nginx's ``combined`` format, the time in ``$time_local`` form."""
    return (f'{addr} - - [{at:%d/%b/%Y:%H:%M:%S %z}] "{method} {target} HTTP/1.1" {status} 512 '
            f'"-" "{agent}"')


def haproxy_line(at: dt.datetime, method: str, target: str, *, status: int = 200) -> str:
    """A syslog-carried line of HAProxy's ``option httplog`` format (accept date in local time)."""
    return (f"{at:%b %d %H:%M:%S} lb-1 haproxy[3107]: 198.51.100.23:41822 "
            f"[{at:%d/%b/%Y:%H:%M:%S}.{at.microsecond // 1000:03d}] public~ stand/fts-1 0/0/1/8/9 {status} 731 "
            f'- - ---- 12/12/3/1/0 0/0 "{method} {target} HTTP/1.1"')


def har_file(entries: list[tuple[str, str, str]]) -> str:
    """A HAR 1.2 document of (startedDateTime, method, url) entries."""
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [
        {"startedDateTime": started, "time": 12.5,
         "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
                     "cookies": [], "headersSize": -1, "bodySize": 0},
         "response": {"status": 200}, "cache": {}, "timings": {"send": 0, "wait": 12, "receive": 0.5}}
        for started, method, url in entries]}}, indent=2)


def read_all(path: Path | str, format: str = "auto") -> tuple[list[Request], FileReading]:
    reading = FileReading(source=str(path))
    return list(read_requests(str(path), reading, format=format)), reading


# --- nginx -------------------------------------------------------------------------------


def test_nginx_combined_line_with_its_edge_cases():
    plain = parse_nginx('203.0.113.5 - - [10/Oct/2026:13:55:36 +0300] "GET /aas/oauth2/ac?client_id=X HTTP/1.1" '
                        '302 0 "https://rp.example/login" "Mozilla/5.0"')
    assert plain is not None
    assert (plain.method, plain.path) == ("GET", "/aas/oauth2/ac")  # the query string is not the path
    assert plain.at == dt.datetime(2026, 10, 10, 10, 55, 36, tzinfo=dt.UTC).timestamp()
    assert plain.wall == dt.datetime(2026, 10, 10, 13, 55, 36)  # the log's own clock, for windows

    # The same instant written in another zone is the same second; the wall clock differs.
    west = parse_nginx('203.0.113.5 - - [10/Oct/2026:09:25:36 -0130] "GET / HTTP/1.1" 200 1 "-" "-"')
    assert west is not None and west.at == plain.at and west.wall.hour == 9

    # IPv6 client, a user name, nginx's \x22 escape and another writer's \" inside the agent,
    # and the `main` format's trailing X-Forwarded-For field.
    for agent in (r"curl \x22quoted\x22 7.88", r"broker \"quoted\" client"):
        line = (f'2001:db8:85a3::8a2e:370:7334 - ivanov [10/Oct/2026:13:55:37 +0300] "POST /api/v1/declarations '
                f'HTTP/2.0" 201 845 "-" "{agent}" "198.51.100.7, 10.0.0.1"')
        parsed = parse_nginx(line)
        assert parsed is not None and (parsed.method, parsed.path) == ("POST", "/api/v1/declarations"), line

    # `-` for bytes (the common format of other servers), no referer and agent at all.
    common = parse_nginx('10.1.2.3 - - [01/Jan/2027:00:00:00 +0000] "PUT /v1/objects/9 HTTP/1.0" 204 -')
    assert common is not None and (common.method, common.path) == ("PUT", "/v1/objects/9")

    # A proxy's absolute-form target is cut to its path.
    absolute = parse_nginx('10.1.2.3 - - [01/Jan/2027:00:00:01 +0000] "GET http://esia.example/aas/oauth2/v2/ac?x=1 '
                           'HTTP/1.1" 302 0 "-" "-"')
    assert absolute is not None and absolute.path == "/aas/oauth2/v2/ac"


def test_nginx_lines_whose_request_is_not_http_are_read_as_requests_without_a_path():
    # A TLS handshake on a plain port and an empty request: nginx logs them (400), with the time.
    for request in (r"\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03", "-", ""):
        parsed = parse_nginx(f'198.51.100.9 - - [10/Oct/2026:13:55:38 +0300] "{request}" 400 157 "-" "-"')
        assert parsed is not None and (parsed.method, parsed.path) == ("", ""), request


@pytest.mark.parametrize("line", [
    "",
    "not a log line",
    '203.0.113.5 - - [10/Oct/2026:13:55:36] "GET / HTTP/1.1" 200 1 "-" "-"',  # no zone
    '203.0.113.5 - - [10/Foo/2026:13:55:36 +0300] "GET / HTTP/1.1" 200 1 "-" "-"',  # no such month
    '203.0.113.5 - - [31/Feb/2026:13:55:36 +0300] "GET / HTTP/1.1" 200 1 "-" "-"',  # no such day
    '203.0.113.5 - - [10/Oct/2026:13:55:36 +0300] "GET / HTTP/1.1 200 1 "-" "-"',  # quote never closed
])
def test_lines_that_are_not_nginx_are_refused(line):
    assert parse_nginx(line) is None


# --- HAProxy -----------------------------------------------------------------------------


def test_haproxy_httplog_line_with_its_edge_cases():
    line = ("Oct 10 13:55:36 lb-1 haproxy[3107]: 198.51.100.23:41822 [10/Oct/2026:13:55:36.481] public~ "
            'stand/fts-2 0/0/1/14/15 201 731 - - ---- 12/12/3/1/0 0/0 "POST /api/v1/declarations HTTP/1.1"')
    parsed = parse_haproxy(line)
    assert parsed is not None and (parsed.method, parsed.path) == ("POST", "/api/v1/declarations")
    # accept_date has milliseconds and no zone: taken as UTC, the wall clock as written.
    assert parsed.at == pytest.approx(dt.datetime(2026, 10, 10, 13, 55, 36, 481000, tzinfo=dt.UTC).timestamp())
    assert parsed.wall == dt.datetime(2026, 10, 10, 13, 55, 36)

    # No syslog header (log to stdout), an IPv6 client, captured request and response headers,
    # an aborted request (-1 timers and status), an HTTP/2 absolute URI.
    bare = ('2001:db8::17:50412 [10/Oct/2026:13:55:37.002] public~ stand/esia-1 0/0/0/-1/+250 -1 0 - - CD-- '
            '5/5/1/1/0 0/0 {esia.example|Mozilla/5.0 (X11)} {} "GET https://esia.example/aas/oauth2/ac?a=1 HTTP/2.0"')
    parsed = parse_haproxy(bare)
    assert parsed is not None and (parsed.method, parsed.path) == ("GET", "/aas/oauth2/ac")

    bad = ('192.0.2.1:1 [10/Oct/2026:13:55:38.000] public stand/<NOSRV> -1/-1/-1/-1/+0 400 187 - - PR-- '
           '1/1/0/0/0 0/0 "<BADREQ>"')
    parsed = parse_haproxy(bad)
    assert parsed is not None and parsed.method == "" and parsed.wall.second == 38


@pytest.mark.parametrize("line", [
    "Oct 10 13:55:36 lb-1 haproxy[3107]: Proxy public started.",
    # a TCP-mode line: no request
    "Oct 10 13:55:36 lb-1 haproxy[3107]: 192.0.2.1:5 [10/Oct/2026:13:55:36.100] in out/s1 1/0/5 212 -- 1/1/1/1/0 0/0",
    '203.0.113.5 - - [10/Oct/2026:13:55:36 +0300] "GET / HTTP/1.1" 200 1 "-" "-"',  # an nginx line
])
def test_lines_that_are_not_haproxy_httplog_are_refused(line):
    assert parse_haproxy(line) is None


# --- HAR and files -----------------------------------------------------------------------


def test_har_entries_with_their_iso_times(tmp_path):
    path = tmp_path / "session.har"
    path.write_text(har_file([
        ("2026-10-10T13:55:36.120+03:00", "GET", "https://esia.example/aas/oauth2/ac?client_id=RP&state=1"),
        ("2026-10-10T10:55:36.900Z", "POST", "https://esia.example/aas/oauth2/te"),
        ("2026-10-10T13:55:37+03:00", "POST", "https://fts.example:8443/api/v1/declarations"),
    ]))
    requests, reading = read_all(path)
    assert reading.format == "har" and reading.requests == 3 and reading.unreadable == 0
    assert [(r.method, r.path) for r in requests] == [
        ("GET", "/aas/oauth2/ac"), ("POST", "/aas/oauth2/te"), ("POST", "/api/v1/declarations")]
    assert requests[0].at == pytest.approx(dt.datetime(2026, 10, 10, 10, 55, 36, 120000, tzinfo=dt.UTC).timestamp())
    assert int(requests[1].at) == int(requests[0].at)  # Z and +03:00 of the same second
    assert requests[0].wall == dt.datetime(2026, 10, 10, 13, 55, 36, 120000)


def test_a_har_written_on_one_line_longer_than_any_log_line_is_read_whole(tmp_path):
    url = f"https://fts.example/api/v1/declarations?pad={'x' * 100}"
    entries = [(f"2026-10-10T09:00:{i % 60:02d}.000+03:00", "POST", url) for i in range(2000)]
    path = tmp_path / "big.har"
    path.write_text(json.dumps(json.loads(har_file(entries))))  # minified: one line of ~300 KB
    requests, reading = read_all(path)
    assert len(requests) == 2000 and reading.requests == 2000


def test_har_entries_that_cannot_be_read_are_counted_and_a_cut_file_says_where_it_stopped(tmp_path):
    text = har_file([("2026-10-10T09:00:00Z", "GET", "https://esia.example/aas/oauth2/ac"),
                     ("yesterday", "GET", "https://esia.example/aas/oauth2/ac"),
                     ("2026-10-10T09:00:01Z", "POST", "https://fts.example/api/v1/declarations")])
    data = json.loads(text)
    del data["log"]["entries"][2]["request"]["url"]
    path = tmp_path / "odd.har"
    path.write_text(json.dumps(data))
    requests, reading = read_all(path)
    assert len(requests) == 1 and reading.unreadable == 2 and reading.unreadable_at == [2, 3]

    cut = tmp_path / "cut.har"
    cut.write_text(text[: text.index('"POST"')])
    requests, reading = read_all(cut)
    assert (len(requests), reading.unreadable) == (1, 1)  # the entries before the cut count
    assert reading.stopped.startswith("not valid JSON after entry 2")


def test_gzip_files_and_standard_input_are_read(tmp_path, monkeypatch):
    at = dt.datetime(2026, 10, 10, 9, 0, 0, tzinfo=MSK)
    lines = "\n".join(nginx_line(at + dt.timedelta(seconds=i), "POST", "/api/v1/declarations") for i in range(5))
    packed = tmp_path / "access.log.1.gz"
    packed.write_bytes(gzip.compress(lines.encode()))
    assert len(read_all(packed)[0]) == 5
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
    requests, reading = read_all("-")
    assert len(requests) == 5 and reading.format == "nginx"


def test_format_is_told_from_the_first_lines_and_unreadable_lines_are_counted(tmp_path):
    at = dt.datetime(2026, 10, 10, 9, 0, 0)
    path = tmp_path / "haproxy.log"
    path.write_text("\n".join([
        "Oct 10 09:00:00 lb-1 haproxy[3107]: Proxy public started.",
        haproxy_line(at, "GET", "/aas/oauth2/ac?x=1"),
        "",
        "\x00\x01 binary junk \xff",
        haproxy_line(at, "POST", "/api/v1/declarations"),
        "x" * 70_000,  # longer than any log line: skipped, not held whole
        haproxy_line(at, "POST", "/api/v1/declarations"),
    ]) + "\n")
    requests, reading = read_all(path)
    assert reading.format == "haproxy" and len(requests) == 3
    assert (reading.records, reading.unreadable, reading.unreadable_at) == (6, 3, [1, 4, 6])


def test_a_file_in_no_known_format_is_refused_with_its_first_line(tmp_path):
    path = tmp_path / "app.log"
    path.write_text("2026-10-10 09:00:00 INFO started\n2026-10-10 09:00:01 INFO ready\n")
    with pytest.raises(LogFormatError, match=r"app.log: not an nginx .* its first line is '2026-10-10 09:00:00 INFO"):
        read_all(path)
    empty = tmp_path / "empty.log"
    empty.write_text("\n\n")
    with pytest.raises(LogFormatError, match="empty"):
        read_all(empty)


# --- patterns ----------------------------------------------------------------------------


def test_packaged_patterns_recognise_each_journey_by_the_request_that_starts_it():
    patterns = load_patterns()
    assert patterns.classify("GET", "/aas/oauth2/ac") == (Role.START, "esia_login")
    assert patterns.classify("GET", "/aas/oauth2/v2/ac") == (Role.START, "esia_login")
    assert patterns.classify("POST", "/aas/oauth2/te") == (Role.PART, "esia_login")
    assert patterns.classify("GET", "/rs/prns/1000001") == (Role.PART, "esia_login")
    assert patterns.classify("POST", "/api/v1/declarations") == (Role.START, "declaration")
    assert patterns.classify("GET", "/api/v1/declarations") == (Role.PART, "declaration")  # the list
    assert patterns.classify("GET", "/api/v1/declarations/3fa8/status") == (Role.PART, "declaration")
    assert patterns.classify("PUT", "/v1/objects/3fa8") == (Role.START, "utko_objects")
    assert patterns.classify("GET", "/v1/objects/3fa8") == (Role.PART, "utko_objects")
    assert patterns.classify("PUT", "/v1/objects/3fa8/extra") == (Role.UNMATCHED, None)  # * is one segment
    assert patterns.classify("POST", "/reo-weight-control-api/api/v1/weight-controls/import") == \
        (Role.START, "weight_controls")
    assert patterns.classify("GET", "/_gosstand/control/outbox") == (Role.IGNORED, None)
    assert patterns.classify("DELETE", "/api/v1/declarations") == (Role.UNMATCHED, None)
    assert patterns.classify("", "") == (Role.UNMATCHED, None)


def test_user_patterns_globs_regexes_method_lists_and_first_journey_wins():
    patterns = JourneyPatterns.from_mapping({"journeys": {
        "declaration": {"starts": ["POST ~/customs/v[0-9]+/decl(aration)?s", "PUT /legacy/{submit,file}"]},
        "esia_login": {"starts": "get,post /sso/**", "pacing_s": 3},
        "utko_objects": {"starts": ["* /sso/objects/*"]},  # shadowed by esia_login's /sso/**
    }, "ignore": ["GET /health*"]}, source="mine.yaml")
    assert patterns.classify("POST", "/customs/v2/declarations") == (Role.START, "declaration")
    assert patterns.classify("POST", "/customs/v2/decls") == (Role.START, "declaration")
    assert patterns.classify("POST", "/customs/v2/declarations/1") == (Role.UNMATCHED, None)  # regex: whole path
    assert patterns.classify("PUT", "/legacy/file") == (Role.START, "declaration")
    assert patterns.classify("POST", "/sso/a/b/c") == (Role.START, "esia_login")
    assert patterns.classify("PATCH", "/sso/a") == (Role.UNMATCHED, None)
    assert patterns.classify("GET", "/sso/objects/7") == (Role.START, "esia_login")
    assert patterns.classify("GET", "/healthz") == (Role.IGNORED, None)
    assert patterns.pacing() == {"declaration": 1.0, "esia_login": 3.0, "utko_objects": 1.0}


@pytest.mark.parametrize(("data", "said"), [
    ({"journeys": {"declarations": {"starts": ["POST /x"]}}}, "journeys.declarations: unknown journey"),
    ({"journeys": {"declaration": {"also": ["GET /x"]}}}, "journeys.declaration: needs 'starts:'"),
    ({"journeys": {"declaration": {"starts": ["/api/v1/declarations"]}}}, r"starts\[0\]: .* is not 'METHOD PATH'"),
    ({"journeys": {"declaration": {"starts": ["POST api/v1"]}}}, r"starts\[0\]: .*starts with '/'"),
    ({"journeys": {"declaration": {"starts": ["POST ~/a(b"]}}}, "not a regular expression"),
    ({"journeys": {"declaration": {"starts": ["GE/T /a"]}}}, "not a method"),
    ({"journeys": {"declaration": {"starts": ["POST /a"], "start": 1}}}, "unknown key.* start"),
    ({"journeys": {"declaration": {"starts": ["POST /a"], "pacing_s": 0}}}, "pacing_s"),
    ({"journey": {}}, "expected a mapping with 'journeys:'"),
    ({"journeys": {"declaration": {"starts": ["POST /a"]}}, "ignored": []}, "unknown key.* ignored"),
])
def test_bad_patterns_are_refused_naming_the_entry(data, said):
    with pytest.raises(PatternError, match=f"^mine.yaml: .*{said}"):
        JourneyPatterns.from_mapping(data, source="mine.yaml")


def test_unmatched_requests_are_grouped_as_a_pattern_would_name_them():
    assert request_shape("GET", "/api/v2/things/123/parts/3fa85f64-5717-4562-b3fc-2c963f66afa6") == \
        "GET /api/v2/things/*/parts/*"
    assert request_shape("GET", "/static/app.3f9a8b7c6d5e4f3a.js") == "GET /static/*"
    assert request_shape("", "") == "(no readable request line)"


# --- the profile -------------------------------------------------------------------------


def write_synthetic_log(path: Path, arrivals: dict[int, dict[str, int]], *, start: dt.datetime,
                        noise: bool = True) -> None:
    """An nginx log with ``arrivals[second][journey]`` journey starts, each followed by a later
    request of its journey, and unmatched and ignored requests that must not count."""
    lines = []
    for second, journeys in sorted(arrivals.items()):
        at = start + dt.timedelta(seconds=second)
        for journey, count in journeys.items():
            method, target = START_PATHS[journey]
            for _ in range(count):
                lines.append(nginx_line(at, method, target))
                lines.append(nginx_line(at, "POST", "/aas/oauth2/te"))  # a part: no arrival
        if noise:
            lines.append(nginx_line(at, "GET", "/static/logo.png"))
            lines.append(nginx_line(at, "GET", "/_gosstand/control/outbox"))
    path.write_text("\n".join(lines) + "\n")


KNOWN = {  # second → journey → starts; 6 s recorded, second 3 has none, second 4 is the peak
    0: {"esia_login": 2, "declaration": 1},
    1: {"esia_login": 1},
    2: {"declaration": 3, "esia_login": 1},
    4: {"esia_login": 4, "declaration": 4},
    5: {"declaration": 2},
}


def test_curve_mix_and_peak_are_exactly_the_recorded_arrivals(tmp_path):
    log = tmp_path / "access.log"
    write_synthetic_log(log, KNOWN, start=dt.datetime(2026, 10, 10, 9, 0, 0, tzinfo=MSK))
    output = tmp_path / "peak.yaml"
    assert main(["replay", str(log), "--output", str(output)]) == 0
    data = yaml.safe_load(output.read_text())
    assert data["curve"] == [3 / 8, 1 / 8, 4 / 8, 0.0, 1.0, 2 / 8]
    assert data["mix"] == {"esia_login": 8, "declaration": 10}
    assert data["peak_rate"] == 8.0 and data["duration_s"] == 6
    # Every journey gets the longest pacing (1.5 s, ESIA's), so users split by the mix start
    # journeys in the recorded proportions; 8 starts/s x 1.5 s = 12 users (Little's law).
    assert data["pacing_s"] == {"esia_login": 1.5, "declaration": 1.5} and data["peak_users"] == 12
    header = output.read_text().split("\nname:")[0]
    assert "nginx" in header and "2026-10-10 09:00:00" in header and "(UTC+03:00)" in header
    assert "esia_login 8, declaration 10 (total 18); busiest second 09:00:04 with 8" in header
    assert "unmatched" in header


def test_the_profile_round_trips_into_a_run_profile(tmp_path):
    log = tmp_path / "access.log"
    write_synthetic_log(log, KNOWN, start=dt.datetime(2026, 10, 10, 9, 0, 0, tzinfo=MSK))
    output = tmp_path / "peak.yaml"
    assert main(["replay", str(log), "--output", str(output), "--name", "my-peak"]) == 0
    profile = load_profile(output, duration_s=60)  # as `gosstand peak --profile peak.yaml --duration 60`
    assert profile.name == "my-peak" and profile.peak_rate == 8.0 and profile.duration_s == 60
    assert profile.mix == {"esia_login": 8, "declaration": 10}
    assert profile.curve == (3 / 8, 1 / 8, 4 / 8, 0.0, 1.0, 2 / 8)
    closed = load_profile(output, peak_users=12)  # the users-based run the file's peak_users sizes
    assert closed.users_at(closed.duration_s * 4 / 5) == 12 and closed.pacing_s == {"esia_login": 1.5,
                                                                                     "declaration": 1.5}
    assert Profile.from_mapping(profile.to_mapping()) == profile
    assert profile.failover is None  # ESIA and FTS traffic: the peak hour's failovers

    utko = tmp_path / "utko.log"
    write_synthetic_log(utko, {0: {"weight_controls": 3}, 1: {"utko_objects": 1}},
                        start=dt.datetime(2026, 10, 10, 6, 0, 0, tzinfo=MSK))
    assert main(["replay", str(utko), "--output", str(output)]) == 0
    assert load_profile(output).failover == "failover_weighing.yaml"


def test_a_window_on_the_log_clock_selects_the_recorded_stretch(tmp_path):
    log = tmp_path / "access.log"
    start = dt.datetime(2026, 10, 10, 8, 59, 58, tzinfo=MSK)
    write_synthetic_log(log, {0: {"esia_login": 5}, 2: {"esia_login": 1}, 3: {"declaration": 2},
                              62: {"declaration": 7}, 63: {"esia_login": 9}}, start=start)
    output = tmp_path / "peak.yaml"
    assert main(["replay", str(log), "--from", "09:00", "--to", "09:01", "--output", str(output)]) == 0
    data = yaml.safe_load(output.read_text())
    # The log covers the whole minute (it has requests before and after): 60 steps of 1 s.
    assert data["duration_s"] == 60 and len(data["curve"]) == 60
    assert data["mix"] == {"esia_login": 1, "declaration": 2} and data["peak_rate"] == 2.0
    assert data["curve"][:3] == [0.5, 1.0, 0.0] and not any(data["curve"][3:])

    # A window the log covers only in part is cut to what it recorded: nothing is made up.
    assert main(["replay", str(log), "--from", "09:01", "--to", "09:30", "--output", str(output)]) == 0
    data = yaml.safe_load(output.read_text())
    assert data["duration_s"] == 2 and data["curve"] == [7 / 9, 1.0]

    # Dated ends, and a step of 30 s.
    assert main(["replay", str(log), "--from", "2026-10-10T09:00", "--to", "2026-10-10T09:01:30",
                 "--step", "30s", "--output", str(output)]) == 0
    data = yaml.safe_load(output.read_text())
    assert data["duration_s"] == 90 and data["curve"] == [3 / 16, 0.0, 1.0]
    assert data["peak_rate"] == 16 / 30


def test_a_time_of_day_window_on_several_days_asks_for_a_date(tmp_path, capsys):
    log = tmp_path / "week.log"
    lines = [nginx_line(dt.datetime(2026, 10, day, 9, 30, tzinfo=MSK), "POST", "/api/v1/declarations")
             for day in (10, 11)]
    log.write_text("\n".join(lines) + "\n")
    assert main(["replay", str(log), "--from", "09:00", "--to", "10:00"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "on 2 days of the logs (2026-10-10, 2026-10-11): give a date" in error
    with pytest.raises(WindowError, match="not after --from"):
        Window.parse("10:00", "09:00")
    with pytest.raises(WindowError, match="--from 'nine'"):
        Window.parse("nine", None)


def test_steps_aggregate_and_long_windows_get_a_longer_default_step():
    assert [parse_step(text) for text in ("1s", "30s", "5m", "1h", "15")] == [1, 30, 300, 3600, 15]
    for bad in ("0s", "1.5s", "5 minutes", "-1"):
        with pytest.raises(ReplayError, match="--step"):
            parse_step(bad)
    assert default_step(3600) == 1 and default_step(3601) == 2 and default_step(8 * 3600) == 10


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(min_value=0, max_value=7200),
                       st.dictionaries(st.sampled_from(sorted(START_PATHS)), st.integers(min_value=1, max_value=5),
                                       min_size=1),
                       min_size=1, max_size=40),
       st.sampled_from([None, 1, 7, 60, 300]))
def test_the_curve_gives_back_every_matched_start(arrivals, step):
    counter = ArrivalCounter(patterns=load_patterns())
    start = dt.datetime(2026, 10, 10, 9, 0, 0)
    for second, journeys in arrivals.items():
        wall = start + dt.timedelta(seconds=second)
        for journey, count in journeys.items():
            method, target = START_PATHS[journey]
            for _ in range(count):
                counter.add(Request(at=wall.replace(tzinfo=dt.UTC).timestamp() + 0.25, wall=wall, method=method,
                                    path=target.split("?")[0]))
    replay = replay_of(counter, step_s=step)
    total = sum(count for journeys in arrivals.values() for count in journeys.values())
    assert round(sum(replay.curve) * replay.peak_rate * replay.step_s) == total
    assert sum(replay.starts.values()) == total and max(replay.curve) == 1.0
    assert replay.starts == dict(sum((Counter(j) for j in arrivals.values()), Counter()))
    assert replay.duration_s >= max(arrivals) - min(arrivals) + 1


# --- the command's failures --------------------------------------------------------------


def test_bad_input_exits_2_with_a_one_line_reason(tmp_path, capsys):
    app = tmp_path / "app.log"
    app.write_text("2026-10-10 09:00:00 INFO started\n")
    at = dt.datetime(2026, 10, 10, 9, 0, tzinfo=MSK)
    nginx = tmp_path / "access.log"
    nginx.write_text(nginx_line(at, "GET", "/static/app.js") + "\n" + nginx_line(at, "GET", "/about") + "\n")
    declarations = tmp_path / "declarations.log"
    declarations.write_text(nginx_line(at, "POST", "/api/v1/declarations") + "\n")
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(gzip.compress(("\n".join([nginx_line(at, "POST", "/api/v1/declarations")] * 2000)).encode())[:-200])
    har = har_file([("2026-10-10T09:00:00Z", "GET", "https://esia.example/aas/oauth2/ac")] * 3)
    cut_har = tmp_path / "cut.har"
    cut_har.write_text(har[: har.rindex('"GET"')])
    not_gzip = tmp_path / "rotated.log.gz"
    not_gzip.write_text(nginx_line(at, "POST", "/api/v1/declarations") + "\n")
    bad_patterns = tmp_path / "patterns.yaml"
    bad_patterns.write_text("journeys:\n  declarations: {starts: [POST /api/v1/declarations]}\n")
    cases = [
        (["replay", str(app)], "app.log: not an nginx (combined) or HAProxy (httplog) access log, nor a HAR file"),
        (["replay", str(tmp_path / "missing.log")], "missing.log: cannot read it"),
        (["replay", str(declarations), "--format", "haproxy"], "declarations.log: no line of it is a haproxy request"),
        (["replay", str(declarations), "--format", "har"], "declarations.log: not a HAR file (not valid JSON"),
        (["replay", str(not_gzip)], "rotated.log.gz: cannot read it"),
        (["replay", str(cut_har)], "cut.har: not read whole, so its peak would be cut short: not valid JSON after"),
        (["replay", str(cut)], "cut.log.gz: not read whole, so its peak would be cut short: cannot read past record"),
        (["replay", str(nginx)], "none of the 2 request(s) in the start–the end starts a journey"),
        (["replay", str(declarations), "--patterns", str(bad_patterns)], "journeys.declarations: unknown journey"),
        (["replay", str(declarations), "--from", "10:00"], "no request of the logs falls in 10:00:00–the end"),
        (["replay", str(declarations), "--step", "fast"], "--step 'fast'"),
    ]
    for argv, said in cases:
        assert main(argv) == 2, argv
        error = capsys.readouterr().err
        assert error.startswith("gosstand replay: ") and error.count("\n") == 1, error
        assert said in error, (said, error)
    # the unmatched requests are named, so the user knows which pattern to write
    main(["replay", str(nginx)])
    assert "GET /static/app.js (1)" in capsys.readouterr().err


def test_unreadable_lines_are_reported_and_the_rest_replayed(tmp_path, capsys):
    at = dt.datetime(2026, 10, 10, 9, 0, tzinfo=MSK)
    log = tmp_path / "access.log"
    log.write_text("\n".join([nginx_line(at, "POST", "/api/v1/declarations"), "torn line [10/Oct",
                              nginx_line(at, "POST", "/api/v1/declarations")]) + "\n")
    output = tmp_path / "peak.yaml"
    assert main(["replay", str(log), "--output", str(output)]) == 0
    said = "access.log (nginx): 2 request(s), 1 unreadable lines skipped (first at 2)"
    assert said in capsys.readouterr().err and said in output.read_text()
    assert yaml.safe_load(output.read_text())["mix"] == {"declaration": 2}


def test_several_logs_of_different_formats_add_up(tmp_path):
    at = dt.datetime(2026, 10, 10, 9, 0, 0, tzinfo=dt.UTC)
    nginx = tmp_path / "node-1.log"
    nginx.write_text(nginx_line(at, "POST", "/api/v1/declarations") + "\n")
    haproxy = tmp_path / "lb.log"
    haproxy.write_text(haproxy_line(at.replace(tzinfo=None) + dt.timedelta(seconds=1), "POST",
                                    "/api/v1/declarations") + "\n")
    har = tmp_path / "browser.har"
    har.write_text(har_file([("2026-10-10T09:00:01.500Z", "GET", "https://esia.example/aas/oauth2/ac")]))
    output = tmp_path / "peak.yaml"
    assert main(["replay", str(nginx), str(haproxy), str(har), "--output", str(output)]) == 0
    data = yaml.safe_load(output.read_text())
    assert data["mix"] == {"esia_login": 1, "declaration": 2} and data["curve"] == [0.5, 1.0]


def test_the_patterns_file_is_not_a_packaged_profile():
    assert "replay-patterns" not in packaged_profiles()


def test_the_command_is_wired_into_gosstand(tmp_path):
    log = tmp_path / "access.log"
    write_synthetic_log(log, KNOWN, start=dt.datetime(2026, 10, 10, 9, 0, 0, tzinfo=MSK))
    completed = subprocess.run([sys.executable, "-m", "gosstand", "replay", str(log)], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert yaml.safe_load(completed.stdout)["mix"] == {"esia_login": 8, "declaration": 10}
