"""A small progress bar on stderr (no dependency): redrawn in place on a terminal, a line every 10% otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, description: str = "", stream: TextIO | None = None, enabled: bool = True):
        self.total = max(total, 1)
        self.description = description
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.count = 0
        self.postfix = ""
        self.start = time.monotonic()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        self.count = min(self.count + n, self.total)
        if postfix is not None:
            self.postfix = postfix
        if not self.enabled:
            return
        decile = self.count * 10 // self.total
        if self._tty:
            self._draw("\r")
        elif decile != self._last_decile:
            self._last_decile = decile
            self._draw("")
            self.stream.write("\n")

    def _draw(self, prefix: str) -> None:
        done = self.count / self.total
        bar = "#" * int(done * 24)
        elapsed = time.monotonic() - self.start
        eta = elapsed / done - elapsed if done > 0 else 0.0
        self.stream.write(f"{prefix}{self.description} [{bar:<24}] {self.count}/{self.total} "
                          f"{elapsed:.0f}s<{eta:.0f}s {self.postfix}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._tty:
            self.stream.write("\n")
            self.stream.flush()
