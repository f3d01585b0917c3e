"""tf.ConfigProto, RunOptions, RunMetadata: TF's fields and defaults, and what a Session does with them."""
import numpy as np
import pytest

import xlite as tf
from xlite.runtime import executable as executable_module


def test_nested_defaults_and_tf_field_names():
    config = tf.ConfigProto()
    assert config.intra_op_parallelism_threads == 0 and config.inter_op_parallelism_threads == 0
    assert config.allow_soft_placement is False and config.log_device_placement is False
    assert config.gpu_options.allow_growth is False and config.gpu_options.per_process_gpu_memory_fraction == 0.0
    assert config.graph_options.optimizer_options.global_jit_level == tf.OptimizerOptions.DEFAULT
    config.gpu_options.allow_growth = True
    config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_1
    assert config.gpu_options.allow_growth is True
    assert tf.ConfigProto().gpu_options.allow_growth is False            # defaults are not shared
    assert (tf.OptimizerOptions.ON_1, tf.OptimizerOptions.ON_2, tf.OptimizerOptions.OFF) == (1, 2, -1)
    assert tf.OptimizerOptions.GlobalJitLevel.ON_2 == 2 and tf.OptimizerOptions.L0 == -1
    assert (tf.RunOptions.NO_TRACE, tf.RunOptions.FULL_TRACE) == (0, 3)


def test_constructor_keywords_and_checks():
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False, intra_op_parallelism_threads=2,
                            gpu_options=tf.GPUOptions(allow_growth=True, visible_device_list="0"),
                            graph_options=tf.GraphOptions(optimizer_options=tf.OptimizerOptions(
                                opt_level=tf.OptimizerOptions.L0)),
                            device_count={"GPU": 0})
    assert config.allow_soft_placement and config.gpu_options.visible_device_list == "0"
    assert config.graph_options.optimizer_options.opt_level == -1 and config.device_count == {"GPU": 0}
    with pytest.raises(AttributeError, match="no_such_field"):
        tf.ConfigProto(no_such_field=1)
    with pytest.raises(AttributeError):
        config.gpu_options.allow_grwoth = True
    with pytest.raises(TypeError):
        tf.ConfigProto(intra_op_parallelism_threads="2")
    with pytest.raises(TypeError):
        tf.ConfigProto(gpu_options=tf.GraphOptions())


def test_equality_copy_and_text_format():
    a = tf.ConfigProto(inter_op_parallelism_threads=3)
    a.gpu_options.allow_growth = True
    b = tf.ConfigProto()
    assert a != b
    b.CopyFrom(a)
    assert a == b and b.gpu_options is not a.gpu_options
    assert str(a) == "inter_op_parallelism_threads: 3\ngpu_options {\n  allow_growth: true\n}\n"
    assert a.HasField("gpu_options") and not a.HasField("graph_options")
    run_metadata = tf.RunMetadata()
    assert run_metadata.step_stats.dev_stats == [] and str(run_metadata) == ""


def test_real_protos_have_the_same_fields():
    config_pb2 = pytest.importorskip("tensorboard.compat.proto.config_pb2")
    from xlite.config import DeviceStepStats, to_proto
    config = tf.ConfigProto(intra_op_parallelism_threads=2, allow_soft_placement=True, device_count={"CPU": 1})
    config.gpu_options.allow_growth = True
    config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_2
    proto = to_proto(config)
    assert isinstance(proto, config_pb2.ConfigProto)
    assert proto.intra_op_parallelism_threads == 2 and proto.gpu_options.allow_growth
    assert proto.graph_options.optimizer_options.global_jit_level == config_pb2.OptimizerOptions.ON_2
    assert dict(proto.device_count) == {"CPU": 1}
    assert config_pb2.ConfigProto.FromString(config.SerializeToString()) == proto
    for message in (tf.ConfigProto(), tf.GPUOptions(), tf.GraphOptions(), tf.OptimizerOptions(), tf.RunOptions(),
                    tf.RunMetadata()):
        fields = set(type(to_proto(message)).DESCRIPTOR.fields_by_name)
        assert set(type(message)._fields) <= fields, type(message).__name__
    assert tf.RunOptions.FULL_TRACE == config_pb2.RunOptions.FULL_TRACE
    metadata = tf.RunMetadata()
    metadata.step_stats.dev_stats.append(DeviceStepStats(device="/cpu:0"))
    assert to_proto(metadata).step_stats.dev_stats[0].device == "/cpu:0"


def test_session_accepts_config_options_and_run_metadata():
    x = tf.placeholder(tf.float32, [2])
    y = x * 2.0
    config = tf.ConfigProto(allow_soft_placement=True, inter_op_parallelism_threads=2)
    config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.OFF
    config.gpu_options.allow_growth = True
    run_metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        out = sess.run(y, feed_dict={x: [1.0, 2.0]}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                       run_metadata=run_metadata)
        np.testing.assert_array_equal(out, [2.0, 4.0])          # jit OFF still compiles and runs
        (dev,) = run_metadata.step_stats.dev_stats                # a traced run: tests/test_timeline.py
        assert [n.thread_id for n in dev.node_stats] == [0]
        with pytest.raises(TypeError, match="RunOptions"):
            sess.run(y, feed_dict={x: [1.0, 2.0]}, options={"trace_level": 3})
        with pytest.raises(TypeError, match="RunMetadata"):
            sess.run(y, feed_dict={x: [1.0, 2.0]}, run_metadata=[])
    with pytest.raises(TypeError, match="ConfigProto"):
        tf.Session(config={"intra_op_parallelism_threads": 1})


def test_intra_op_threads_cap_the_blas_threads_during_runs(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []
    original = executable_module.InterpreterExecutable.run

    def spy(self, args):
        seen.append([lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"])
        return original(self, args)
    monkeypatch.setattr(executable_module.InterpreterExecutable, "run", spy)
    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    a = tf.constant(np.ones((8, 8), np.float32))
    product = tf.matmul(a, a)
    with tf.Session("interpreter", config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
        sess.run(product)
    with tf.Session("interpreter") as sess:
        sess.run(product)
    assert seen[0] and all(n == 1 for n in seen[0])
    assert seen[1] == before
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"] == before


def test_log_device_placement_says_where_runs_execute(capsys):
    tf.Session("interpreter", config=tf.ConfigProto(log_device_placement=True))
    err = capsys.readouterr().err
    assert "Device mapping" in err and "'interpreter'" in err
