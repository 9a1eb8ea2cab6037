"""Replay of a recorded peak: a traffic profile derived from a real access log or a HAR file.

The pipeline, one module per step:

    formats.py    read nginx / HAProxy access logs and HAR files into requests (method, path, time)
    patterns.py   the user's URL patterns: which request starts which journey
    arrivals.py   journey starts counted per second of the recorded window (bounded memory)
    build.py      the profile: arrival curve per step, mix, peak rate, closed-model users
    command.py    ``gosstand replay``: the command line over the four
"""
