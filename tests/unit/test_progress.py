"""The CLI progress reporter: plain lines off a terminal, a bar with an ETA on one."""
from __future__ import annotations

import io

from mdm.progress import ProgressReporter, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_it_prints_a_plain_line_per_interval_and_the_last_one() -> None:
    out, clock = io.StringIO(), Clock()
    report = ProgressReporter(out, interactive=False, interval=5.0, clock=clock)
    for done in range(0, 1001, 100):
        clock.now += 1.0
        report("apply merges", done, 1000)
    report("index", 10, None)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    # the first call, one every five seconds, the finished stage, the next stage
    assert lines[0].startswith("apply merges: 0/1,000")
    assert lines[-2].startswith("apply merges: 1,000/1,000 (100%) in 0:10")
    assert lines[-1] == "index: 10"
    assert len(lines) == 4
    assert any("ETA 0:0" in line for line in lines[1:-2])


def test_on_a_terminal_it_redraws_a_bar_and_ends_the_line_when_done() -> None:
    out, clock = io.StringIO(), Clock()
    report = ProgressReporter(out, interactive=True, clock=clock)
    report("load", 0, 400)
    clock.now += 10
    report("load", 100, 400)
    clock.now += 30
    report("load", 400, 400)
    text = out.getvalue()
    frames = text.split("\r\x1b[2K")[1:]
    assert "[#######" in frames[1] and "ETA 0:30" in frames[1] and "10/s" in frames[1]
    assert frames[-1].endswith("in 0:40, 10/s\n")


def test_disabled_prints_nothing_and_durations_read_naturally() -> None:
    out = io.StringIO()
    ProgressReporter(out, enabled=False)("x", 1, 2)
    assert out.getvalue() == ""
    assert format_duration(59.6) == "1:00" and format_duration(3725) == "1:02:05"
