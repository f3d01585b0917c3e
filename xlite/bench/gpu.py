"""Target "cuda"'s own figures: the GPU's HBM bandwidth and floor, and the cuda-device system (the
Session's executable called through `run_on_device`, its data left on the GPU)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from xlite.config import RunOptions

from .checks import _close

# HBM bandwidth in GB/s by GPU (BENCHMARKS.md): the first key the device name contains, else the default.
HBM_GBPS = {"H200": 4800.0, "H100": 3300.0}
HBM_DEFAULT_GBPS = 3300.0
DEVICE_SYSTEM = "cuda-device"                   # target cuda's executable run with its data on the GPU


def _frozen(feeds: dict) -> dict:
    """Read-only copies of the feeds, as the Session's own copies are: bound again, they are not re-uploaded."""
    frozen = {}
    for tensor, value in feeds.items():
        frozen[tensor] = np.array(value, copy=True)
        frozen[tensor].flags.writeable = False
    return frozen


def device_call(sess, prog, executable, workload) -> Callable[[], None]:
    """`executable.run_on_device` with the arguments one `sess.run` passes it (the Session's own Variables,
    updated in place), after checking that it reproduces that run from the same Variables."""
    from xlite.codegen.cuda.executable import DeviceArray

    def on_device(args: list) -> list:
        return [np.array(a) if isinstance(a, DeviceArray) else None for a in args]

    seen, real = [], executable.run

    def capture(args):
        before = on_device(args)
        results = real(args)
        seen.append((list(args), before, [np.array(r) for r in results], on_device(args)))
        return results

    # For this one call: a run given options takes the careful path, whose RunPlan looks `run` up each time.
    executable.run = capture
    try:
        sess.run(prog.fetches, _frozen(prog.feeds), options=RunOptions())
    finally:
        del executable.run
    if len(seen) != 1:
        raise RuntimeError(f"sess.run called its compiled executable {len(seen)} times, not once")
    args, before, results, after = seen[0]

    def restore() -> None:
        for arg, value in zip(args, before):
            if value is not None:
                arg.set(value)

    restore()
    executable.run_on_device(args)
    for n, (arg, want) in enumerate(zip(args, after)):
        if want is not None:
            _close(f"argument {n} after run_on_device", np.array(arg), want, workload.rtol, workload.atol)
    restore()                           # run leaves the Variables as sess.run did
    for i, (got, want) in enumerate(zip(executable.run(args), results)):
        _close(f"result {i} of a run after run_on_device", got, want, workload.rtol, workload.atol)
    return lambda: executable.run_on_device(args)


def hbm_gbps(device: str) -> float:
    """The HBM bandwidth BENCHMARKS.md gives for a GPU of this name (HBM_GBPS, else the default)."""
    for key, gbps in HBM_GBPS.items():
        if key.lower() in device.lower():
            return gbps
    return HBM_DEFAULT_GBPS


def gpu_device(executable) -> dict:
    """The GPU a cuda executable ran on (else CuPy's current device): name, HBM figure, or emulated."""
    driver = getattr(executable, "driver", None)
    if driver is not None:
        from xlite.codegen.cuda.emulator import EmulatedDriver
        if isinstance(driver, EmulatedDriver):
            return {"device": str(driver.name), "emulated": True}
        name = str(driver.name)
    else:
        try:
            import cupy
            name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
        except Exception:       # noqa: BLE001  (no CuPy or no device: no GPU figure)
            return {}
    return {"device": name, "emulated": False, "hbm_gbps": hbm_gbps(name)}


def _hbm_figures(row: dict, bytes_moved: int) -> None:
    """The bandwidth against the GPU's HBM: the floor (bytes moved once at HBM speed) and the fraction."""
    if row.get("hbm_gbps") and not row.get("emulated"):
        row["hbm_floor_s"] = bytes_moved / (row["hbm_gbps"] * 1e9)
        row["hbm_fraction"] = row["gbps"] / row["hbm_gbps"]
