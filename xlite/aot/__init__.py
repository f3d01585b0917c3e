"""Ahead-of-time compilation: a run signature to a native object and a C header (like tfcompile).

    xlite.aot.compile(fetches, feeds, session=None, name="model", out_dir=".", variables="freeze"|"args",
                      target_cpu="host", updates=(), threads=1)   -> Artifacts (NAME.o, .h, _example.c, .so)
    xlite.aot.load("NAME.so")   -> a callable taking NumPy arrays by argument name (no LLVM in the process)

`xlite compile SCRIPT.py --fetch ... --feed ...` is the command-line form. The compiler lives in
xlite/aot/compiler.py (not compile.py: a submodule named `compile` would replace this function as the
package's attribute once imported) and is imported on first use, so `import xlite.aot` and `load`
never import llvmlite or the code generator.
"""
from __future__ import annotations

from xlite.aot.load import AotFunction, load


def __getattr__(name: str):
    if name in ("compile", "Artifacts", "build_signature"):
        from xlite.aot import compiler
        return getattr(compiler, name)
    raise AttributeError(f"module 'xlite.aot' has no attribute {name!r}")


__all__ = ["compile", "load", "AotFunction", "Artifacts"]
