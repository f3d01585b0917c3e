"""Runs a script and writes the CUDA C of every run signature it compiles, without running any of it.

    python capture_graphs.py OUT.cu PREFIX script.py [script args...]

Session.run's compile step is replaced: each lowered Module goes through the cpu
pipeline (as target "cuda" compiles it) and the CUDA code generator, and the run
returns zeros of the right shapes and dtypes, so a training script walks through
all its signatures in seconds. Whatever the zeros make the script do afterwards
(a failed accuracy check) does not matter: the exit status is that of capturing.
"""
import os
import runpy
import sys

import numpy as np


MAX_RUNS = 40       # runs of compiled signatures a script may make before capturing ends


class CaptureDone(BaseException):
    """Ends the script (a BaseException, so that no `except Exception` of the script swallows it)."""


def main() -> int:
    out_path, prefix, script, *argv = sys.argv[1:]
    import xlite.runtime.session as session
    from xlite.codegen.cuda import emit_cuda
    from xlite.codegen.cuda.prelude import PRELUDE
    from xlite.runtime import driver

    bodies = []

    from xlite.ir.symbolic import check_consistent, evaluate

    runs = [0]

    class Zeros:
        def __init__(self, module):
            root = module.entry.root
            self.params = [p.shape.dims for p in module.entry.parameters]
            self.outputs = [(o.shape.dims, o.shape.dtype.np) for o in
                            (root.operands if root.opcode == "tuple" else [root])]

        def run(self, args, stop=None):
            runs[0] += 1
            if runs[0] > MAX_RUNS:          # zeros never end a training loop: stop the script here
                raise CaptureDone(f"{MAX_RUNS} runs")
            env = check_consistent(self.params, args)      # a symbolic signature's sizes for this run
            return [np.zeros(tuple(evaluate(d, env) for d in dims), dtype) for dims, dtype in self.outputs]

        call = run

    def capture(module, target, options=None):
        program = emit_cuda(driver.optimize(module), prefix=f"{prefix}{len(bodies)}_")
        bodies.append(program.source[len(PRELUDE):])
        return Zeros(module)

    driver.compile = capture
    session.check_target_available = lambda target: None
    sys.argv = [script] + argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except BaseException as e:                         # zeros may well upset the script's own checks
        print(f"capture_graphs: {script} stopped: {type(e).__name__}: {e}", file=sys.stderr)
    with open(out_path, "w") as f:
        f.write(PRELUDE + "\n".join(bodies))
    print(f"captured {len(bodies)} run signatures")
    return 0 if bodies else 1


if __name__ == "__main__":
    sys.exit(main())
