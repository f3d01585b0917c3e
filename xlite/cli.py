"""The `xlite` command: one argparse subcommand per tool (see docs/design.md)."""
from __future__ import annotations

import argparse
import sys


def _bench(parser: argparse.ArgumentParser) -> None:
    from xlite import bench
    bench.add_arguments(parser)
    parser.set_defaults(run=bench.run_from_args)


def _run(parser: argparse.ArgumentParser) -> None:
    from xlite.distribute import launch
    launch.add_arguments(parser)


def _compile(parser: argparse.ArgumentParser) -> None:
    from xlite.aot import cli
    cli.add_arguments(parser)
    parser.set_defaults(run=cli.run_from_args)


def _dump_ir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="a Python script (run with dumping on) or an IR text file")
    parser.add_argument("args", nargs=argparse.REMAINDER,
                        help="the script's arguments (xlite's options may come anywhere before `--`)")
    for flag, help_text in _DUMP_IR_OPTIONS.items():
        parser.add_argument(flag, help=help_text)
    parser.set_defaults(run=_run_dump_ir)


_PASS_NAMES = ("dce", "cse", "constant-folding", "algebraic-simplifier", "simplify", "layout-assignment",
               "fusion", "scheduling", "buffer-assignment", "cpu")
_DUMP_IR_OPTIONS = {
    "--dump-dir": "where the numbered dump files go (default: a fresh temporary directory)",
    "--stage": "dump only these stages: comma-separated shell patterns, e.g. frontend,fusion,buffer*",
    "--format": "text (default), dot (Graphviz, fusions as clusters; SVG too when `dot` is installed), "
                "or text,dot",
    "--passes": "IR files only: the passes to run, comma-separated, from " + ", ".join(_PASS_NAMES)
                + " (default: cpu, the whole cpu pipeline)",
    "--target": "scripts: the Session target when the script names none (sets XLITE_TARGET); IR files: "
                "cuda adds the CUDA C and PTX stages (no GPU needed)",
}


def _pass(name: str):
    from xlite.passes import pipelines
    from xlite.passes.algebraic_simplifier import AlgebraicSimplifier
    from xlite.passes.buffer_assignment import BufferAssignmentPass
    from xlite.passes.constant_folding import ConstantFolding
    from xlite.passes.cse import CommonSubexpressionElimination
    from xlite.passes.dce import DeadCodeElimination
    from xlite.passes.fusion import Fusion
    from xlite.passes.layout_assignment import LayoutAssignment
    from xlite.passes.scheduling import Scheduling
    factories = {"dce": DeadCodeElimination, "cse": CommonSubexpressionElimination,
                 "constant-folding": ConstantFolding, "algebraic-simplifier": AlgebraicSimplifier,
                 "simplify": pipelines.simplification_pipeline, "layout-assignment": LayoutAssignment,
                 "fusion": Fusion, "scheduling": Scheduling, "buffer-assignment": BufferAssignmentPass}
    if name not in factories:
        raise SystemExit(f"xlite dump-ir: unknown pass {name!r}; expected one of {', '.join(_PASS_NAMES)}")
    return factories[name]()


def _take_options(args: argparse.Namespace) -> None:
    """Moves xlite's own options written after the program (and before `--`) out of its arguments."""
    rest, kept = list(args.args), []
    while rest:
        token = rest.pop(0)
        if token == "--":
            kept.extend(rest)
            break
        flag, eq, value = token.partition("=")
        if flag in _DUMP_IR_OPTIONS:
            if not eq:
                if not rest:
                    raise SystemExit(f"xlite dump-ir: {flag} needs a value")
                value = rest.pop(0)
            setattr(args, flag[2:].replace("-", "_"), value)
        else:
            kept.append(token)
    args.args = kept


def _run_dump_ir(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from xlite.passes import dump
    _take_options(args)
    formats = tuple(f.strip() for f in (args.format or "text").split(",") if f.strip())
    stages = tuple(s.strip() for s in args.stage.split(",")) if args.stage else None
    if not args.program.endswith(".py"):
        return _dump_ir_file(args, formats, stages)
    directory = os.path.abspath(args.dump_dir or tempfile.mkdtemp(prefix="xlite_dump_"))
    opts = dump.configure(directory, formats, stages)
    saved = os.environ.get(dump.ENV_DIR)
    os.environ[dump.ENV_DIR] = directory       # backends' own dumps (LLVM IR, assembly) go there too
    try:
        code = _run_script(args.program, args.args, args.target)
    finally:
        dump.reset()
        if saved is None:
            os.environ.pop(dump.ENV_DIR, None)
        else:
            os.environ[dump.ENV_DIR] = saved
    print(f"\nxlite dump-ir: {len(opts.summaries)} compiled run signature(s), files in {directory}")
    for text in opts.summaries:
        print(text)
    return code


def _run_script(path: str, argv: list, target: str | None) -> int:
    import os
    import runpy
    saved = sys.argv, list(sys.path), os.environ.get("XLITE_TARGET")
    sys.argv = [path] + list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    if target:
        os.environ["XLITE_TARGET"] = target
    code = 0
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv, sys.path[:] = saved[0], saved[1]
        if target:
            if saved[2] is None:
                os.environ.pop("XLITE_TARGET", None)
            else:
                os.environ["XLITE_TARGET"] = saved[2]
    return code


def _cuda_stages(module, assignment) -> list:
    """The CUDA C (and, where nvcc is installed, the PTX) of a module after the file's passes, as
    (stage, text, extension); needs no GPU. Without a buffer assignment from those passes each value
    gets a buffer of its own."""
    from xlite.codegen.cuda import cuda_stages
    from xlite.ir.compiled import CompiledModule
    from xlite.runtime.driver import with_naive_buffers
    return cuda_stages(CompiledModule(module, assignment) if assignment is not None else with_naive_buffers(module))


def _dump_ir_file(args: argparse.Namespace, formats: tuple, stages) -> int:
    from xlite.ir.parser import ParseError, parse_file
    from xlite.ir.verifier import verify_module
    from xlite.passes import dump
    from xlite.passes.pass_pipeline import PassPipeline
    from xlite.passes.pipelines import cpu_passes
    from xlite.runtime.driver import run_pipeline
    try:
        module = parse_file(args.program)
    except ParseError as e:
        print(f"{args.program}:{e.line}: error: {e.message}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{args.program}: error: {e.strerror or e}", file=sys.stderr)
        return 2
    names = [n.strip() for n in (args.passes or "cpu").split(",") if n.strip()]
    passes = [p for n in names for p in (cpu_passes() if n == "cpu" else [_pass(n)])]
    pipeline = PassPipeline(passes, verify=verify_module)
    if args.dump_dir:
        opts = dump.configure(args.dump_dir, formats, stages)
        with dump.compiling(module, "ir") as d:
            assignment = run_pipeline(module, pipeline, d.stage)
            if args.target == "cuda":
                for name, text, extension in _cuda_stages(module, assignment):
                    d.text(name, text, extension)
        dump.reset()
        print("\n".join(opts.summaries), file=sys.stderr)
    else:
        assignment = run_pipeline(module, pipeline)
    sys.stdout.write(dump.module_text(module, assignment))
    if args.target == "cuda" and not args.dump_dir:
        sys.stdout.write("\n" + _cuda_stages(module, assignment)[0][1])
    return 0


SUBCOMMANDS = {
    "bench": ("the benchmark suite: compiled vs interpreted (and vs JAX, and CuPy on --target cuda, when installed)",
              _bench),
    "dump-ir": ("the IR of a script's compiled runs at every stage (or of an IR file after some passes)",
                _dump_ir),
    "compile": ("a script's graph, a frozen GraphDef or a SavedModel signature ahead of time to an object "
                "file, a C header and a .so (like tfcompile)",
                _compile),
    "run": ("a training script in N processes under mpiexec, data-parallel over MPI (xlite.distribute)",
            _run),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xlite")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, configure) in SUBCOMMANDS.items():
        configure(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
