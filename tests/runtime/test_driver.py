"""The compile driver (xlite/runtime/driver.py): the one way from a lowered Module to code.

What it does is checked against the interpreter on every target, a repeated compile is checked to
run no pass at all, and the package's source is checked so that no other function runs a pipeline.
"""
import ast
from pathlib import Path

import numpy as np
import pytest

import xlite as tf
from xlite.codegen.cpu.lowered import CachedCpuExecutable
from xlite.frontend.lower import lower_run
from xlite.ir.compiled import CompiledModule
from xlite.passes import dump, pipelines
from xlite.runtime import driver
from xlite.semantics.eval_rules import evaluate_module

PACKAGE = Path(driver.__file__).resolve().parent.parent


def _lowered():
    """A run signature as Session.run lowers it: matmul, bias and relu of a feed, and a Variable update."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 5])
        w = tf.constant(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
        v = tf.Variable(np.arange(3, dtype=np.float32))
        y = tf.nn.relu(tf.matmul(x, w) + v)
        step = tf.assign_add(v, tf.reduce_sum(y, 0))
    return lower_run(g, [y], [step.op], {x: (7, 5)}).module


def _args(module):
    rng = np.random.default_rng(4)
    return [rng.standard_normal(p.shape.dims).astype(p.shape.dtype.np) for p in module.entry.parameters]


def _check_against_interpreter(executable, module):
    args = _args(module)
    want = evaluate_module(_lowered(), [a.copy() for a in args])
    got = executable.run([a.copy() for a in args])
    assert len(got) == len(want) == 2
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("target", ["interpreter", "cpu", "cuda"])
def test_each_target_computes_what_the_interpreter_does(target, request):
    if target == "cuda":
        request.getfixturevalue("emulated")
    module = _lowered()
    executable = driver.compile(module, target)
    _check_against_interpreter(executable, module)
    if target != "interpreter":
        assert isinstance(executable.compiled, CompiledModule)
        assert executable.compiled.module.layouts_assigned and executable.compiled.buffer_assignment.slices
        assert executable.compiled.output_aliases == {1: 1}        # the update goes into the Variable's buffer


@pytest.fixture
def counted_passes(monkeypatch):
    """How many times a pipeline ran (the driver calls pipelines.run_passes for every one)."""
    runs = []
    real = pipelines.run_passes

    def counting(pipeline, module, stage=None):
        runs.append([p.name for p in pipeline.passes])
        return real(pipeline, module, stage)
    monkeypatch.setattr(pipelines, "run_passes", counting)
    return runs


def test_a_second_compile_of_the_same_module_runs_no_pass(tmp_path, monkeypatch, counted_passes):
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    first = driver.compile(_lowered(), "cpu")
    assert len(counted_passes) == 1 and counted_passes[0][-1] == "buffer-assignment"
    again = driver.compile(_lowered(), "cpu")
    assert isinstance(again, CachedCpuExecutable) and len(counted_passes) == 1
    _check_against_interpreter(again, _lowered())
    assert again._compiled is None                                   # running needs no optimized module
    runs = len(counted_passes)
    assert again.compiled.buffer_assignment.peak_bytes == first.compiled.buffer_assignment.peak_bytes
    assert len(counted_passes) == runs + 1                           # asked for: the driver's callback ran it
    traced = driver.compile_traced(again)
    assert traced.plan.trace_capacity and len(counted_passes) == runs + 1   # from that compiled module


def test_an_optimized_module_is_compiled_as_it_is(counted_passes):
    compiled = driver.optimize(_lowered())
    assert len(counted_passes) == 1
    executable = driver.compile(compiled, "cpu")
    assert executable.compiled is compiled and len(counted_passes) == 1
    _check_against_interpreter(executable, compiled.module)


def test_target_aot_hands_its_emitter_the_compiled_module():
    seen = []

    def emit(compiled, dump_text):
        seen.append((compiled, dump_text))
        return b"object code"
    code = driver.compile(_lowered(), "aot", driver.CompileOptions(emit_object=emit))
    assert code.obj == b"object code" and seen == [(code.compiled, None)]
    assert code.compiled.module.layouts_assigned and code.compiled.buffer_assignment.slices


def test_unknown_targets_are_refused_before_any_pass(counted_passes):
    with pytest.raises(tf.errors.UnimplementedError, match="'tpu'"):
        driver.compile(_lowered(), "tpu")
    with pytest.raises(tf.errors.UnimplementedError, match="'aot'"):
        driver.compile(_lowered(), "aot")                         # no emitter: nothing to make an object with
    assert counted_passes == []


@pytest.mark.parametrize("target, backend_stages", [("cpu", ("llvm-ir", "assembly")),
                                                    pytest.param("cuda", ("cuda",), marks=pytest.mark.slow)])
def test_the_driver_dumps_the_passes_and_the_backend_s_stages(target, backend_stages, tmp_path, request):
    if target == "cuda":
        request.getfixturevalue("emulated")
    dump.configure(tmp_path)
    try:
        driver.compile(_lowered(), target)
    finally:
        dump.reset()
    names = sorted(p.name for p in tmp_path.iterdir())
    stages = [n.split(".")[3] for n in names if not n.endswith("summary.txt")]
    assert stages[0] == "frontend" and "fusion" in stages and "buffer-assignment" in stages
    assert all(s in stages for s in backend_stages)
    (buffers,) = [p for p in tmp_path.iterdir() if ".buffer-assignment." in p.name]
    assert "// arena" in buffers.read_text()                    # the assignment reached the dump
    (summary,) = tmp_path.glob("*.summary.txt")
    assert f"[target {target}]" in summary.read_text() and "peak" in summary.read_text()


# the source: one function runs a target's pipeline -------------------------------------------------

RUNNERS = {"run_passes", "cpu_pipeline", "naive_pipeline"}


def _calls_outside_the_passes() -> set:
    """(file, enclosing function, runner) for every call of a pipeline runner outside xlite/passes."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("passes/"):
            continue
        tree = ast.parse(path.read_text(), rel)
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Call):
                    callee = node.func
                    name = callee.id if isinstance(callee, ast.Name) else getattr(callee, "attr", None)
                    if name in RUNNERS:
                        found.add((rel, fn.name, name))
    return found


@pytest.mark.slow
def test_only_the_driver_runs_a_pass_pipeline():
    assert _calls_outside_the_passes() == {
        ("runtime/driver.py", "optimize", "cpu_pipeline"),
        ("runtime/driver.py", "run_pipeline", "run_passes"),
        ("runtime/driver.py", "with_naive_buffers", "naive_pipeline"),
    }


def test_no_pass_result_is_left_on_the_module():
    """Pass results are typed (CompiledModule, Module's own fields): no string-keyed `properties`."""
    assert not hasattr(_lowered(), "properties")
    users = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if ".properties" in p.read_text()]
    assert users == []
