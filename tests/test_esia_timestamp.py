"""``timestamp`` (``yyyy.MM.dd HH:mm:ss Z``) is read without strptime in its usual shape; the
answer must be strptime's for every text, usual or not."""

from __future__ import annotations

import datetime as dt

from gosstand.mocks.esia.oauth.params import parse_timestamp
from hypothesis import given
from hypothesis import strategies as st


def _strptime(text: str) -> float | None:
    try:
        return dt.datetime.strptime(text, "%Y.%m.%d %H:%M:%S %z").timestamp()
    except (ValueError, OverflowError):
        return None


digits = st.text(alphabet="0123456789", min_size=1, max_size=3)
# (a missing sign is the unencoded-"+" repair, tested with the login; here the sign is always sent)
fields = st.tuples(
    st.integers(1, 9999).map(lambda y: f"{y:04d}"),
    digits,
    digits,
    digits,
    digits,
    digits,
    st.sampled_from(["+", "-"]),
    st.one_of(digits.map(lambda d: d.zfill(4)), st.sampled_from(["03:00", "0300 ", "+0300"])),
)


@given(fields)
def test_every_timestamp_reads_as_strptime_reads_it(parts):
    year, month, day, hour, minute, second, sign, zone = parts
    text = f"{year}.{month}.{day} {hour}:{minute}:{second} {sign}{zone}"
    parsed = parse_timestamp(text)
    assert (parsed and parsed[0]) == _strptime(text)
    assert parsed is None or parsed[1] == text


@given(
    st.datetimes(min_value=dt.datetime(1971, 1, 2), max_value=dt.datetime(9998, 12, 30)), st.integers(-23 * 60, 23 * 60)
)
def test_the_usual_shape_gives_the_instant_it_names(moment, offset_minutes):
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    text = moment.replace(microsecond=0, tzinfo=zone).strftime("%Y.%m.%d %H:%M:%S %z")
    assert parse_timestamp(text) == (moment.replace(microsecond=0, tzinfo=zone).timestamp(), text)
