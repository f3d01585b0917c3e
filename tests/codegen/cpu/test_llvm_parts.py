"""LLVM IR cut into parts optimized on several threads, and identical functions merged (llvm_parts.py)."""
import llvmlite.binding as llvm
import numpy as np

import xlite as tf
import xlite.codegen.cpu as cpu
from xlite.codegen.cpu import llvm_parts
from xlite.codegen.cpu.compiler import triple_and_layout

KERNEL = '''define internal void @"{name}"(ptr noalias %".1", i64 %".2") nounwind
{{
entry:
  %".3" = load ptr, ptr @"xlite_sizes"
  %".4" = getelementptr inbounds float, ptr %".1", i64 %".2"
  store float {value}, ptr %".4"
  ret void
}}'''


def _module(kernels) -> str:
    triple, layout = triple_and_layout()
    calls = "\n".join(f'  call void @"{name}"(ptr %".1", i64 {k})' for k, (name, _) in enumerate(kernels))
    return "\n".join([
        '; ModuleID = "t"', f'target triple = "{triple}"', f'target datalayout = "{layout}"', "",
        '@"xlite_sizes" = internal global ptr null',
        '@"const0" = internal unnamed_addr constant [4 x i8] c"\\00\\00\\00C", align 64',
        'declare float @"llvm.fma.f32"(float %".1", float %".2", float %".3")', "",
        'define external void @"xlite_entry"(ptr %".1") nounwind', "{", "entry:",
        '  store ptr %".1", ptr @"xlite_sizes"', calls, "  ret void", "}", "",
        *[KERNEL.format(name=name, value=value) for name, value in kernels]]) + "\n"


def _defined(text: str) -> list[str]:
    mod = llvm.parse_assembly(text, context=llvm.create_context())
    mod.verify()
    return sorted(fn.name for fn in mod.functions if not fn.is_declaration)


def test_identical_functions_merge_and_their_calls_follow():
    text = _module([("k0", "1.0"), ("k1", "1.0"), ("k2", "2.0")])
    merged = llvm_parts.merge_identical(text)
    assert _defined(merged) == ["k0", "k2", "xlite_entry"]
    assert merged.count('call void @"k0"') == 2
    assert llvm_parts.merge_identical(merged) == merged


def test_parts_define_each_function_once_and_share_mutable_globals(monkeypatch):
    monkeypatch.setattr(llvm_parts, "MIN_PART_LINES", 1)
    text = _module([("k0", "1.0"), ("k1", "2.0"), ("k2", "3.0")])
    parts, shared = llvm_parts.split(text, 2)
    assert len(parts) == 2
    defined = [_defined(p) for p in parts]
    assert "xlite_entry" in defined[0]
    assert sorted(defined[0] + defined[1]) == ["k0", "k1", "k2", "xlite_entry"]
    assert '@"xlite_sizes" = global ptr null' in parts[0]
    assert '@"xlite_sizes" = external global ptr' in parts[1]
    assert "xlite_sizes" in shared and set(defined[1]) <= shared
    linked = llvm_parts.optimize_in_parts(parts, shared, 3, llvm.create_context())
    linked.verify()
    assert linked.get_function("xlite_entry").linkage == llvm.Linkage.external
    assert all(linked.get_function(n).linkage == llvm.Linkage.internal for n in shared - {"xlite_sizes"})
    sizes = [g for g in linked.global_variables if g.name == "xlite_sizes"]
    assert len(sizes) == 1 and sizes[0].linkage == llvm.Linkage.internal


def test_a_module_with_a_global_of_unknown_type_stays_whole(monkeypatch):
    monkeypatch.setattr(llvm_parts, "MIN_PART_LINES", 1)
    text = _module([("k0", "1.0"), ("k1", "2.0")]).replace(
        '@"xlite_sizes" = internal global ptr null', '@"xlite_sizes" = internal global ptr null\n'
        '@"table" = internal global [2 x i64] zeroinitializer')
    assert llvm_parts.split(text, 2) is None


def test_a_training_step_compiled_in_parts_matches_the_interpreter(monkeypatch):
    monkeypatch.setattr(llvm_parts, "MIN_PART_LINES", 1)
    monkeypatch.setattr(cpu, "num_threads", lambda: 2)
    monkeypatch.setenv("XLITE_CACHE", "0")
    monkeypatch.setenv("XLITE_LLVM_WORKER", "0")
    monkeypatch.setenv("XLITE_TIERED", "0")          # a tier-up optimizes on one thread, never in parts
    used = []
    optimize = llvm_parts.optimize_in_parts
    monkeypatch.setattr(llvm_parts, "optimize_in_parts", lambda *a: used.append(len(a[0])) or optimize(*a))
    rng = np.random.RandomState(0)
    xs, ys = rng.randn(5, 7).astype(np.float32), np.eye(3, dtype=np.float32)[[0, 2, 1, 1, 0]]
    results = {}
    for target in ("cpu", "interpreter"):
        with tf.Graph().as_default():
            tf.set_random_seed(3)
            x, y = tf.placeholder(tf.float32, [5, 7]), tf.placeholder(tf.float32, [5, 3])
            h = tf.layers.dense(x, 9, activation=tf.nn.relu)
            logits = tf.layers.dense(h, 3)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
            step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
            with tf.Session(target=target) as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([step, loss], {x: xs, y: ys})[1] for _ in range(3)]
                results[target] = losses + sess.run(tf.trainable_variables())
    assert used and all(n == 2 for n in used)
    for got, want in zip(results["cpu"], results["interpreter"]):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
