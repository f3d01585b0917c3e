"""xlite/bench/timing.py: rounds alternate the systems' order and record wall and CPU time per call."""
import pytest

from xlite.bench.settings import Settings
from xlite.bench.systems import System
from xlite.bench.timing import _paired_ratio, time_systems


@pytest.mark.slow
def test_rounds_alternate_and_record_cpu_time():
    order = []
    a, b = System("a"), System("b")
    a.call = lambda: order.append("a") or sum(range(2000))
    b.call = lambda: order.append("b") or sum(range(4000))
    settings = Settings(quick=True, rounds=4)
    settings.min_calls = settings.max_calls = 3
    time_systems([a, b], settings)
    timed = order[-4 * 6:]                          # after the calibration calls
    assert [timed[k * 3] for k in range(8)] == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert len(a.cpu_rounds) == len(b.cpu_rounds) == 4 and min(a.cpu_rounds + b.cpu_rounds) >= 0
    assert _paired_ratio(b, a) > 0 and _paired_ratio(b, a, "cpu_rounds") is not None
