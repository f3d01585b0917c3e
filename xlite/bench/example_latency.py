"""The examples' first-line latency (#18 item 3): each example started as a fresh process with an empty
compile cache, timed from its start to its first training line, with the child's CPU time at that moment.

    python -m xlite.bench.example_latency [--runs 5] [--bytecode] [name ...]

Names: import (`import xlite` alone), softmax_regression, deep_cnn, mnist_deep. Rounds alternate the
examples, so the machine's load of the moment is shared. CPU time (user + system of the child, all its
threads, read from /proc at the line; from wait4 after a kill elsewhere) is reported beside the wall time
because a shared machine inflates wall times much more. `--bytecode` gives the children compiled bytecode
in a temporary PYTHONPYCACHEPREFIX (filled by one unmeasured run each), as an installed package has it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
_IMPORT = ("-c", "import xlite; print('imported', flush=True)")
# name -> (argv after the interpreter, the first line that counts: a regular expression)
EXAMPLES = {
    "import": (_IMPORT, r"^imported$"),
    "softmax_regression": (("examples/softmax_regression.py",), r"^step\s+0\b"),
    "deep_cnn": (("examples/deep_cnn.py",), r"^step\s+0\b"),
    "mnist_deep": (("examples/mnist_tutorials/mnist_deep.py", "--fake_data", "--log_dir", "{tmp}"),
                   r"^step 0,"),
}


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process (its threads, and children it has waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def first_line(name: str, pycache: str | None = None, timeout_s: float = 300.0) -> dict:
    """One cold start of example `name`: seconds to its first training line and the child's CPU time then."""
    argv, pattern = EXAMPLES[name]
    with tempfile.TemporaryDirectory(prefix="xlite-latency-") as tmp:
        env = dict(os.environ, XLITE_CACHE_DIR=os.path.join(tmp, "cache"), PYTHONUNBUFFERED="1")
        env.pop("XLITE_CACHE", None)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        if pycache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pycache
        cmd = [sys.executable] + [a.format(tmp=os.path.join(tmp, "log")) for a in argv]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        row = _watch(proc, re.compile(pattern), t0, timeout_s)
        row["name"] = name
        return row


def _watch(proc: subprocess.Popen, pattern: re.Pattern, t0: float, timeout_s: float) -> dict:
    """Reads the child's stdout until a line matches; then takes its CPU time and kills it."""
    row: dict = {"status": "no matching line"}
    lines, buffer, stderr = [], b"", b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    sel.register(proc.stderr, selectors.EVENT_READ)
    open_streams = 2
    while open_streams and time.perf_counter() - t0 < timeout_s:
        for key, _ in sel.select(timeout=1.0):
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            if key.fileobj is proc.stderr:
                stderr = (stderr + chunk)[-4000:]
                continue
            now = time.perf_counter()
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            for line in (d.decode(errors="replace") for d in done):
                lines.append(line)
                if pattern.search(line):
                    row = {"status": "ok", "wall_s": now - t0, "cpu_s": _cpu_seconds(proc.pid), "line": line}
                    break
            if row["status"] == "ok":
                break
        if row["status"] == "ok":
            break
    os.kill(proc.pid, signal.SIGKILL)       # not proc.kill(): its poll() would reap the child before wait4
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    sel.close()
    proc.stdout.close()
    proc.stderr.close()
    if row["status"] == "ok":
        if row["cpu_s"] is None:
            row["cpu_s"] = usage.ru_utime + usage.ru_stime
    else:
        row["status"] += f"; exit {proc.returncode}, stdout {(lines + [buffer.decode(errors='replace')])[-3:]}, stderr {stderr.decode(errors='replace')[-600:]!r}"
    return row


def measure(names: list[str], runs: int, bytecode: bool, log=None) -> dict:
    """`runs` alternating rounds over `names`; per name the median and range of wall and CPU seconds."""
    with tempfile.TemporaryDirectory(prefix="xlite-latency-pyc-") as pyc:
        pycache = pyc if bytecode else None
        if bytecode:
            for name in names:          # unmeasured: fills the bytecode cache
                first_line(name, pycache)
        results: dict[str, list[dict]] = {n: [] for n in names}
        loads = []
        for r in range(runs):
            loads.append(os.getloadavg()[0])
            for name in (names if r % 2 == 0 else names[::-1]):
                row = first_line(name, pycache)
                results[name].append(row)
                if log:
                    log(f"round {r}: {name}: " + (f"wall {row['wall_s']:.2f} s, cpu {row['cpu_s']:.2f} s"
                                                  if row["status"] == "ok" else row["status"]))
    summary = {"bytecode": bytecode, "runs": runs, "load_1min": [round(x, 1) for x in loads], "examples": {}}
    for name, rows in results.items():
        ok = [r for r in rows if r["status"] == "ok"]
        wall, cpu = [r["wall_s"] for r in ok], [r["cpu_s"] for r in ok]
        summary["examples"][name] = {
            "ok": len(ok), "failed": [r["status"] for r in rows if r["status"] != "ok"][:1],
            "wall_median_s": float(np.median(wall)) if wall else None,
            "wall_s": [round(x, 3) for x in wall], "cpu_median_s": float(np.median(cpu)) if cpu else None,
            "cpu_s": [round(x, 3) for x in cpu]}
    return summary


def format_summary(summary: dict) -> str:
    out = [f"bytecode: {'compiled (temporary prefix)' if summary['bytecode'] else 'as the environment has it'};"
           f" load average (1 min) at each round: {summary['load_1min']}",
           f"{'example':<20} {'wall median s':>13} {'wall range s':>14} {'cpu median s':>13} {'cpu range s':>13}"]
    for name, e in summary["examples"].items():
        if not e["ok"]:
            out.append(f"{name:<20} failed: {e['failed'][0] if e['failed'] else 'no runs'}")
            continue
        out.append(f"{name:<20} {e['wall_median_s']:>13.2f} {min(e['wall_s']):>6.2f}-{max(e['wall_s']):<7.2f}"
                   f" {e['cpu_median_s']:>13.2f} {min(e['cpu_s']):>6.2f}-{max(e['cpu_s']):<6.2f}")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xlite.bench.example_latency",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(EXAMPLES), help=f"of {', '.join(EXAMPLES)}")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bytecode", action="store_true", help="children get compiled bytecode")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in EXAMPLES]
    if unknown:
        parser.error(f"unknown example(s) {', '.join(unknown)}")
    summary = measure(args.names, args.runs, args.bytecode, log=lambda s: print(s, file=sys.stderr, flush=True))
    print(format_summary(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    failed = any(not e["ok"] for e in summary["examples"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
