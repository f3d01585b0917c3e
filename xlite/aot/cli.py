"""`xlite compile SCRIPT.py --fetch NAME[,NAME] --feed NAME:SHAPE[,...] ...`: a script's graph to an AOT artifact;
`xlite compile model.pb ...` and `xlite compile --saved-model DIR --signature KEY ...`: TF's files (tf_inputs.py).

The script runs with `__name__ == "__xlite_compile__"` under a fresh default graph, so its
module-level graph construction runs and an `if __name__ == "__main__":` training loop does not.
The fetches and feeds are looked up by name in that graph (or in a Graph the script keeps in a
global), or as the script's globals of that name (`--update train` for
`train = opt.minimize(loss)`). With --checkpoint the Variables are restored through the script's
own `tf.train.Saver` when it defines one at module level (else a Saver over every global
Variable); with variables=freeze and no checkpoint they keep their initializers' values.
"""
from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("script", nargs="?", help="the Python script that builds the graph, or a frozen GraphDef "
                                                  "(.pb binary, .pbtxt text)")
    parser.add_argument("script_args", nargs="*", help="arguments for the script (after --)")
    parser.add_argument("--fetch", action="append", default=[], metavar="NAME[,NAME]",
                        help="tensors to return, in order (\"softmax\" or \"softmax:0\"); an op without "
                             "outputs (a train op) is run for its updates; with --saved-model also output keys "
                             "(default: every output of the signature, by key)")
    parser.add_argument("--feed", action="append", default=[], metavar="NAME:SHAPE[,...]",
                        help="placeholders and their shapes, e.g. images:128x784,labels:128x10 (the shape "
                             "follows the last colon; a scalar: NAME:scalar; just NAME: the placeholder's own, "
                             "fully known shape)")
    parser.add_argument("--update", action="append", default=[], metavar="OP[,OP]",
                        help="more ops to run for their Variable updates (needs --variables args)")
    parser.add_argument("--saved-model", metavar="DIR", help="compile a signature of this SavedModel instead of "
                                                             "a script (its variables restored)")
    parser.add_argument("--signature", default="serving_default",
                        help="the SavedModel's signature (default: serving_default); --feed may use its input keys")
    parser.add_argument("--tags", default="serve", metavar="TAG[,TAG]",
                        help="the tag set of the SavedModel's MetaGraphDef (default: serve)")
    parser.add_argument("--checkpoint", help="a Saver checkpoint (prefix, .xckpt file or its directory)")
    parser.add_argument("--variables", choices=("freeze", "args"), default="freeze",
                        help="freeze: the Variables' values become constants (default); args: arguments, "
                             "updated in place")
    parser.add_argument("-o", "--out-dir", default=".", help="where the artifacts go (default: .)")
    parser.add_argument("--name", default="model", help="the C name prefix and file name (default: model)")
    parser.add_argument("--target-cpu", default="host",
                        help="host (default) or an LLVM CPU name: x86-64, x86-64-v3, skylake-avx512, znver4, ...")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads one call may start (default 1: libc and libm only; more: pthreads)")
    parser.add_argument("--no-shared", action="store_true", help="do not link NAME.so")
    parser.add_argument("--dump-dir", help="also dump the IR at every stage (as xlite dump-ir does) here")


def _names(values: list) -> list:
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def parse_feed(spec: str) -> tuple[str, tuple | None]:
    """'images:128x784' -> ('images', (128, 784)); 'x:0:3x4' -> ('x:0', (3, 4)); 'v:5' -> ('v', (5,));
    'a:scalar' or 'a:' -> ('a', ()); 'images' -> ('images', None): the placeholder's own, fully known shape.
    What follows the last colon is always the shape."""
    name, sep, shape = spec.rpartition(":")
    if not sep or not name:
        return spec, None
    text = shape.strip().strip("[]()")
    if text in ("", "scalar"):
        return name, ()
    if not all(part.strip().isdigit() for part in text.replace("*", "x").split("x")):
        raise SystemExit(f"xlite compile: bad shape {shape!r} in --feed {spec!r} (write e.g. 128x784)")
    return name, tuple(int(part) for part in text.replace("*", "x").split("x"))


def _run_script(path: str, argv: list):
    """The script's globals after running its module level under a fresh default graph, and that graph."""
    import runpy

    import xlite as tf
    saved = sys.argv, list(sys.path)
    sys.argv = [path] + list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    graph = tf.Graph()
    try:
        with graph.as_default():
            namespace = runpy.run_path(path, run_name="__xlite_compile__")
    finally:
        sys.argv, sys.path[:] = saved
    return namespace, graph


def _find(graphs: list, name: str, allow_operation: bool, namespace: dict | None = None):
    """The tensor (or op) `name` names in the graph, else the script's global of that name."""
    from xlite.frontend.graph import Operation, Tensor
    element = (namespace or {}).get(name)
    if hasattr(element, "_as_graph_element"):           # a Variable
        element = element._as_graph_element()
    if isinstance(element, (Tensor, Operation)) and any(element.graph is g for g in graphs):
        graphs = [element.graph]
        name = element.name
    for graph in graphs:
        try:
            element = graph.as_graph_element(name, allow_tensor=True, allow_operation=True)
        except (KeyError, ValueError, TypeError):
            continue
        if isinstance(element, Operation):
            if element.outputs:
                return graph, element.outputs[0]
            if allow_operation:
                return graph, element
            raise SystemExit(f"xlite compile: {name!r} is an op without outputs, not a tensor")
        return graph, element
    raise SystemExit(f"xlite compile: the script's graph has no tensor or op named {name!r}")


def _restore(sess, graph, namespace: dict, checkpoint: str) -> None:
    import xlite as tf
    if os.path.isdir(checkpoint):
        found = tf.train.latest_checkpoint(checkpoint)
        if found is None:
            raise SystemExit(f"xlite compile: no checkpoint in {checkpoint}")
        checkpoint = found
    if checkpoint.endswith(".xckpt"):
        checkpoint = checkpoint[:-len(".xckpt")]
    saver = next((v for v in namespace.values() if isinstance(v, tf.train.Saver)), None)
    if saver is None:
        with graph.as_default():
            saver = tf.train.Saver()
    saver.restore(sess, checkpoint)


def run_from_args(args: argparse.Namespace) -> int:
    from xlite import errors
    try:
        return _compile(args)
    except (ValueError, TypeError, NotImplementedError, RuntimeError, errors.OpError) as e:
        print(f"xlite compile: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


def _compile_tf_file(args: argparse.Namespace) -> int:
    """A frozen GraphDef or a SavedModel signature: the fetches and feeds by name (or signature key)."""
    from xlite.aot import tf_inputs
    if args.saved_model:
        if args.script:
            raise SystemExit("xlite compile: give a script (or GraphDef) or --saved-model, not both")
        loaded = tf_inputs.load_saved_model(args.saved_model, _names([args.tags]), args.signature)
    else:
        if args.checkpoint:
            raise SystemExit("xlite compile: a GraphDef is compiled frozen; --checkpoint needs a script")
        loaded = tf_inputs.load_graph_def(args.script)
    fetch_names = _names(args.fetch) or list(loaded.outputs)
    if not fetch_names:
        raise SystemExit("xlite compile: give the tensors to compute with --fetch")
    fetches = [tf_inputs.resolve(loaded, n, loaded.outputs, True) for n in fetch_names]
    updates = [tf_inputs.resolve(loaded, n, {}, True) for n in _names(args.update)]
    feeds = {}
    for spec in _names(args.feed):
        name, shape = parse_feed(spec)
        feeds[tf_inputs.resolve(loaded, name, loaded.inputs, False)] = shape
    for tensor in loaded.inputs.values():      # the signature's other inputs, at their own static shapes
        feeds.setdefault(tensor, None)
    return _emit(args, fetches, feeds, updates, loaded.session, loaded.graph)


def _compile(args: argparse.Namespace) -> int:
    import xlite as tf
    from xlite.aot import tf_inputs
    if args.saved_model or (args.script and tf_inputs.is_graph_def(args.script)):
        return _compile_tf_file(args)
    if not args.script:
        raise SystemExit("xlite compile: give a script, a frozen GraphDef (.pb, .pbtxt) or --saved-model DIR")
    if not args.fetch:
        raise SystemExit("xlite compile: give the tensors to compute with --fetch")
    namespace, default_graph = _run_script(args.script, args.script_args)
    graphs = [default_graph] + [v for v in namespace.values() if isinstance(v, tf.Graph) and v is not default_graph]
    fetch_names, update_names = _names(args.fetch), _names(args.update)
    graph, first = _find(graphs, fetch_names[0], True, namespace)
    fetches = [first] + [_find([graph], n, True, namespace)[1] for n in fetch_names[1:]]
    updates = [_find([graph], n, True, namespace)[1] for n in update_names]
    feeds = {}
    for spec in _names(args.feed):
        name, shape = parse_feed(spec)
        feeds[_find([graph], name, False, namespace)[1]] = shape
    sess = None
    if args.variables == "freeze":
        sess = tf.Session(target="interpreter", graph=graph)
        if args.checkpoint:
            _restore(sess, graph, namespace, args.checkpoint)
        else:
            with graph.as_default():
                init = tf.global_variables_initializer()
            sess.run(init)
            if graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES):
                print("xlite compile: no --checkpoint: freezing the Variables' initial values", file=sys.stderr)
    return _emit(args, fetches, feeds, updates, sess, graph)


def _emit(args: argparse.Namespace, fetches: list, feeds: dict, updates: list, sess, graph) -> int:
    """Compiles the run signature through xlite.aot.compile and writes and lists the artifacts."""
    from xlite.aot.compiler import compile as aot_compile
    from xlite.passes import dump
    if args.variables == "args":
        sess = None
    if args.dump_dir:
        dump.configure(os.path.abspath(args.dump_dir))
    try:
        artifacts = aot_compile(fetches, feeds, session=sess, name=args.name, out_dir=args.out_dir,
                                variables=args.variables, target_cpu=args.target_cpu, updates=updates,
                                threads=args.threads, shared=not args.no_shared, graph=graph)
    finally:
        if args.dump_dir:
            dump.reset()
    print(artifacts.table())
    for path in (artifacts.object_path, artifacts.header_path, artifacts.example_path, artifacts.shared_path):
        if path:
            print(f"wrote {path}")
    print("undefined symbols: " + (" ".join(artifacts.undefined_symbols) or "(none)"))
    return 0


__all__ = ["add_arguments", "run_from_args", "parse_feed"]
