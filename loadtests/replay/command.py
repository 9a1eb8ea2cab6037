"""``gosstand replay LOG...``: a traffic profile from a recorded peak.

    gosstand replay access.log --from 09:00 --to 10:00 --output my-peak.yaml
    gosstand peak --profile my-peak.yaml --duration 120

Exit codes: 0 the profile was written; 2 nothing usable (a file of no known format or not read
whole, patterns or a window that cannot be read, no journey start in the window), with a
one-line reason on stderr.
Unreadable lines inside a readable log are counted and reported, not fatal.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from ..profile import Profile
from .arrivals import ArrivalCounter, Window, WindowError
from .build import Replay, ReplayError, file_lines, parse_step, render, replay_of, share_line
from .formats import FORMATS, FileReading, LogFormatError, read_requests
from .patterns import PatternError, load_patterns

#: Unmatched request shapes shown, most frequent first.
SHOWN_UNMATCHED = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG",
                        help="nginx or HAProxy access logs (.gz too) or HAR files; - reads standard input")
    parser.add_argument("--patterns", help="which request starts which journey, a YAML file "
                        "(default: the stand's own paths, scenarios/replay_patterns.yaml)")
    parser.add_argument("--output", default="-", help="write the profile here (default: standard output)")
    parser.add_argument("--format", choices=["auto", *FORMATS], default="auto",
                        help="the logs' format (default: told from each file's first lines)")
    parser.add_argument("--from", dest="start", metavar="HH:MM",
                        help="start of the window on the log's clock (or YYYY-MM-DDTHH:MM)")
    parser.add_argument("--to", dest="end", metavar="HH:MM", help="end of the window, not included")
    parser.add_argument("--step", help="the curve's step: 1s, 30s, 5m (default: 1s for up to an hour, "
                        "longer beyond so the curve keeps at most 3600 points)")
    parser.add_argument("--name", help="the profile's name (default: replay-<the first log's name>)")


def run_replay(args: argparse.Namespace) -> int:
    try:
        patterns = load_patterns(args.patterns)
        window = Window.parse(args.start, args.end)
        step = parse_step(args.step) if args.step else None
        counter = ArrivalCounter(patterns=patterns, window=window)
        readings = []
        for source in args.logs:
            reading = FileReading(source=source)
            readings.append(reading)
            for request in read_requests(source, reading, format=args.format):
                counter.add(request)
            if reading.requests == 0 or reading.stopped:
                raise LogFormatError(_nothing_read(reading))
        replay = replay_of(counter, step_s=step)
        name = args.name or default_name(args.logs[0])
        text = render(replay, counter, readings, name=name)
        Profile.from_mapping(yaml.safe_load(text))  # what `gosstand peak --profile` will do with it
    except (PatternError, WindowError, LogFormatError, ReplayError) as exc:
        print(f"gosstand replay: {exc}", file=sys.stderr)
        return 2
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"gosstand replay: cannot write {args.output} ({exc.strerror or exc})", file=sys.stderr)
            return 2
    _summary(replay, counter, readings, output=args.output)
    return 0


def default_name(source: str) -> str:
    stem = Path(source).name if source != "-" else "stdin"
    for suffix in (".gz", ".har", ".log", ".json"):
        stem = stem.removesuffix(suffix)
    return "replay-" + (re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower() or "log")


def _nothing_read(reading: FileReading) -> str:
    """Why a file gives nothing, or not all it holds, to replay."""
    if reading.stopped and reading.requests == 0 and reading.format == "har":
        return f"{reading.source}: not a HAR file ({reading.stopped})"
    if reading.stopped:
        return f"{reading.source}: not read whole, so its peak would be cut short: {reading.stopped}"
    if reading.records == 0:
        return f"{reading.source}: no {'entries' if reading.format == 'har' else 'lines'}, no requests to replay"
    at = ", ".join(str(n) for n in reading.unreadable_at)
    kind = "entry" if reading.format == "har" else "line"
    return (f"{reading.source}: no {kind} of it is a {reading.format} request (unreadable: {reading.unreadable}, "
            f"first at {at}); is it another format (--format)?")


def _summary(replay: Replay, counter: ArrivalCounter, readings: list[FileReading], *, output: str) -> None:
    say = sys.stderr.write
    for line in file_lines(readings):
        say(f"Read {line}\n")
    wall = counter.wall_of
    say(f"Window {wall(replay.start_s):%Y-%m-%d %H:%M:%S} – {wall(replay.end_s):%H:%M:%S}: "
        f"{replay.end_s - replay.start_s} s in steps of {replay.step_s} s\n")
    say(f"Journey starts: {', '.join(f'{j} {n}' for j, n in replay.starts.items())}; peak {replay.peak_rate:g}/s, "
        f"busiest second {wall(replay.peak_second_s):%H:%M:%S} with {replay.peak_second_starts}\n")
    say(f"Requests in the window: {share_line(counter)}\n")
    if counter.unmatched:
        shown = ", ".join(f"{shape} ({n})" for shape, n in counter.unmatched.most_common(SHOWN_UNMATCHED))
        say(f"Unmatched, most frequent first (add them to --patterns if they start a journey): {shown}\n")
    if output != "-":
        say(f"Wrote {output}: run it with `gosstand peak --profile {output}` (--duration S compresses it)\n")
