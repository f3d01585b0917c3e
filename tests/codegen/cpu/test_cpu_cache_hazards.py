"""What may lie in a cache entry's place cannot hang, crash or run bad code: FIFOs, devices, symlinks,
directories, and objects whose checksum holds but which are not well formed. The cache stays bounded."""
import os
import resource
import shutil
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cpu_check import module_from
from xlite.codegen.checked_file import read_checked, write_checked
from xlite.codegen.cpu import cache, compile_cpu
from xlite.codegen.cpu.plan import ENTRY_NAME
from xlite.runtime.driver import with_naive_buffers

SCRIPT = textwrap.dedent("""
    import numpy as np
    import xlite as tf
    from xlite.codegen.cpu import cache
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.nn.relu(tf.matmul(x, tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))) - 5.0)
    with tf.Session(target="cpu") as sess:
        out = sess.run(y, {x: np.arange(8, dtype=np.float32).reshape(2, 4)})
    print(cache.STATS["damaged"], repr(out.tolist()))
""")
WANT = np.maximum(np.arange(8.0).reshape(2, 4) @ np.arange(12.0).reshape(4, 3) - 5.0, 0.0)


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))     # reading /dev/zero must not eat the host


def _run(cache_root) -> int:
    """Runs SCRIPT in a fresh process (a hang fails at the timeout); the number of damaged entries it met."""
    env = dict(os.environ, XLITE_CACHE_DIR=str(cache_root))
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120,
                            preexec_fn=_limit_memory)
    assert result.returncode == 0, result.stderr[-3000:]
    damaged, out = result.stdout.strip().split(" ", 1)
    np.testing.assert_allclose(np.array(eval(out)), WANT, rtol=1e-6)
    return int(damaged)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("warm")
    assert _run(root) == 0
    assert len(list((root / "cpu").glob("*.xo"))) == 2       # keyed as lowered and as optimized
    return root


@pytest.fixture
def entries(warm_cache, tmp_path):
    shutil.copytree(warm_cache, tmp_path / "cache")
    return tmp_path / "cache", sorted((tmp_path / "cache" / "cpu").glob("*.xo"))


def _regular_entries(root):
    return [p for p in (root / "cpu").iterdir() if p.is_file() and not p.is_symlink()]


@pytest.mark.slow
def test_a_fifo_in_place_of_an_entry_is_dropped_not_read(entries):
    root, paths = entries
    for path in paths:
        path.unlink()
        os.mkfifo(path)
    assert _run(root) == 2
    assert all(p.is_file() and read_checked(p, cache.MAGIC) for p in paths)     # compiled and filed again


@pytest.mark.slow
def test_a_symlink_to_a_device_in_place_of_an_entry_is_a_miss(entries):
    root, paths = entries
    for path in paths:
        path.unlink()
        path.symlink_to("/dev/zero")
    assert _run(root) == 0
    assert all(p.is_file() and not p.is_symlink() for p in paths)


@pytest.mark.slow
def test_a_directory_in_place_of_an_entry_leaves_no_temporary_file(entries):
    root, paths = entries
    for path in paths:
        path.unlink()
        path.mkdir()
    for _ in range(2):
        assert _run(root) == 2
        assert [p.name for p in (root / "cpu").iterdir() if p.name.endswith(".tmp")] == []
    assert all(p.is_dir() for p in paths)


def _sections(obj: bytes):
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    return [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize) for i in range(shnum)]


def _section_table_past_the_end(obj: bytearray) -> None:
    struct.pack_into("<Q", obj, 0x28, len(obj) + 4096)


def _relocation_outside_its_section(obj: bytearray) -> None:
    sections = _sections(bytes(obj))
    rela = next(s for s in sections if s[1] == 4 and sections[s[7]][2] & 0x2 and s[5])
    struct.pack_into("<Q", obj, rela[4], sections[rela[7]][5] + 64)


def _entry_symbol_missing(obj: bytearray) -> None:
    name = ENTRY_NAME.encode() + b"\0"
    at = bytes(obj).index(name)
    obj[at:at + len(name)] = name.upper()


def _rewrite_object(path, damage) -> None:
    """Damages the object inside a cache entry, keeping the entry's framing and checksum valid."""
    payload = bytes(read_checked(path, cache.MAGIC))
    head_len, = struct.unpack_from("<I", payload)
    obj_len, = struct.unpack_from("<Q", payload, 4 + head_len)
    start = 12 + head_len
    obj = bytearray(payload[start:start + obj_len])
    damage(obj)
    write_checked(path, cache.MAGIC, payload[:start] + bytes(obj) + payload[start + obj_len:])


@pytest.mark.slow
@pytest.mark.parametrize("damage", [_section_table_past_the_end, _relocation_outside_its_section,
                                    _entry_symbol_missing])
def test_an_entry_with_a_good_checksum_but_a_bad_object_is_rebuilt(entries, damage):
    root, paths = entries
    for path in paths:
        _rewrite_object(path, damage)
    assert _run(root) == 2
    assert _run(root) == 0                                   # filed again, whole
    assert len(_regular_entries(root)) == 2


def _scaled(factor: float):
    return module_from(lambda b, p: [b.emit("mul", (p, b.constant(np.full((5, 3), factor, np.float32))))],
                       [("f32", (5, 3))])


def test_the_cache_evicts_least_recently_used_entries_past_its_bound(tmp_path, monkeypatch):
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)

    def compile_and_check(factor):
        np.testing.assert_array_equal(compile_cpu(with_naive_buffers(_scaled(factor))).run([x])[0], x * np.float32(factor))
        return max((tmp_path / "cache" / "cpu").glob("*.xo"), key=lambda p: p.stat().st_mtime_ns)

    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path / "cache"))
    a, b = compile_and_check(3.0), compile_and_check(5.0)
    os.utime(a, (1_000_000, 1_000_000))                        # a is older than b ...
    os.utime(b, (2_000_000, 2_000_000))
    hits = cache.STATS["hits"]
    compile_and_check(3.0)                                     # ... until a hit touches it
    assert cache.STATS["hits"] == hits + 1 and a.stat().st_mtime > b.stat().st_mtime
    c_size = len(cache.MAGIC) + 40 + len(_payload_of(_scaled(7.0), tmp_path / "probe", monkeypatch))
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XLITE_CACHE_MAX_BYTES", str(a.stat().st_size + c_size))
    c = compile_and_check(7.0)                                 # over the bound: b, least recently used, goes
    assert c.stat().st_size == c_size
    assert sorted((tmp_path / "cache" / "cpu").iterdir()) == sorted([a, c])
    monkeypatch.setenv("XLITE_CACHE_MAX_BYTES", "1")
    d = compile_and_check(9.0)                                 # a bound below one entry keeps just the newest
    assert list((tmp_path / "cache" / "cpu").iterdir()) == [d]


def _payload_of(module, directory, monkeypatch) -> bytes:
    """The payload the module's cache entry holds (compiled into a cache of its own)."""
    monkeypatch.setenv("XLITE_CACHE_DIR", str(directory))
    compile_cpu(with_naive_buffers(module))
    (path,) = (directory / "cpu").glob("*.xo")
    return bytes(read_checked(path, cache.MAGIC))
