"""Timing systems: rounds that interleave them, each round the median of its calls."""
from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

import numpy as np

from .settings import Settings

if TYPE_CHECKING:
    from .systems import System


def _calls_per_round(call, settings: Settings, hint_s: float | None = None) -> int:
    """Calls that fill a round's budget, from the fastest of a few calls (one hiccup must not decide)."""
    if hint_s is not None and hint_s > max(1.0, 2 * settings.round_budget_s):
        return settings.min_calls
    times, spent = [], 0.0
    while len(times) < 5 and (not times or spent < settings.round_budget_s / 4):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    one = max(min(times), 1e-7)
    return int(min(settings.max_calls, max(settings.min_calls, settings.round_budget_s / one)))


def _one_round(call, n: int) -> float:
    times = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        call()
        times.append(clock() - t0)
    return float(np.median(times))


def time_systems(systems: list, settings: Settings) -> None:
    """Rounds interleaving the systems; fills each system's `rounds` (per-call medians, seconds)."""
    live = [s for s in systems if s.status == "ok"]
    for s in live:                                   # the calibration call also warms caches
        s.calls = _calls_per_round(s.call, settings, s.hint_s)
        s.rounds = []
    enabled = gc.isenabled()
    try:
        for _ in range(settings.rounds):
            for s in live:
                gc.collect()
                gc.disable()
                s.rounds.append(_one_round(s.call, s.calls))
                if enabled:
                    gc.enable()
    finally:
        if enabled:
            gc.enable()


def _paired_ratio(num: System, den: System):
    if num.status != "ok" or den.status != "ok":
        return None
    return float(np.median([a / b for a, b in zip(num.rounds, den.rounds)]))


def _median(values):
    return float(np.median(values)) if values else None
