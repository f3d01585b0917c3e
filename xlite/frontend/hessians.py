"""`tf.hessians`: second derivatives as gradients of gradients. TF loops over the gradient's elements with a
while loop and a TensorArray; xlite unrolls that loop over the (static) element count of each x: row j of
the Hessian is tf.gradients(gradient[j], x). The rows compile into one run."""
from __future__ import annotations

from xlite import errors
from xlite.frontend import array_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import gradients
from xlite.frontend.join_ops import concat, stack
from xlite.frontend.shape_ops import shape as shape_of


def hessians(ys, xs, name: str = "hessians", colocate_gradients_with_ops=False, gate_gradients=False,
             aggregation_method=None) -> list:
    """For each x, d^2 sum(ys) / dx dx, shaped x.shape + x.shape (zeros where the gradient does not depend
    on x). Every x needs a fully known static size."""
    xs = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    first = gradients(ys, xs, name=name)
    result = []
    for gradient, x in zip(first, xs):
        x_tensor = convert_to_tensor(x)
        n = x_tensor.shape.num_elements()
        if n is None:
            raise errors.unimplemented(f"tf.hessians needs x of a fully known shape; {x_tensor.name} has shape "
                                       f"{x_tensor.shape} (xlite unrolls TF's while loop over its elements)")
        if gradient is None:
            raise ValueError(f"tf.hessians: {x_tensor.name} does not affect ys, so it has no gradient")
        flat = array_ops.reshape(gradient, [-1])
        rows = []
        for j in range(n):
            row = gradients(flat[j], x, name=name, unconnected_gradients="zero")[0]
            rows.append(array_ops.reshape(row, [-1]))
        x_shape = shape_of(x_tensor)
        result.append(array_ops.reshape(stack(rows), concat([x_shape, x_shape], 0)))
    return result
