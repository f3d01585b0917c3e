"""benchmarks/cupy_workloads.py with xp = numpy against xlite's interpreter: the op-by-op code that CuPy
runs on a GPU gives the interpreter's answer (outputs; for a training step the loss and every Variable
after one step), checked by the same comparison `xlite bench` makes before timing a system."""
import importlib

import numpy as np
import pytest

import xlite as tf
from xlite import bench

workloads = bench.load_workloads()
cw = importlib.import_module("benchmarks.cupy_workloads")


def _reference(wid):
    prog = workloads.WORKLOADS[wid].build()
    ref = bench._first_step(tf.Session(target="interpreter", graph=prog.graph), prog)
    return prog, ref


def _op_by_op(wid, prog, ref):
    program = cw.make(wid, prog, ref["before"] or None, xp=np)
    got = program.first()
    n = len(ref["outputs"])
    return {"outputs": got[:n], "after": got[n:]}


@pytest.mark.parametrize("wid", [pytest.param("W1", marks=pytest.mark.slow), "W2", pytest.param("W3", marks=pytest.mark.slow), "W4"])
def test_op_by_op_matches_interpreter(wid):
    prog, ref = _reference(wid)
    values = _op_by_op(wid, prog, ref)
    bench._check_step(values, ref, workloads.WORKLOADS[wid])
    assert len(values["after"]) == len(prog.variables)


@pytest.mark.slow
def test_cnn_step_matches_interpreter():
    """W5: im2col convolutions, max-pool and their hand-written gradients, every Variable after one step."""
    prog, ref = _reference("W5")
    values = _op_by_op("W5", prog, ref)
    bench._check_step(values, ref, workloads.WORKLOADS["W5"])
    assert len(values["after"]) == 8


@pytest.mark.slow
def test_a_wrong_step_is_caught(monkeypatch):
    """The comparison has teeth: twice the learning rate changes every update of the W3 step."""
    prog, ref = _reference("W3")
    monkeypatch.setattr(cw, "LR", 0.02)
    with pytest.raises(bench.Mismatch, match="variable"):
        bench._check_step(_op_by_op("W3", prog, ref), ref, workloads.WORKLOADS["W3"])


@pytest.mark.slow
def test_steps_update_in_place_and_continue():
    """A timed call is a further step from the updated Variables: the loss goes on from the first step's."""
    prog, ref = _reference("W3")
    program = cw.make("W3", prog, ref["before"], xp=np)
    arrays = list(program.params)
    first = program.first()
    program.call()
    assert all(p is a for p, a in zip(program.params, arrays))
    assert not np.array_equal(program.params[0], first[1])
    assert float(cw.mlp_step(np, program.params, *program.feeds)) < float(first[0])


def test_max_pool_gradient_goes_to_the_first_maximum():
    """Ties in a window (common after ReLU) send the gradient to one element only, like MaxPoolGrad."""
    x = np.array([[3, 3, 1, 2], [3, 0, 2, 2], [0, 0, 5, 1], [0, 0, 1, 5]], np.float32).reshape(1, 4, 4, 1)
    g = np.array([[10, 20], [30, 40]], np.float32).reshape(1, 2, 2, 1)
    graph = tf.Graph()
    with graph.as_default():
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        (dx,) = tf.gradients(y, [xt], grad_ys=[tf.constant(g)])
        want_y, want_dx = tf.Session(target="interpreter", graph=graph).run([y, dx])
    np.testing.assert_array_equal(cw.max_pool(np, x), want_y)
    np.testing.assert_array_equal(cw.max_pool_grad(np, x, g), want_dx)
    assert np.count_nonzero(want_dx) == 4


def test_unknown_workload_and_wrong_initial_values():
    prog = workloads.build_w4()
    with pytest.raises(KeyError):
        cw.make("W6", prog, xp=np)
    with pytest.raises(ValueError, match="W3"):
        cw.make("W3", workloads.build_w3(), [np.zeros(3, np.float32)], xp=np)
