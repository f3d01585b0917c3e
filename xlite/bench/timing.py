"""Timing systems: rounds that interleave them (in reversed order every other round), each round the
median of its calls' wall times and its CPU time (process time, every thread's) per call."""
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


def _one_round(call, n: int) -> tuple[float, float]:
    """(the median wall time of n calls, their CPU time per call)."""
    times = []
    clock = time.perf_counter
    cpu0 = time.process_time()
    for _ in range(n):
        t0 = clock()
        call()
        times.append(clock() - t0)
    return float(np.median(times)), (time.process_time() - cpu0) / n


def time_systems(systems: list, settings: Settings) -> None:
    """Rounds interleaving the systems; fills each system's `rounds` (per-call medians, seconds) and
    `cpu_rounds` (CPU seconds per call)."""
    from xlite.runtime.driver import finish_background_compiles
    finish_background_compiles()                     # steady state: -O3 code in (codegen/cpu/tiers.py)
    live = [s for s in systems if s.status == "ok"]
    for s in live:                                   # the calibration call also warms caches
        s.calls = _calls_per_round(s.call, settings, s.hint_s)
        s.rounds, s.cpu_rounds = [], []
    enabled = gc.isenabled()
    try:
        for r in range(settings.rounds):
            for s in (live if r % 2 == 0 else live[::-1]):
                gc.collect()
                gc.disable()
                wall, cpu = _one_round(s.call, s.calls)
                s.rounds.append(wall)
                s.cpu_rounds.append(cpu)
                if enabled:
                    gc.enable()
    finally:
        if enabled:
            gc.enable()


def _paired_ratio(num: System, den: System, kind: str = "rounds"):
    """The median over rounds of num's time / den's in the same round; kind "cpu_rounds" for CPU time."""
    if num.status != "ok" or den.status != "ok":
        return None
    pairs = [(a, b) for a, b in zip(getattr(num, kind, []), getattr(den, kind, [])) if b > 0]
    return float(np.median([a / b for a, b in pairs])) if pairs else None


def _median(values):
    return float(np.median(values)) if values else None
