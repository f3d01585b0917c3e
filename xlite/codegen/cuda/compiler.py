"""nvcc: CUDA C to PTX (CI's check, dump-ir) and to a cubin for the GPU, with an on-disk cubin cache.

The cache key is sha256 over the CUDA C text, the target architecture (the
GPU's compute capability, e.g. sm_90), the nvcc version and the flags, so a
change to any of them compiles afresh. Files are `<key>.cubin` under
XLITE_CACHE_DIR/cuda (default ~/.cache/xlite/cuda), each holding MAGIC, the
payload length and its sha256 before the cubin: a damaged file is a miss and
is replaced. XLITE_CACHE=0 turns the cache off. XLITE_DUMP=dir also writes each
module's .cu (and, when compiled, its .ptx) there.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from xlite.codegen.checked_file import DamagedFile, discard, read_checked, write_checked

FLAGS = ("-O3", "-std=c++17", "-fmad=false", "-w")
MAGIC = b"XLITECU\x01"
STATS = {"hits": 0, "misses": 0, "damaged": 0}


class NvccError(RuntimeError):
    """nvcc rejected generated CUDA C (a bug in the cuda backend)."""


@functools.lru_cache(maxsize=None)
def find_nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root and os.path.isfile(os.path.join(root, "bin", "nvcc")):
            return os.path.join(root, "bin", "nvcc")
    return None


@functools.lru_cache(maxsize=None)
def nvcc_version() -> str:
    nvcc = _nvcc()
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1] if out.strip() else "unknown"


def _nvcc() -> str:
    nvcc = find_nvcc()
    if nvcc is None:
        from xlite.codegen.cuda.availability import CudaUnavailableError
        raise CudaUnavailableError(None, None, "nvcc was not found (looked on PATH, in $CUDA_HOME/bin and "
                                   "/usr/local/cuda/bin)")
    return nvcc


def _dump(name: str, text: str) -> None:
    directory = os.environ.get("XLITE_DUMP")
    if directory:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name), "w") as f:
            f.write(text)


def run_nvcc(source: str, kind: str, arch: str, extra: tuple = ()) -> bytes:
    """`nvcc --{kind} -arch={arch}` on source; kind is "ptx" or "cubin". Raises NvccError with nvcc's
    messages (and the offending lines) when the source does not compile."""
    return _run_nvcc(source, kind, arch, extra)[0]


def _run_nvcc(source: str, kind: str, arch: str, extra: tuple = ()) -> tuple[bytes, str]:
    with tempfile.TemporaryDirectory(prefix="xlite-nvcc-") as tmp:
        src = os.path.join(tmp, "module.cu")
        out = os.path.join(tmp, f"module.{kind}")
        with open(src, "w") as f:
            f.write(source)
        cmd = [_nvcc(), f"--{kind}", f"-arch={arch}", *FLAGS, *extra, "-o", out, src]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise NvccError(f"nvcc failed ({' '.join(cmd[1:])}):\n{proc.stderr[-6000:]}"
                            + _context(source, proc.stderr))
        with open(out, "rb") as f:
            return f.read(), proc.stderr


def _context(source: str, errors: str) -> str:
    """The source lines nvcc's first few errors point at."""
    import re
    lines = source.splitlines()
    shown = []
    for match in list(re.finditer(r"module\.cu\((\d+)\)", errors))[:3]:
        n = int(match.group(1))
        shown.append(f"\n--- line {n}:\n" + "\n".join(lines[max(0, n - 3):n + 2]))
    return "".join(shown)


def compile_ptx(source: str, arch: str = "sm_90", optimize: bool = True) -> str:
    """PTX of source; optimize=False skips NVVM's optimizer (cicc -O0): every line is still compiled and checked,
    about 10x faster, which is what the no-GPU compile checks need."""
    return run_nvcc(source, "ptx", arch, () if optimize else ("-Xcicc", "-O0")).decode()


@dataclass(frozen=True)
class KernelResources:
    """What ptxas gave one kernel: a launch fails when registers x threads or shared memory exceed the SM's."""
    registers: int
    shared_bytes: int
    stack_bytes: int
    spill_bytes: int


def kernel_resources(source: str, arch: str = "sm_90") -> dict[str, KernelResources]:
    """Every kernel's registers, static shared memory, stack and spills, from `ptxas -v` (no GPU needed)."""
    _, log = _run_nvcc(source, "cubin", arch, ("-Xptxas", "-v"))
    found: dict[str, KernelResources] = {}
    for block in re.split(r"ptxas info\s*: Compiling entry function ", log)[1:]:
        name = re.match(r"'(\w+)'", block).group(1)
        stack, stores, loads = (int(v) for v in re.search(
            r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", block).groups())
        regs = re.search(r"Used (\d+) registers", block)
        smem = re.search(r"(\d+) bytes smem", block)
        found[name] = KernelResources(int(regs.group(1)) if regs else 0, int(smem.group(1)) if smem else 0,
                                      stack, stores + loads)
    return found


def cache_dir() -> Path | None:
    if os.environ.get("XLITE_CACHE", "1") == "0":
        return None
    root = os.environ.get("XLITE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "xlite")
    return Path(root) / "cuda"


def cubin_key(source: str, arch: str) -> str:
    h = hashlib.sha256()
    for part in (source, arch, nvcc_version(), " ".join(FLAGS)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def compile_cubin(source: str, arch: str) -> bytes:
    """The cubin of `source` for `arch` (sm_XY), from the cache when it holds one."""
    key = cubin_key(source, arch)
    _dump(f"xlite_{key[:12]}.cu", source)
    cached = _lookup(key)
    if cached is not None:
        return cached
    cubin = run_nvcc(source, "cubin", arch)
    if os.environ.get("XLITE_DUMP"):
        _dump(f"xlite_{key[:12]}.ptx", compile_ptx(source, arch))
    _store(key, cubin)
    return cubin


def _lookup(key: str) -> bytes | None:
    directory = cache_dir()
    path = directory / f"{key}.cubin" if directory else None
    try:
        payload = read_checked(path, MAGIC) if path else None
        if payload is not None and not _is_cubin(payload):
            raise DamagedFile(f"{path}: not a CUDA ELF object")
    except DamagedFile:
        STATS["damaged"] += 1
        discard(path)
        payload = None
    if payload is None:
        STATS["misses"] += 1
        return None
    STATS["hits"] += 1
    return bytes(payload)


def _is_cubin(data) -> bool:
    """An ELF64 object for NVIDIA GPUs (EM_CUDA) whose section header table lies inside it: what nvcc
    writes, checked before a driver ever loads a cache entry whose checksum held."""
    head = bytes(data[:64])
    if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        return False
    machine, = struct.unpack_from("<H", head, 18)
    shoff, = struct.unpack_from("<Q", head, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
    return machine == 190 and shentsize == 64 and shoff + shnum * shentsize <= len(data)


def _store(key: str, cubin: bytes) -> None:
    directory = cache_dir()
    if directory is not None:
        write_checked(directory / f"{key}.cubin", MAGIC, cubin)


__all__ = ["find_nvcc", "nvcc_version", "compile_ptx", "kernel_resources", "KernelResources", "compile_cubin", "run_nvcc", "cubin_key", "NvccError",
           "cache_dir", "STATS", "FLAGS"]
