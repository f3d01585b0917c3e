"""host_call on the cuda backend: not compiled. A Python callback between launches would need the
program's host steps to take several operands (collectives.py takes one); until then it is a clear gap,
refused when the program is emitted, before anything runs."""
from __future__ import annotations

from xlite import errors
from xlite.codegen.cuda.kernels import kernel_rule
from xlite.ir.module import Instruction, Module


def refuse_host_calls(module: Module) -> None:
    """Raises UnimplementedError naming the first host call's TF op (py_func, Print, CheckNumerics, Assert)."""
    for comp in module.all_computations():
        for inst in comp.instructions:
            if inst.opcode == "host_call":
                raise _refusal(inst)


def _refusal(inst: Instruction) -> errors.OpError:
    return errors.unimplemented(
        f"{inst.metadata.op_name or inst.name} (a Python host call: tf.py_func, tf.numpy_function, tf.Print, "
        f"tf.print, check_numerics or a run-time tf.Assert) on the cuda target; run it with target 'cpu' or "
        f"'interpreter'")


@kernel_rule("host_call")
def emit_host_call(kb, leaf, out, target):
    """(emit_cuda refuses the module first; a kernel reached any other way refuses here)"""
    raise _refusal(target)


__all__ = ["refuse_host_calls", "emit_host_call"]
