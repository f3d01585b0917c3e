"""W6's rounds (xlite/bench/cold_compile.py): xlite and JAX take turns within each round, and the
ratio to JAX is the median of per-round ratios (the probes are stand-ins here; test_bench runs real ones)."""
from types import SimpleNamespace

from xlite.bench import cold_compile
from xlite.bench.settings import Settings

WORKLOAD = SimpleNamespace(id="W6", title="cold", shapes="", kind="compile")


def _rounds(monkeypatch, answers):
    calls = []

    def probe(system, target, cache_dir, pycache=None):
        calls.append((system, cache_dir is not None))
        return answers(system, len(calls))

    monkeypatch.setattr(cold_compile, "_probe", probe)
    monkeypatch.setattr(cold_compile, "_compile_targets", lambda row: [])
    return cold_compile._compile_rounds(WORKLOAD, "cpu", True, Settings(rounds=3), None), calls


def test_each_round_runs_xlite_cold_and_cached_then_jax(monkeypatch):
    totals = iter([0.4, 0.02, 0.5, 0.8, 0.03, 0.4, 0.3, 0.02, 0.6])   # round by round: cold, cached, jax

    def answers(system, n):
        return {"status": "ok", "total_s": next(totals), "cache": {"misses": 0}}

    row, calls = _rounds(monkeypatch, answers)
    assert [s for s, _ in calls] == ["xlite", "xlite", "jax"] * 3
    assert row["cold_rounds_s"] == [0.4, 0.8, 0.3] and row["jax"]["rounds_s"] == [0.5, 0.4, 0.6]
    assert row["cold_over_jax"] == 0.8                       # median of 0.8, 2.0, 0.5
    assert row["status"] == "ok" and row["jax"]["status"] == "ok"


def test_a_failing_xlite_probe_stops_xlite_but_jax_keeps_its_rounds(monkeypatch):
    def answers(system, n):
        if system == "xlite":
            return {"status": "error: boom"}
        return {"status": "ok", "total_s": 0.5}

    row, calls = _rounds(monkeypatch, answers)
    assert [s for s, _ in calls] == ["xlite", "jax", "jax", "jax"]
    assert row["status"] == "error: boom" and "cold_over_jax" not in row
    assert row["jax"]["rounds_s"] == [0.5, 0.5, 0.5]
