"""Keras' progress bar (tf.keras.utils.Progbar), printing what Keras prints, byte for byte in format.

verbose=1: `1875/1875 [==============================] - 3s 2ms/step - loss: 0.2950 - accuracy: 0.9143`,
redrawn in place with `\\r` (an ETA while running) when stdout is a terminal, else printed once at the end;
verbose=2: one line at the end, `1875/1875 - 3s - loss: 0.2950 - accuracy: 0.9143 - 3s/epoch - 2ms/step`.
"""
from __future__ import annotations

import math
import sys
import time


def _format_value(v: float) -> str:
    return f" {v:.4f}" if abs(v) > 1e-3 else f" {v:.4e}"


def _time_per_unit(seconds: float, unit: str = "step") -> str:
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """A bar of `target` steps (None: unknown), showing the latest value of each metric."""

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics=None, unit_name: str = "step", stream=None):
        self.target, self.width, self.verbose, self.interval = target, width, verbose, interval
        self.unit_name = unit_name
        self.stream = stream or sys.stdout
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._values: dict[str, float] = {}
        self._start = time.time()
        self._last_update = 0.0
        self._total_width = 0
        self._seen = 0

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Shows `current` steps done and the metric `values` (a list of (name, value) or a dict)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in (values.items() if isinstance(values, dict) else values or []):
            self._values[k] = float(v)
        self._seen = current
        now = time.time()
        if self.verbose == 1:
            if not finalize and (now - self._last_update < self.interval or not self._dynamic):
                return
            line = self._bar(current)
            info = self._timing(current, now, finalize)
            info += "".join(f" - {k}:{_format_value(v)}" for k, v in self._values.items())
            text = line + info
            if self._dynamic:
                pad = max(self._total_width - len(text), 0)
                self.stream.write("\r" + text + " " * pad)
            else:
                self.stream.write(text)
            self._total_width = len(text)
            if finalize:
                self.stream.write("\n")
            self.stream.flush()
            self._last_update = now
        elif self.verbose == 2 and finalize:
            elapsed = now - self._start
            digits = len(str(self.target)) if self.target else 0
            text = f"{current:>{digits}}/{self.target}" if self.target else f"{current}/Unknown"
            text += f" - {elapsed:.0f}s"
            text += "".join(f" - {k}:{_format_value(v)}" for k, v in self._values.items())
            text += f" - {elapsed:.0f}s/epoch -" + _time_per_unit(elapsed / max(current, 1), self.unit_name)
            self.stream.write(text + "\n")
            self.stream.flush()

    def add(self, n: int, values=None) -> None:
        self.update(self._seen + n, values)

    def _bar(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(self.target)) + 1 if self.target > 0 else 1
        bar = f"{current:>{digits}}/{self.target} ["
        filled = int(self.width * current / self.target) if self.target else self.width
        if filled > 0:
            bar += "=" * (filled - 1)
            bar += ">" if current < self.target else "="
        bar += "." * (self.width - filled)
        return bar + "]"

    def _timing(self, current: int, now: float, finalize: bool) -> str:
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        if not finalize and self.target is not None:
            eta = per_unit * (self.target - current)
            if eta > 3600:
                return f" - ETA: {int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
            if eta > 60:
                return f" - ETA: {int(eta // 60)}:{int(eta % 60):02d}"
            return f" - ETA: {eta:.0f}s"
        return f" - {elapsed:.0f}s" + _time_per_unit(per_unit, self.unit_name)
