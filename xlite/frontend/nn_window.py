"""Window geometry shared by convolution and pooling: data formats, TF's SAME/VALID padding, transposes.

Every backward pass of a windowed op is another windowed op whose padding follows
from the forward one (`transpose_padding`), computed here once for both.
"""
from __future__ import annotations

from xlite.frontend.graph import Tensor

# batch axis, feature axis, spatial axes
DATA_FORMATS = {"NHWC": (0, 3, (1, 2)), "NCHW": (0, 1, (2, 3)),
                "NWC": (0, 2, (1,)), "NCW": (0, 1, (2,)),
                "NDHWC": (0, 4, (1, 2, 3)), "NCDHW": (0, 1, (2, 3, 4))}


def data_format_axes(data_format: str) -> tuple[int, int, tuple]:
    try:
        return DATA_FORMATS[data_format]
    except KeyError:
        raise ValueError(f"Unknown data_format {data_format!r}; expected one of {sorted(DATA_FORMATS)}") from None


def lhs_spec(data_format: str) -> tuple:
    """The IR convolution's (batch, feature, spatial...) dimension numbers for this layout."""
    batch, feature, spatial = data_format_axes(data_format)
    return (batch, feature) + tuple(spatial)


def get_sequence(value, n: int, channel_index: int, name: str) -> list[int]:
    """TF's expansion of an int or a 1-, n- or (n+2)-element list to the n+2 per-dim values."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, int):
        value = [value]
    value = [int(v) for v in value]
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. Received: {name}={value} of length "
                         f"{len(value)}")
    full = [1] * (n + 2)
    spatial = [i for i in range(n + 2) if i not in (0, channel_index)]
    for i, v in zip(spatial, value):
        full[i] = v
    return full


def normalize_padding(padding, rank: int, data_format: str) -> tuple[str, tuple]:
    """("SAME" | "VALID", ()) or ("EXPLICIT", ((lo, hi) per dim)) from a string or TF's list of pairs."""
    if isinstance(padding, str):
        p = padding.upper()
        if p not in ("SAME", "VALID"):
            raise ValueError(f"padding must be 'SAME', 'VALID' or a list of pairs, got {padding!r}")
        return p, ()
    pairs = tuple((int(lo), int(hi)) for lo, hi in padding)
    if len(pairs) != rank:
        raise ValueError(f"explicit padding needs {rank} [before, after] pairs, got {len(pairs)}")
    batch, feature, _ = data_format_axes(data_format)
    if pairs[batch] != (0, 0) or pairs[feature] != (0, 0):
        raise ValueError(f"explicit padding of the batch and channel dimensions must be zero, got {list(pairs)}")
    return "EXPLICIT", pairs


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """TF's SAME: output ceil(size / stride); any odd pixel of padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def window_padding(sizes, windows, strides, padding: str, explicit=()) -> tuple:
    """(lo, hi) for each dim; an unknown size (static shapes) pads (0, 0), its output is unknown anyway.

    A window larger than its padded dim is TF's ValueError (InvalidArgumentError once a run knows the size)."""
    if padding == "SAME":
        return tuple((0, 0) if d is None else same_padding(d, w, s) for d, w, s in zip(sizes, windows, strides))
    pads = tuple(explicit) if padding == "EXPLICIT" else tuple((0, 0) for _ in sizes)
    for d, w, (lo, hi) in zip(sizes, windows, pads):
        if d is not None and w is not None and w > 1 and d + lo + hi < w:
            raise ValueError(f"Negative dimension size caused by subtracting {w} from {d + lo + hi}")
    return pads


def transpose_padding(size: int, out: int, window: int, stride: int, dilation: int, lo: int) -> tuple[int, int]:
    """Padding that turns the stride-dilated output gradient back into the input's size (XLA's rule)."""
    effective = (window - 1) * dilation + 1
    return effective - 1 - lo, size - 1 - (out - 1) * stride + lo


def shape_tensor(t: Tensor) -> Tensor:
    """t's shape as an int32 vector: a constant when fully known, else tf.shape."""
    from xlite.frontend import array_ops
    from xlite.frontend.convert import constant
    if t.shape.is_fully_defined():
        return constant(t.shape.as_list(), name="Shape")
    return array_ops.shape(t)
