"""The on-disk cache of compiled code: hits in a fresh process, damaged entries recompiled."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cpu_check import module_from
from xlite.codegen.cpu import cache, compile_cpu
from xlite.runtime import driver
from xlite.runtime.driver import with_naive_buffers

SCRIPT = textwrap.dedent("""
    import numpy as np
    import xlite as tf
    from xlite.codegen.cpu import cache
    x = tf.placeholder(tf.float32, [None, 4])
    w = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    y = tf.nn.relu(tf.matmul(x, w) - 5.0)
    with tf.Session(target="cpu") as sess:
        out = sess.run(y, {x: np.ones((2, 4), np.float32)})
    print(cache.STATS["hits"], cache.STATS["misses"], out.sum())
""")


def _run_script(cache_dir):
    env = dict(os.environ, XLITE_CACHE_DIR=str(cache_dir))
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    hits, misses, total = result.stdout.split()
    return int(hits), int(misses), float(total)


@pytest.mark.slow
def test_second_process_hits_the_cache(tmp_path):
    first = _run_script(tmp_path)
    second = _run_script(tmp_path)
    assert first[:2] == (0, 1) and second[:2] == (1, 0)
    assert first[2] == second[2] == 2 * (18 + 22 + 26 - 15)


def _module():
    return module_from(lambda b, p: [b.emit("exp", (b.emit("add", (p, p)),))], [("f32", (5, 3))])


def _naive():
    return with_naive_buffers(_module())


def test_in_process_recompile_hits_and_damaged_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    before = dict(cache.STATS)
    want = compile_cpu(_naive()).run([x])[0]
    assert compile_cpu(_naive()).run([x])[0].tolist() == want.tolist()
    assert cache.STATS["hits"] == before["hits"] + 1
    (entry,) = list((tmp_path / "cpu").glob("*.xo"))
    data = bytearray(entry.read_bytes())
    for damage in (lambda d: d[: len(d) // 2], lambda d: d[:60] + bytes([d[60] ^ 0xFF]) + d[61:], lambda d: b""):
        entry.write_bytes(bytes(damage(data)))
        damaged = cache.STATS["damaged"]
        np.testing.assert_array_equal(compile_cpu(_naive()).run([x])[0], want)
        assert cache.STATS["damaged"] == damaged + 1
        assert entry.read_bytes() == bytes(data)      # rewritten whole


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("XLITE_CACHE", "0")
    compile_cpu(_naive())
    assert not (tmp_path / "cpu").exists()


# keyed on the Module as lowered: a hit runs no pass and no LLVM -----------------------------------

HIT_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import xlite as tf
    from xlite.codegen.cpu import cache
    x = tf.placeholder(tf.float32, [None, 4])
    w = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    y = tf.nn.relu(tf.matmul(x, w) - 5.0)
    c = tf.constant([1.5, 2.5])
    step = tf.assign_add(w, tf.ones([4, 3]))
    with tf.Session(target="cpu") as sess:
        sess.run(w.initializer)
        out, const, _ = sess.run([y, c, step], {x: np.ones((2, 4), np.float32)})
        after = sess.run(w)
    loaded = sorted(m for m in ("llvmlite.binding", "xlite.passes.pipelines", "xlite.codegen.cpu.computation")
                    if m in sys.modules)
    print(cache.STATS["hits"], cache.STATS["misses"], out.sum(), const.tolist(), after.sum(), ",".join(loaded) or "-")
""")


def _run_hit_script(cache_dir):
    env = dict(os.environ, XLITE_CACHE_DIR=str(cache_dir))
    result = subprocess.run([sys.executable, "-c", HIT_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.slow
def test_hit_by_lowered_module_loads_neither_llvm_nor_passes(tmp_path):
    first = _run_hit_script(tmp_path)
    second = _run_hit_script(tmp_path)
    assert first[:2] == ["0", "3"] and second[:2] == ["3", "0"]     # three signatures: init, the run, the read
    assert first[2:-1] == second[2:-1]
    assert float(second[2]) == 2 * (18 + 22 + 26 - 15) and second[3:5] == ["[1.5,", "2.5]"]
    assert float(second[5]) == 66 + 12
    assert "llvmlite.binding" in first[-1]
    assert second[-1] == "-"


def _lowered_module():
    """A Module as lowered: a parameter, a constant output and a Variable-like aliased update."""
    def build(b, p, v):
        return [b.emit("exp", (b.emit("add", (p, p)),)), b.constant(np.arange(6, dtype=np.float32).reshape(2, 3)),
                b.emit("mul", (v, v))]
    m = module_from(build, [("f32", (5, 3)), ("f32", (4,))])
    m.output_aliases = {2: 1}
    return m


def test_hit_by_lowered_module_in_process(tmp_path, monkeypatch):
    from xlite.codegen.cpu.lowered import CachedCpuExecutable
    from xlite.ir.printer import print_module
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    v = np.arange(4, dtype=np.float32)
    miss = driver.compile(_lowered_module(), "cpu")
    assert not isinstance(miss, CachedCpuExecutable) and miss.compiled.buffer_assignment is not None
    hits = cache.STATS["hits"]
    lowered = _lowered_module()
    text = print_module(lowered)
    hit = driver.compile(lowered, "cpu")
    assert cache.STATS["hits"] == hits + 1
    assert isinstance(hit, CachedCpuExecutable) and hit.lowered_module is lowered and hit._compiled is None
    assert (hit.num_kernels, hit.peak_bytes) == (miss.num_kernels, miss.peak_bytes)
    want = miss.run([x, v.copy()])
    v_hit = v.copy()
    got = hit.run([x, v_hit])
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)
    assert got[2] is v_hit                                          # the update is still in place
    again = hit.run([x, v.copy()])
    assert again[1] is not got[1] and again[1].flags.writeable     # a constant output is a fresh array
    assert hit._compiled is None                                    # running never needed the pipeline
    assert hit.compiled.buffer_assignment is not None               # optimized on first access, from a copy
    assert print_module(hit.lowered_module) == text
    assert cache.module_key(hit.compiled, "") == cache.module_key(miss.compiled, "")   # the same up to names
    results, trace = driver.compile_traced(hit).run_traced([x, v.copy()])
    np.testing.assert_array_equal(results[0], want[0])


def test_lowered_key_sees_literals_attributes_and_aliases():
    from xlite.codegen.cpu.lowered import lowered_cache_key
    key = lowered_cache_key(_lowered_module())
    assert key == lowered_cache_key(_lowered_module())
    other = _lowered_module()
    other.entry.root.operands[1].literal = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    assert lowered_cache_key(other) != key
    other = _lowered_module()
    other.output_aliases = {}
    assert lowered_cache_key(other) != key
    other = _lowered_module()
    other.layouts_assigned = True                                    # optimized already: no lowered key
    assert lowered_cache_key(other) is None


def test_elf_loader_runs_code_as_llvm_links_it(monkeypatch, tmp_path):
    """The same object linked by elf_loader and by LLVM's JIT linker: BLAS, libm and threads resolve."""
    from xlite.codegen.cpu import elf_loader
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))

    def build(b, a, m):
        dot = b.emit("dot", (m, m), lhs_batch_dims=(), rhs_batch_dims=(), lhs_contracting_dims=(1,),
                     rhs_contracting_dims=(0,))
        return [b.emit("sin", (a,)), b.emit("tanh", (a,)), dot]
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((1000, 700)).astype(np.float32), rng.standard_normal((64, 64)).astype(np.float32)]
    ours = compile_cpu(with_naive_buffers(module_from(build, [("f32", (1000, 700)), ("f32", (64, 64))])))
    assert isinstance(ours._code, elf_loader.ElfCode)
    monkeypatch.setenv("XLITE_CPU_LINKER", "llvm")
    llvm = compile_cpu(with_naive_buffers(module_from(build, [("f32", (1000, 700)), ("f32", (64, 64))])))
    assert not isinstance(llvm._code, elf_loader.ElfCode)
    for got, want in zip(ours.run(args), llvm.run(args)):
        np.testing.assert_array_equal(got, want)


def test_elf_loader_refuses_what_it_cannot_link():
    """Not an x86-64 ELF object, or a symbol this process lacks: UnsupportedObject (load_code then uses LLVM)."""
    from xlite.codegen.cpu import elf_loader
    with pytest.raises(elf_loader.UnsupportedObject):
        elf_loader.ElfCode(b"not an object" * 8, ["xlite_entry"])

    def build(b, m):
        return [b.emit("dot", (m, m), lhs_batch_dims=(), rhs_batch_dims=(), lhs_contracting_dims=(1,),
                       rhs_contracting_dims=(0,))]
    obj = compile_cpu(with_naive_buffers(module_from(build, [("f32", (64, 64))])))._code.obj
    with pytest.raises(elf_loader.UnsupportedObject, match="symbol xlite_"):
        elf_loader.ElfCode(obj, ["xlite_entry"], extra={})          # BLAS's names are only in `extra`
    code = elf_loader.load_code(obj, ["xlite_entry"])
    assert isinstance(code, elf_loader.ElfCode) and code.address
