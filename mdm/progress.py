"""Progress of long CLI commands (``mdm load``, ``mdm match``) on standard error.

Services take a plain callable ``progress(stage, done, total)`` and know nothing of
terminals; a command passes a ``ProgressReporter``. On a terminal it draws one bar per
stage with a rate and an ETA, redrawn in place; otherwise (a pipe, a log file, CI) it
prints a plain line per stage at most every ``interval`` seconds, plus the stage's last
line. Shared by ``mdm load`` and ``mdm match``: use it rather than a second helper.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[str, int, int | None], None]

BAR_WIDTH = 30


def format_duration(seconds: float) -> str:
    """``1:02:03`` / ``2:03`` style, for ETAs and elapsed times."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressReporter:
    """Callable as ``reporter(stage, done, total)``; ``total`` None when unknown."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True,
                 interactive: bool | None = None, interval: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        if interactive is None:
            isatty = getattr(self.stream, "isatty", None)
            interactive = bool(isatty and isatty())
        self.interactive = interactive
        self.interval = interval
        self.clock = clock
        self._stage: str | None = None
        self._started = 0.0
        self._last_draw = 0.0
        self._open_line = False

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if stage != self._stage:
            self._end_line()
            self._stage, self._started, self._last_draw = stage, now, 0.0
        finished = total is not None and done >= total
        wait = 0.2 if self.interactive else self.interval
        if not finished and self._last_draw and now - self._last_draw < wait:
            return
        self._last_draw = now
        line = self.line(stage, done, total, now - self._started)
        if self.interactive:
            self.stream.write("\r\x1b[2K" + line)
            self._open_line = True
            if finished:
                self._end_line()
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def line(self, stage: str, done: int, total: int | None, elapsed: float) -> str:
        rate = done / elapsed if elapsed > 0 else 0.0
        if total:
            share = min(1.0, done / total)
            text = f"{stage}: {done:,}/{total:,} ({share:.0%})"
            if self.interactive:
                filled = int(share * BAR_WIDTH)
                text = f"{stage} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] " \
                       f"{done:,}/{total:,} {share:4.0%}"
            if done >= total:
                text += f" in {format_duration(elapsed)}"
            elif rate > 0:
                text += f", ETA {format_duration((total - done) / rate)}"
        else:
            text = f"{stage}: {done:,}"
        if rate > 0 and elapsed >= 1:
            text += f", {rate:,.0f}/s"
        return text

    def close(self) -> None:
        """End a bar left open (a stage that stopped before its total)."""
        self._end_line()

    def _end_line(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False
