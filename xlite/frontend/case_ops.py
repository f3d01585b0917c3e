"""tf.case on nested tf.cond, tf.tuple, and the run-time checks (tf.assert_equal, tf.Print) xlite can or cannot make.

xlite's executables return values and raise nothing of their own, so a check
is made when the graph is built if static values decide it; one that needs
the run's values raises UnimplementedError naming the function.
"""
from __future__ import annotations

import builtins
import functools
import sys

import numpy as np

from xlite import errors
from xlite.frontend.control_flow_ops import cond
from xlite.frontend.convert import convert_pair, convert_to_tensor
from xlite.frontend.graph import Operation, Tensor, executing_eagerly
from xlite.frontend.math_ops import identity
from xlite.frontend.scopes import control_dependencies, name_scope
from xlite.frontend.variables import group, no_op
from xlite.ir import dtypes

__all__ = ["case", "tuple", "assert_equal", "Print"]


def _pairs(pred_fn_pairs) -> list:
    if isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = sorted(pred_fn_pairs.items(), key=lambda item: item[0].name)   # TF's order for a dict
    elif not isinstance(pred_fn_pairs, (list, builtins.tuple)):
        raise TypeError(f"'pred_fn_pairs' must be a list, tuple, or dict. Received: {type(pred_fn_pairs)}")
    pairs = []
    for pair in pred_fn_pairs:
        if not isinstance(pair, builtins.tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in 'pred_fn_pairs' must be a 2-tuple. Received {pair}.")
        pred, fn = pair
        if not isinstance(pred, Tensor):
            raise TypeError(f"pred must be a Tensor, got: {pred}")
        if pred.dtype != dtypes.bool_:
            raise TypeError(f"pred must be Tensor of type bool: {pred.name}")
        if not callable(fn):
            raise TypeError(f"fn for pred {pred.name} must be callable.")
        pairs.append((pred, fn))
    if not pairs:
        raise ValueError("tf.case needs at least one (pred, fn) pair")
    return pairs




def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The result of the first fn whose pred holds, else default(); nested tf.conds, so only that fn runs.

    As in TF, without a default the last fn serves as one. TF also asserts at run time that a pred holds
    then, and with `exclusive` that at most one does; xlite checks these only for preds known at graph build."""
    pairs = _pairs(pred_fn_pairs)
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    with name_scope(name, "case", [p for p, _ in pairs]):
        known = [p._static_value for p, _ in pairs]
        if all(v is not None for v in known):
            hits = int(sum(bool(v) for v in known))
            if exclusive and hits > 1:
                raise errors.InvalidArgumentError(None, None, f"Input error: exclusive=True: more than 1 "
                                                              f"conditions ({hits}) evaluated as True")
            if default is None and hits == 0:
                raise errors.InvalidArgumentError(None, None, "Input error: None of conditions evaluated as True")
        if default is None:
            pairs, default = pairs[:-1], pairs[-1][1]
        fn = default
        for pred, action in reversed(pairs):
            fn = functools.partial(cond, pred, action, fn, strict=strict)
        return fn()


def tuple(tensors, name=None, control_inputs=None) -> list:  # noqa: A001 - TF's name
    """Each tensor through an identity that waits for every tensor's op (and control_inputs): a join."""
    with name_scope(name, "tuple", [t for t in tensors if isinstance(t, Tensor)]):
        tensors = [t if t is None or isinstance(t, (Tensor, Operation)) else convert_to_tensor(t) for t in tensors]
        gating = [t if isinstance(t, Operation) else t.op for t in tensors if t is not None]
        for c in control_inputs or ():
            if not isinstance(c, (Tensor, Operation)):
                raise TypeError(f"'control_inputs' must only contain Operation or Tensor. Received: {type(c)}")
            gating.append(c.op if isinstance(c, Tensor) else c)
        gating = list(dict.fromkeys(gating))
        if not any(t is not None for t in tensors):
            raise ValueError(f"'tensors' must have at least one Tensor. Received: {tensors}.")
        gate = group(*gating) if gating else None
        out = []
        with control_dependencies([gate] if gate is not None else []):
            for t in tensors:
                if t is None:
                    out.append(None)
                elif isinstance(t, Operation):
                    out.append(group(t))
                else:
                    out.append(identity(t))
        return out


def assert_equal(x, y, data=None, summarize=None, message=None, name=None) -> Operation:
    """Checks x == y everywhere: when the graph is built if both values are known (as TF does), else in the run."""
    with name_scope(name, "assert_equal", [x, y]) as scope:
        x, y = convert_pair(x, y, "Equal")
        from xlite.frontend.math_ops import equal
        equal(x, y)   # shape and dtype errors, at the user's line
        xv, yv = x._static_value, y._static_value
        if xv is None or yv is None:    # checked in the run (assert_ops: a tf.Assert)
            from xlite.frontend.assert_ops import binary_assert
            return binary_assert(x, y, "==", "assert_equal", data, summarize, message, name=scope)
        if not np.all(np.equal(xv, yv)):
            text = "" if message is None else f"{message} "
            raise errors.InvalidArgumentError(None, None, f"{text}Condition x == y did not hold element-wise: "
                                                          f"x ({x.name}) = {xv!r}, y ({y.name}) = {yv!r}")
        return no_op(name=scope)


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802 - TF's name
    """TF1's printing identity: prints to stderr as TF's PrintV1 kernel does (`message[v v v...][...]`,
    `summarize` elements each, 3 by default) and gives `input_` back; in a graph, at each run (host_ops)."""
    if executing_eagerly():
        if first_n != 0:
            print_line(message, [np.asarray(convert_to_tensor(d)) for d in data], 3 if summarize is None else summarize)
        return convert_to_tensor(input_)
    from xlite.frontend.host_ops import print_v1     # host_ops builds on this module
    return print_v1(input_, data, message, first_n, summarize, name)


def print_line(message, values, limit: int) -> None:
    """One line of TF's PrintV1 kernel on stderr: `message[v v v...][...]`."""
    text = (message or "") + "".join(f"[{_summarize(np.asarray(v), limit)}]" for v in values)
    print(text, file=sys.stderr, flush=True)


def _element(value) -> str:
    """One value as TF's StrCat writes it: floats in the fewest of 6 (15) or 9 (17) significant digits."""
    if isinstance(value, np.floating):
        short, long_ = (6, 9) if value.dtype.itemsize <= 4 else (15, 17)
        text = f"{float(value):.{short}g}"
        return text if value.dtype.type(text) == value else f"{float(value):.{long_}g}"
    if isinstance(value, np.bool_):
        return "1" if value else "0"
    return str(value)


def _summarize(array: np.ndarray, limit: int) -> str:
    """TF's Tensor::SummarizeValue: the first `limit` elements (all for a negative limit) in nested
    brackets per dimension, with "..." where elements were left out."""
    flat = array.reshape(-1)
    limit = flat.size if limit < 0 or limit > flat.size else limit
    if array.ndim == 0:
        return _element(flat[0]) if flat.size else ""
    out, index = [], [0]

    def one_dim(dim: int) -> None:            # TF's PrintOneDim
        if index[0] >= limit:
            return
        if dim == array.ndim - 1:
            for i in range(array.shape[dim]):
                if index[0] >= limit:
                    if dim != 0:
                        out.append("...")
                    return
                if i > 0:
                    out.append(" ")
                out.append(_element(flat[index[0]]))
                index[0] += 1
            return
        for _ in range(array.shape[dim]):
            opened = index[0] < limit
            if opened:
                out.append("[")
            one_dim(dim + 1)
            if index[0] < limit or opened:
                out.append("]")
    one_dim(0)
    if flat.size > limit:
        out.append("...")
    return "".join(out)


format_element = _element           # (host_ops: tf.print and tf.Assert write values as TF does)
summarize_value = _summarize
