"""The report as a table (one row per workload, the targets, the machine), and whether it failed."""
from __future__ import annotations

from .aot_workload import table_row as aot_table_row
from .poly_workload import table_row as poly_table_row
from .data_workload import table_row as data_table_row
from .distributed_workload import table_row as distributed_table_row
from .eager_workload import table_row as eager_table_row
from .function_workload import table_row as function_table_row
from .keras_workload import table_row as keras_table_row
from .gpu import DEVICE_SYSTEM


def fmt_time(s) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_bytes(n) -> str:
    if n is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _fmt_ratio(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _throughput(w: dict) -> str:
    if w.get("gbps") is None:
        return f"{w['steps_per_s']:.0f} steps/s" if w.get("steps_per_s") is not None else "-"
    if w.get("copy_fraction") is not None:
        return f"{w['gbps']:.1f} GB/s ({w['copy_fraction']:.0%} copy)"
    if w.get("hbm_fraction") is not None:
        return (f"{w['gbps']:.1f} GB/s ({w['hbm_fraction']:.0%} of HBM {w['hbm_gbps'] / 1000:g} TB/s, "
                f"floor {fmt_time(w.get('hbm_floor_s'))})")
    if w.get("emulated"):
        return f"{w['gbps']:.1f} GB/s (CPU emulator, no GPU)"
    return f"{w['gbps']:.1f} GB/s"


def _cupy_cells(w: dict, report: dict) -> list:
    """The cupy and compiled/cupy columns of target cuda: CuPy's time, or why there is none."""
    if report.get("cupy") is None:
        return ["not installed", "-"]
    cp = w.get("systems", {}).get("cupy")
    if cp is None:
        return ["-", "-"]
    return [fmt_time(cp.get("time_s")) if cp["status"] == "ok" else cp["status"],
            _fmt_ratio(w.get("compiled_over_cupy"))]


def format_table(report: dict) -> str:
    target = report["target"]
    gpu = target == "cuda"
    head = ["id", "workload", "interpreter", target, "speedup", "jax", f"{target}/jax", "throughput",
            "kernels", "peak live", "status"]
    if gpu:
        head = (head[:4] + [DEVICE_SYSTEM] + head[4:7] + ["cupy", f"{DEVICE_SYSTEM}/cupy"] + head[7:9]
                + ["launches"] + head[9:])
    rows = []
    for w in report["workloads"]:
        rows.append(_table_row(w, report, target))
        if gpu:
            r = rows[-1]
            launches = w.get("launches")
            timed = w["kind"] not in ("aot", "poly", "compile", "function", "data", "eager", "keras")
            extra = _cupy_cells(w, report) if timed else ["-", "-"]
            rows[-1] = (r[:4] + [_device_cell(w) if timed else "-"] + r[4:7] + extra + r[7:9]
                        + ["-" if launches is None else str(launches)] + r[9:])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    lines = ["| " + " | ".join(str(c).ljust(n) for c, n in zip(head, widths)) + " |",
             "|" + "|".join("-" * (n + 2) for n in widths) + "|"]
    lines += ["| " + " | ".join(str(c).ljust(n) for c, n in zip(r, widths)) + " |" for r in rows]
    checks = []
    for w in report["workloads"]:
        for t in w.get("targets", []):
            verdict = "not measured" if t["met"] is None else "met" if t["met"] else "MISSED"
            checks.append(f"{w['id']} {t['what']}: {verdict}")
    m = report["machine"]
    foot = (f"{report['date']}  xlite {report['xlite']} @ {report['commit']}  {m.get('cpu', '?')}, "
            f"{m.get('cores')} cores{', AVX-512' if m.get('avx512') else ''}  jax {report['jax'] or 'not installed'}"
            f"  rounds {report['rounds']}{' (quick)' if report['quick'] else ''}")
    notes = []
    if gpu:
        device = next((w["device"] for w in report["workloads"] if w.get("device")), None)
        foot += f"  device {device or 'unknown'}  cupy {report.get('cupy') or 'not installed'}"
        notes.append(f"{target}: the whole sess.run (feeds uploaded, fetches downloaded); {DEVICE_SYSTEM}: the "
                     "same executable's run_on_device, data left on the GPU as CuPy's; GB/s, HBM "
                     f"and CuPy figures use {DEVICE_SYSTEM}, the speedup over the interpreter uses {target}")
    return "\n".join(lines + ["", "targets: " + "; ".join(checks) if checks else ""] + notes + [foot])


def _device_cell(w: dict) -> str:
    """The cuda-device column: the time of run_on_device, or why there is none."""
    dev = w.get("systems", {}).get(DEVICE_SYSTEM)
    if dev is None:
        return "-"
    return fmt_time(dev.get("time_s")) if dev["status"] == "ok" else dev["status"]


# workload kind -> its module's table_row(row, fmt_time, fmt_ratio); "compile" and op-level rows are below
_TABLE_ROWS = {"aot": aot_table_row, "function": function_table_row, "data": data_table_row,
               "keras": keras_table_row, "eager": eager_table_row, "distributed": distributed_table_row,
               "poly": poly_table_row}


def _table_row(w: dict, report: dict, target: str) -> list:
    """The columns every target has, for one workload."""
    if w["kind"] in _TABLE_ROWS:
        return _TABLE_ROWS[w["kind"]](w, fmt_time, _fmt_ratio)
    if w["kind"] == "compile":
        jx = w.get("jax") or {}
        cached = w.get("cached_s")
        through = (f"cached {fmt_time(cached)} ({_fmt_ratio(w.get('cold_over_cached'))} faster)"
                   if cached is not None else "-")
        cold = w.get("cold_s")
        return [w["id"], w["title"], "-", "-" if cold is None else "cold " + fmt_time(cold), "-",
                ("cold " + fmt_time(jx.get("cold_s"))) if jx.get("cold_s") else (jx.get("status") or "-"),
                _fmt_ratio(w.get("cold_over_jax")), through, "-", "-", w["status"]]
    sysd = w["systems"]
    jx = sysd.get("jax")
    return [w["id"], w["title"], fmt_time(sysd.get("interpreter", {}).get("time_s")),
            fmt_time(sysd.get(target, {}).get("time_s")), _fmt_ratio(w.get("speedup")),
            "-" if jx is None else (fmt_time(jx.get("time_s")) if jx["status"] == "ok" else jx["status"]),
            _fmt_ratio(w.get("compiled_over_jax")), _throughput(w),
            str(w.get("kernels", "-")), fmt_bytes(w.get("peak_bytes")), w["status"]]


def failed(report: dict) -> bool:
    """Whether any system gave a wrong result or crashed (not implemented is not a failure)."""
    for w in report["workloads"]:
        statuses = [w["status"]] + [s["status"] for s in w.get("systems", {}).values()]
        if w.get("jax"):
            statuses.append(w["jax"]["status"])
        if any(s.startswith(("MISMATCH", "error")) for s in statuses):
            return True
    return False
