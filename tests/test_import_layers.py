"""Imports flow one way (docs/design.md, "Layers"): every import in xlite, module-level or inside a function,
is checked against the layer table below, read from the source with `ast` (nothing is imported).

    base (version, errors, tf_logging, cancellation, arguments, gfile)  nothing but base: leaf modules every layer may use
    ir                                  base
    semantics                           base, ir
    passes                              base, ir, semantics
    frontend                            base, ir, semantics
    codegen                             base, ir, semantics          (never passes, runtime, frontend)
    runtime (and config)                all of the above
    eager                               all of the above (eager tensors, per-op dispatch, GradientTape)
    function                            all of the above and eager (tf.function, AutoGraph)
    data                                all of the above (tf.data: dataset stages, iterators); no layer
                                        below imports it (a dataset's map function may use tf.function,
                                        never the reverse)
    io.format                           base (TF's file formats as bytes: CRC32C, table, tensor bundle,
                                        atomic writes), so that train's Saver, below io, may use them
    io                                  all of the above and io.format (GraphDef, MetaGraph, import of
                                        graphs); never train or the rest: tf.train's Saver calls into io
                                        (export_meta_graph), io never into the Saver
    keras                               all of the above, train, summary, and keras (tf.keras: layers, models,
                                        fit; TensorBoard's FileWriter);
                                        nothing in a layer above imports it (the rest may)
    estimator                           all of the above, keras, and estimator (tf.estimator on MonitoredSession,
                                        Saver, SavedModel, tf.data, Keras for model_to_estimator); nothing
                                        imports it but xlite itself (train and summary never: the Estimator
                                        uses their hooks and writers)
    the rest (train, summary, aot, bench, cli, ...)   anything, but xlite.aot never imports xlite.bench
                                        (the suite measures the AOT path; the AOT path knows no suite)

A function-local import is a dependency all the same: it only moves the failure to run time.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xlite"

BASE = {"xlite.version", "xlite.errors", "xlite.tf_logging", "xlite.cancellation", "xlite.arguments",
        "xlite.gfile"}
LAYERED = ("ir", "semantics", "passes", "frontend", "codegen", "runtime", "eager", "function", "data", "io",
           "keras", "estimator", "train", "summary")   # train, summary: named for keras' row; like the rest, anything
MAY_IMPORT = {
    "base": {"base"},
    "ir": {"base", "ir"},
    "semantics": {"base", "ir", "semantics"},
    "passes": {"base", "ir", "semantics", "passes"},
    "frontend": {"base", "ir", "semantics", "frontend"},
    "codegen": {"base", "ir", "semantics", "codegen"},
    "runtime": {"base", "ir", "semantics", "passes", "frontend", "codegen", "runtime"},
    "eager": {"base", "ir", "semantics", "passes", "frontend", "codegen", "runtime", "eager"},
    "function": {"base", "ir", "semantics", "passes", "frontend", "codegen", "runtime", "eager", "function"},
    "data": {"base", "ir", "semantics", "passes", "frontend", "codegen", "runtime", "eager", "function", "data"},
    "io.format": {"base", "io.format"},
    "io": {"base", "ir", "semantics", "passes", "frontend", "codegen", "runtime", "eager", "function", "data",
           "io.format", "io"},
    "keras": {"base", "ir", "semantics", "passes", "frontend", "codegen", "runtime", "eager", "function", "data",
              "io.format", "io", "train", "summary", "keras"},
    "estimator": {"base", "ir", "semantics", "passes", "frontend", "codegen", "runtime", "eager", "function", "data",
                  "io.format", "io", "train", "summary", "keras", "estimator"},
}
# (importer package, imported package) among the rest
FORBIDDEN = [("xlite.aot", "xlite.bench"), ("xlite.train", "xlite.estimator"), ("xlite.summary", "xlite.estimator")]

# Backward imports known and being removed: none since the interpreter's rules moved down to
# xlite/semantics/eval_rules.py (#14). Each entry is (importer, imported module); remove it with the import
# it stands for (test_allow_list_has_no_stale_entries fails until you do).
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    """The layer of an xlite module: its subpackage, `base` for the leaf utilities, `rest` otherwise."""
    if module in BASE:
        return "base"
    if module == "xlite.config":      # the Session's settings, RunOptions and StepStats: runtime data
        return "runtime"
    if module == "xlite.io.format" or module.startswith("xlite.io.format."):
        return "io.format"
    top = module.split(".")[1] if "." in module else ""
    return top if top in LAYERED else "rest"


@functools.lru_cache(maxsize=None)
def imports(module: str, top_level_only: bool = False) -> list[tuple[str, int]]:
    """(imported xlite module, line) for each import in `module`; `from pkg import name` names the
    submodule pkg.name where there is one, else pkg itself."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return [(name, line) for name, line in found if name == "xlite" or name.startswith("xlite.")]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violates(module: str, target: str) -> bool:
    """Whether `module` importing `target` goes against the layer table or a forbidden pair."""
    mine = layer(module)
    if mine in MAY_IMPORT and layer(target) not in MAY_IMPORT[mine]:
        return True
    return any(_within(module, a) and _within(target, b) for a, b in FORBIDDEN)


@functools.lru_cache(maxsize=None)
def backward_imports() -> frozenset[tuple[str, str, int]]:
    return frozenset((m, t, line) for m in MODULES for t, line in imports(m) if violates(m, t))


def test_no_backward_imports():
    bad = sorted((m, t, line) for m, t, line in backward_imports() if (m, t) not in KNOWN_VIOLATIONS)
    assert not bad, "imports against the layer table:\n" + "\n".join(
        f"  {MODULES[m].relative_to(PACKAGE.parent)}:{line}: {m} ({layer(m)}) imports {t} ({layer(t)})"
        for m, t, line in bad)


def test_allow_list_has_no_stale_entries():
    found = {(m, t) for m, t, _ in backward_imports()}
    stale = sorted(KNOWN_VIOLATIONS - found)
    assert not stale, f"fixed, so take them off KNOWN_VIOLATIONS: {stale}"


@pytest.mark.slow
def test_no_cycle_among_module_level_imports():
    graph = nx.DiGraph()
    for module in MODULES:
        graph.add_edges_from((module, t) for t, _ in imports(module, top_level_only=True) if t != module)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"module-level import cycles: {cycles}"


def test_the_table_refuses_what_it_must():
    assert layer("xlite.ir.module") == "ir" and layer("xlite.errors") == "base" and layer("xlite") == "rest"
    assert layer("xlite.bench.suite") == "rest" and layer("xlite.config") == "runtime"
    for module, target in [("xlite.ir.shape", "xlite.semantics.philox"), ("xlite.errors", "xlite.ir.dtypes"),
                           ("xlite.semantics.philox", "xlite.passes.dce"), ("xlite.passes.dce", "xlite.codegen.walk"),
                           ("xlite.codegen.cpu.cache", "xlite"), ("xlite.codegen.cpu.lowered", "xlite.passes.dump"),
                           ("xlite.codegen.cpu.computation", "xlite.runtime.tracing"),
                           ("xlite.frontend.graph", "xlite.runtime.session"), ("xlite.frontend.lower", "xlite.config"),
                           ("xlite.runtime.session", "xlite.train.saver"), ("xlite.aot.compiler", "xlite.bench"),
                           ("xlite.runtime.session", "xlite.function.tracing"),
                           ("xlite.frontend.op_registry", "xlite.function.func_graph"),
                           ("xlite.eager.tensor", "xlite.function.def_function"),
                           ("xlite.runtime.host_fed", "xlite.data.iterators"),
                           ("xlite.function.tracing", "xlite.data.dataset"), ("xlite.data.dataset", "xlite.train"),
                           ("xlite.io.meta_graph", "xlite.train.saver"), ("xlite.io.format.bundle", "xlite.ir.dtypes"),
                           ("xlite.runtime.session", "xlite.io.graph_def"),
                           ("xlite.frontend.layers", "xlite.keras.layers.core"), ("xlite.data.dataset", "xlite.keras"),
                           ("xlite.keras.backend", "xlite.bench.suite"), ("xlite.keras.engine.saving", "xlite.aot"),
                           ("xlite.keras.models", "xlite.estimator"), ("xlite.estimator.estimator", "xlite.bench"),
                           ("xlite.train.saver", "xlite.estimator.run_config"),
                           ("xlite.data.dataset", "xlite.estimator.inputs")]:
        assert violates(module, target), (module, target)
    for module, target in [("xlite.ir.dtypes", "xlite.errors"), ("xlite.codegen.cpu.cache", "xlite.version"),
                           ("xlite.runtime.executable", "xlite.codegen.cpu"), ("xlite.bench.suite", "xlite.aot.load"),
                           ("xlite.train.saver", "xlite.runtime.session"), ("xlite.runtime.tracing", "xlite.config"),
                           ("xlite.data.functions", "xlite.function.tracing"), ("xlite", "xlite.data"),
                           ("xlite.train.saver", "xlite.io.format.bundle"), ("xlite.io.graph_def", "xlite.io.format"),
                           ("xlite.io.meta_graph", "xlite.runtime.session"), ("xlite.train.saver", "xlite.io"),
                           ("xlite.keras.engine.saving", "xlite.train.saver"), ("xlite", "xlite.keras"),
                           ("xlite.keras.engine.graph_steps", "xlite.runtime.session"), ("xlite", "xlite.estimator"),
                           ("xlite.estimator.estimator", "xlite.train.monitored_session"),
                           ("xlite.estimator.keras_estimator", "xlite.keras.engine.model_config")]:
        assert not violates(module, target), (module, target)


def test_the_parser_sees_every_import():
    """Submodules named by `from pkg import name`, relative imports, and imports inside functions."""
    assert any(t == "xlite.frontend.default_session" for t, _ in imports("xlite.frontend.graph"))
    assert any(t == "xlite.bench.aot_workload" for t, _ in imports("xlite.bench.suite"))   # relative
    assert any(t == "xlite.errors" for t, _ in imports("xlite.gfile"))                     # from xlite import x
    local = {t for t, _ in imports("xlite.runtime.executable")} - {
        t for t, _ in imports("xlite.runtime.executable", top_level_only=True)}
    assert any(_within(t, "xlite.codegen") for t in local)                                # inside functions
