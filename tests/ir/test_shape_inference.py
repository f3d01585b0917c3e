"""Each shape rule: the shape it infers (None dims included) and the ShapeError it raises."""
import pytest

from xlite.ir import dtypes
from xlite.ir.shape import Layout, Shape, TupleShape
from xlite.ir.shape_inference import ShapeError, infer_shape, merge_dim, window_output_dims

F32, F64, S32, S64, PRED, U8 = dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.bool_, dtypes.uint8


def f32(*dims):
    return Shape(F32, dims)


def s32(*dims):
    return Shape(S32, dims)


def pred(*dims):
    return Shape(PRED, dims)


def infer(opcode, *operands, result=None, **attrs):
    return infer_shape(opcode, list(operands), attrs, result)


def rejects(match, opcode, *operands, result=None, **attrs):
    with pytest.raises(ShapeError, match=match):
        infer(opcode, *operands, result=result, **attrs)


def test_merge_dim():
    assert merge_dim(None, 3, "x") == 3 and merge_dim(3, None, "x") == 3 and merge_dim(None, None, "x") is None
    assert merge_dim(0, 0, "x") == 0
    with pytest.raises(ShapeError, match="what: dimension 2 does not match 3"):
        merge_dim(2, 3, "what")


def test_arity_is_checked_for_every_fixed_arity_opcode():
    rejects("add takes 2 operands, got 1", "add", f32(2))
    rejects("select takes 3 operands, got 2", "select", pred(), f32())
    rejects("constant takes 0 operands, got 1", "constant", f32(), result=f32())
    with pytest.raises(ValueError, match="unknown opcode"):
        infer("matmul", f32(2), f32(2))


# leaves ------------------------------------------------------------------------------------
def test_explicit_result_leaves():
    assert infer("parameter", result=f32(None, 3)) == f32(None, 3)
    t = TupleShape((f32(2), s32()))
    assert infer("parameter", result=t) == t
    assert infer("constant", result=s32(0, 2)) == s32(0, 2)
    assert infer("iota", result=s32(4, 5), dimension=1) == s32(4, 5)
    rejects("parameter needs an explicit result shape", "parameter")
    rejects("negative dimension", "parameter", result=f32(2, -1))
    rejects("constant: shape .* must be fully known", "constant", result=f32(None))
    rejects("iota: dimension 2 out of range", "iota", result=s32(4, 5), dimension=2)
    rejects("iota: result must be numeric", "iota", result=pred(3), dimension=0)


def test_rng():
    counter = Shape(S64, ())
    assert infer("rng", counter, result=f32(3, None), distribution="normal", key=(1, 2)) == f32(3, None)
    rejects("counter operand must be s64", "rng", s32(), result=f32(3), distribution="uniform", key=(1, 2))
    rejects("unknown distribution 'gamma'", "rng", counter, result=f32(3), distribution="gamma", key=(1, 2))
    rejects("result must be floating", "rng", counter, result=s32(3), distribution="uniform", key=(1, 2))
    rejects("key must be two 32-bit words", "rng", counter, result=f32(3), distribution="uniform", key=(1,))
    rejects("key must be two 32-bit words", "rng", counter, result=f32(3), distribution="uniform", key=(1, 2 ** 32))


# elementwise ---------------------------------------------------------------------------------
@pytest.mark.parametrize("opcode", ["neg", "abs", "exp", "log", "log1p", "tanh", "logistic", "sqrt", "rsqrt",
                                    "sign", "floor", "ceil", "round", "sin", "cos", "copy"])
def test_float_unary_keeps_the_shape(opcode):
    assert infer(opcode, f32(None, 0, 3)) == f32(None, 0, 3)
    assert infer(opcode, Shape(F64, ())) == Shape(F64, ())


@pytest.mark.parametrize("opcode", ["exp", "log", "log1p", "tanh", "logistic", "sqrt", "rsqrt", "sin", "cos",
                                    "floor", "ceil", "round", "is_finite"])
def test_float_only_unary_rejects_integers(opcode):
    rejects(f"{opcode}: operand must be floating point", opcode, s32(2))


def test_other_unary_rules():
    assert infer("is_finite", f32(2, None)) == pred(2, None)
    assert infer("not", pred(3)) == pred(3) and infer("not", s32(3)) == s32(3)
    assert infer("neg", s32(2)) == s32(2) and infer("sign", Shape(S64, (1,))) == Shape(S64, (1,))
    rejects("not: operand must be pred or integer", "not", f32(3))
    for opcode in ("neg", "abs", "sign"):
        rejects(f"{opcode}: operand must be numeric", opcode, pred(3))
    laid_out = Shape(F32, (2, 3), Layout((0, 1)))
    assert infer("copy", laid_out) == laid_out


@pytest.mark.parametrize("opcode", ["add", "sub", "mul", "div", "rem", "pow", "max", "min"])
def test_arithmetic_binary(opcode):
    assert infer(opcode, f32(2, 3), f32(2, 3)) == f32(2, 3)
    assert infer(opcode, f32(None, 3), f32(2, None)) == f32(2, 3)
    assert infer(opcode, s32(None), s32(None)) == s32(None)
    rejects(f"{opcode}: operand dtypes differ", opcode, f32(2), s32(2))
    rejects(f"{opcode}: operand ranks differ", opcode, f32(2), f32(2, 1))
    rejects("dimension 2 does not match 3", opcode, f32(2), f32(3))


def test_binary_dtype_rules():
    for opcode in ("add", "sub", "mul", "div", "rem", "pow"):
        rejects(f"{opcode}: operands must be numeric", opcode, pred(2), pred(2))
    assert infer("max", pred(2), pred(2)) == pred(2)
    assert infer("and", pred(2), pred(None)) == pred(2) and infer("or", s32(), s32()) == s32()
    rejects("and: operands must be pred or integer", "and", f32(2), f32(2))


def test_compare():
    for d in ("EQ", "NE", "LT", "LE", "GT", "GE"):
        assert infer("compare", f32(None, 2), f32(3, None), direction=d) == pred(3, 2)
    rejects("direction must be one of", "compare", f32(), f32(), direction="lt")
    rejects("direction must be one of", "compare", f32(), f32())
    rejects("operand dtypes differ", "compare", f32(), s32(), direction="EQ")


def test_select_and_clamp():
    assert infer("select", pred(2, None), f32(None, 3), f32(2, 3)) == f32(2, 3)
    rejects("select: predicate must be pred", "select", s32(2), f32(2), f32(2))
    rejects("select: branch dtypes differ", "select", pred(2), f32(2), s32(2))
    rejects("does not match", "select", pred(3), f32(2), f32(2))
    assert infer("clamp", f32(), f32(4, None), f32()) == f32(4, None)
    assert infer("clamp", f32(4, 2), f32(4, None), f32(None, 2)) == f32(4, None)
    rejects("clamp: bound dtype", "clamp", s32(), f32(4), f32())
    rejects("does not match", "clamp", f32(3), f32(4), f32())


def test_convert_and_bitcast():
    assert infer("convert", f32(None, 2), dtype=S64) == Shape(S64, (None, 2))
    assert infer("convert", f32(3), dtype="pred") == pred(3)
    row = Shape(F32, (3, 2), Layout((1, 0)))
    assert infer("bitcast", Shape(F32, (2, 3), Layout((0, 1))), result=row) == row
    assert infer("bitcast", f32(None, 3), result=f32(6)) == f32(6)
    rejects("bitcast: .* differ in byte size", "bitcast", f32(2, 3), result=f32(5))
    rejects("bitcast: element type changes", "bitcast", f32(2), result=s32(2))
    rejects("bitcast needs an explicit result shape", "bitcast", f32(2))


# shape ops -----------------------------------------------------------------------------------
def test_broadcast_in_dim():
    assert infer("broadcast_in_dim", f32(3), result=f32(2, 3), dimensions=(1,)) == f32(2, 3)
    assert infer("broadcast_in_dim", f32(1, None), result=f32(4, 5, 6), dimensions=(0, 2)) == f32(4, 5, 6)
    assert infer("broadcast_in_dim", f32(), result=s32(2), dimensions=()) == f32(2)   # dtype from the operand
    rejects("1 dimensions for operand rank 2", "broadcast_in_dim", f32(2, 3), result=f32(2, 3), dimensions=(0,))
    rejects("out of range", "broadcast_in_dim", f32(3), result=f32(3), dimensions=(1,))
    rejects("must increase", "broadcast_in_dim", f32(2, 3), result=f32(3, 2), dimensions=(1, 0))
    rejects("size 2 cannot broadcast to 3", "broadcast_in_dim", f32(2), result=f32(3), dimensions=(0,))
    rejects("explicit result", "broadcast_in_dim", f32(2), dimensions=(0,))


def test_reshape_and_transpose():
    assert infer("reshape", f32(2, 3), result=f32(3, 2)) == f32(3, 2)
    assert infer("reshape", f32(None, 3), result=f32(6)) == f32(6)
    assert infer("reshape", f32(0, 3), result=f32(5, 0)) == f32(5, 0)
    rejects("cannot reshape .* \\(6 elements\\) to \\(4,\\)", "reshape", f32(2, 3), result=f32(4))
    assert infer("transpose", f32(2, None, 4), dimensions=(2, 0, 1)) == f32(4, 2, None)
    rejects("permutation", "transpose", f32(2, 3), dimensions=(0,))
    rejects("repeated", "transpose", f32(2, 3), dimensions=(0, 0))
    rejects("out of range", "transpose", f32(2, 3), dimensions=(0, 2))


def test_slice():
    assert infer("slice", f32(10, 5), start_indices=(1, 0), limit_indices=(10, 5), strides=(3, 2)) == f32(3, 3)
    assert infer("slice", f32(None), start_indices=(2,), limit_indices=(9,), strides=(1,)) == f32(7)
    assert infer("slice", f32(4), start_indices=(4,), limit_indices=(4,), strides=(2,)) == f32(0)
    rejects("needs 2 starts", "slice", f32(4, 4), start_indices=(0,), limit_indices=(1,), strides=(1,))
    rejects("stride 0 must be positive", "slice", f32(4), start_indices=(0,), limit_indices=(1,), strides=(0,))
    rejects("\\[3:2\\] out of range", "slice", f32(4), start_indices=(3,), limit_indices=(2,), strides=(1,))
    rejects("\\[0:5\\] out of range", "slice", f32(4), start_indices=(0,), limit_indices=(5,), strides=(1,))
    rejects("out of range", "slice", f32(4), start_indices=(-1,), limit_indices=(2,), strides=(1,))


def test_pad():
    zero = f32()
    assert infer("pad", f32(3, 4), zero, low=(1, -1), high=(2, 0), interior=(0, 2)) == f32(6, 9)
    assert infer("pad", f32(0, None), zero, low=(1, 1), high=(1, 1), interior=(5, 1)) == f32(2, None)
    assert infer("pad", f32(2), zero, low=(-2,), high=(-1,), interior=(1,)) == f32(0)
    rejects("padding value must be a f32 scalar", "pad", f32(3), f32(1), low=(0,), high=(0,), interior=(0,))
    rejects("padding value must be a f32 scalar", "pad", f32(3), s32(), low=(0,), high=(0,), interior=(0,))
    rejects("needs 1 low, high, interior", "pad", f32(3), zero, low=(0, 0), high=(0,), interior=(0,))
    rejects("interior padding must be non-negative", "pad", f32(3), zero, low=(0,), high=(0,), interior=(-1,))
    rejects("negative result size", "pad", f32(3), zero, low=(-2,), high=(-2,), interior=(0,))


def test_concatenate():
    assert infer("concatenate", f32(2, 3), f32(0, 3), f32(4, None), dimension=0) == f32(6, 3)
    assert infer("concatenate", f32(2, None), f32(None, 3), dimension=0) == f32(None, 3)
    assert infer("concatenate", f32(2), dimension=0) == f32(2)
    rejects("at least one operand", "concatenate", dimension=0)
    rejects("dimension 1 out of range", "concatenate", f32(2), f32(3), dimension=1)
    rejects("does not match", "concatenate", f32(2, 3), s32(2, 3), dimension=0)
    rejects("does not match", "concatenate", f32(2, 3), f32(2), dimension=0)
    rejects("dimension 3 does not match 4", "concatenate", f32(2, 3), f32(2, 4), dimension=0)


def test_reverse():
    laid = Shape(F32, (2, 3), Layout((0, 1)))
    assert infer("reverse", laid, dimensions=(0, 1)) == f32(2, 3)
    assert infer("reverse", f32(None), dimensions=()) == f32(None)
    rejects("out of range", "reverse", f32(2), dimensions=(1,))
    rejects("repeated", "reverse", f32(2), dimensions=(0, 0))


def test_gather_and_scatter_add():
    assert infer("gather", f32(5, None, 7), s32(2, 3), axis=1) == f32(5, 2, 3, 7)
    assert infer("gather", f32(5), Shape(S64, ()), axis=0) == f32()
    rejects("gather: indices must be integer", "gather", f32(5), f32(2), axis=0)
    rejects("gather: indices must be integer", "gather", f32(5), pred(2), axis=0)
    rejects("gather: axis 1 out of range", "gather", f32(5), s32(2), axis=1)
    assert infer("scatter_add", f32(5, 3), s32(2), f32(2, 3), axis=0) == f32(5, 3)
    assert infer("scatter_add", f32(5, None), s32(None), f32(4, 3), axis=0) == f32(5, None)
    rejects("scatter_add: indices must be integer", "scatter_add", f32(5), f32(2), f32(2), axis=0)
    rejects("scatter_add: axis 2 out of range", "scatter_add", f32(5, 3), s32(2), f32(2, 3), axis=2)
    rejects("scatter_add: updates", "scatter_add", f32(5, 3), s32(2), Shape(F64, (2, 3)), axis=0)
    rejects("should be", "scatter_add", f32(5, 3), s32(2), f32(2), axis=0)


def test_dynamic_slice_and_dynamic_update_slice():
    i, j, k = s32(), s32(), Shape(S64, ())
    assert infer("dynamic_slice", f32(5, None), i, j, dynamic_slice_sizes=(0, 3)) == f32(0, 3)
    assert infer("dynamic_slice", f32(5), k, dynamic_slice_sizes=(5,)) == f32(5)
    assert infer("dynamic_slice", f32(), dynamic_slice_sizes=()) == f32()
    rejects("needs 2 start indices", "dynamic_slice", f32(5, 3), i, dynamic_slice_sizes=(1, 1))
    rejects("needs 2 dynamic_slice_sizes", "dynamic_slice", f32(5, 3), i, j, dynamic_slice_sizes=(1,))
    rejects("size 6 out of range for dimension 0", "dynamic_slice", f32(5, 3), i, j, dynamic_slice_sizes=(6, 1))
    rejects("size -1 out of range", "dynamic_slice", f32(5, 3), i, j, dynamic_slice_sizes=(-1, 1))
    rejects("must be s32.. or s64.. scalars", "dynamic_slice", f32(5), s32(1), dynamic_slice_sizes=(1,))
    rejects("must be s32.. or s64.. scalars", "dynamic_slice", f32(5), Shape(U8, ()), dynamic_slice_sizes=(1,))
    rejects("differ in dtype", "dynamic_slice", f32(5, 3), i, k, dynamic_slice_sizes=(1, 1))
    rejects("needs an operand", "dynamic_slice", dynamic_slice_sizes=())
    assert infer("dynamic_update_slice", f32(5, None), f32(2, 4), i, j) == f32(5, None)
    assert infer("dynamic_update_slice", f32(5), f32(0), k) == f32(5)
    rejects("larger than", "dynamic_update_slice", f32(5, 3), f32(2, 4), i, j)
    rejects("does not match", "dynamic_update_slice", f32(5, 3), Shape(F64, (2, 3)), i, j)
    rejects("does not match", "dynamic_update_slice", f32(5, 3), f32(2), i, j)
    rejects("needs 2 start indices", "dynamic_update_slice", f32(5, 3), f32(2, 3), i)
    rejects("needs an operand and an update", "dynamic_update_slice", f32(5))
    rejects("does not match", "scatter_add", f32(5, 3), s32(2), f32(2, 4), axis=0)
    rejects("operand must be numeric", "scatter_add", pred(5), s32(2), pred(2), axis=0)


# reductions ----------------------------------------------------------------------------------
def test_reduce():
    assert infer("reduce", f32(2, None, 4), kind="sum", dimensions=(0, 2)) == f32(None)
    assert infer("reduce", f32(0, 3), kind="max", dimensions=(0,)) == f32(3)
    assert infer("reduce", f32(2), kind="prod", dimensions=()) == f32(2)
    assert infer("reduce", pred(2, 3), kind="and", dimensions=(1,)) == pred(2)
    rejects("unknown kind 'mean'", "reduce", f32(2), kind="mean", dimensions=(0,))
    rejects("reduce or: operand must be pred", "reduce", f32(2), kind="or", dimensions=(0,))
    rejects("reduce sum: operand must be numeric", "reduce", pred(2), kind="sum", dimensions=(0,))
    rejects("out of range", "reduce", f32(2), kind="sum", dimensions=(1,))
    rejects("repeated", "reduce", f32(2, 2), kind="sum", dimensions=(1, 1))


def test_argmax_argmin():
    assert infer("argmax", f32(3, None), dimension=0) == Shape(S64, (None,))
    assert infer("argmin", f32(3, 4), dimension=1, index_dtype=S32) == s32(3)
    assert infer("argmin", f32(None), dimension=0, index_dtype="s32") == s32()
    rejects("argmax: dimension 2 out of range", "argmax", f32(3, 4), dimension=2)
    rejects("cannot reduce an empty dimension", "argmin", f32(0, 4), dimension=0)
    rejects("index type must be s32 or s64", "argmax", f32(3), dimension=0, index_dtype=F32)


def test_window_output_dims():
    assert window_output_dims((5, 7, None), (2, 3, 1), (2, 2, 1), ((0, 1), (1, 1), (0, 0))) == (3, 4, None)
    assert window_output_dims((1, 0), (3, 1), (1, 1), ((0, 0), (0, 0))) == (0, 0)


def test_reduce_window_and_select_and_scatter():
    attrs = dict(window=(1, 3, 3, 1), strides=(1, 2, 2, 1), padding=((0, 0), (1, 1), (0, 1), (0, 0)))
    x = f32(None, 5, 6, 3)
    assert infer("reduce_window", x, kind="max", **attrs) == f32(None, 3, 3, 3)
    assert infer("select_and_scatter", x, f32(2, 3, 3, 3), **attrs) == x
    rejects("unknown kind 'prod'", "reduce_window", x, kind="prod", **attrs)
    rejects("need 4 entries", "reduce_window", x, kind="sum", window=(1, 1), strides=(1, 1), padding=((0, 0),) * 2)
    rejects("must be positive", "reduce_window", f32(4), kind="sum", window=(0,), strides=(1,), padding=((0, 0),))
    rejects("must be positive", "reduce_window", f32(4), kind="sum", window=(1,), strides=(0,), padding=((0, 0),))
    rejects("non-negative", "reduce_window", f32(4), kind="sum", window=(1,), strides=(1,), padding=((-1, 0),))
    rejects("operand must be numeric", "reduce_window", pred(4), kind="max", window=(1,), strides=(1,),
            padding=((0, 0),))
    rejects("dimension 4 does not match 3", "select_and_scatter", x, f32(2, 4, 3, 3), **attrs)
    rejects("source .* should be", "select_and_scatter", x, Shape(F64, (2, 3, 3, 3)), **attrs)


# linear algebra ------------------------------------------------------------------------------
def dot_attrs(lb=(), rb=(), lc=(1,), rc=(0,)):
    return dict(lhs_batch_dims=lb, rhs_batch_dims=rb, lhs_contracting_dims=lc, rhs_contracting_dims=rc)


def test_dot():
    assert infer("dot", f32(2, 3), f32(3, 4), **dot_attrs()) == f32(2, 4)
    assert infer("dot", f32(3, 4, 2, 5), f32(5, 6, 2, 3), **dot_attrs((2,), (2,), (0, 3), (3, 0))) == f32(2, 4, 6)
    assert infer("dot", f32(None, 3), f32(None, 7), **dot_attrs(lc=(0,), rc=(0,))) == f32(3, 7)
    assert infer("dot", f32(None, 2, 3), f32(5, 3, None), **dot_attrs((0,), (0,), (2,), (1,))) == f32(5, 2, None)
    assert infer("dot", f32(3), f32(3), **dot_attrs(lc=(0,), rc=(0,))) == f32()
    rejects("dot: operand dtypes differ", "dot", f32(2, 3), Shape(F64, (3, 4)), **dot_attrs())
    rejects("dot: operands must be numeric", "dot", pred(2, 3), pred(3, 4), **dot_attrs())
    rejects("contracting dims", "dot", f32(2, 3), f32(4, 4), **dot_attrs())
    rejects("batch dims", "dot", f32(2, 2, 3), f32(3, 3, 4), **dot_attrs((0,), (0,), (2,), (1,)))
    rejects("counts differ", "dot", f32(2, 3), f32(3, 4), **dot_attrs(lc=(1,), rc=()))
    rejects("lhs dimensions .* out of range", "dot", f32(2, 3), f32(3, 4), **dot_attrs(lc=(2,)))
    rejects("repeated rhs dimensions", "dot", f32(2, 3), f32(3, 3), **dot_attrs((0,), (0,), (1,), (0,)))


NHWC = dict(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))


def conv(x, w, **attrs):
    merged = dict(NHWC, window_strides=(1, 1), padding=((0, 0), (0, 0)))
    merged.update(attrs)
    return infer("convolution", x, w, **merged)


def test_convolution():
    assert conv(f32(2, 5, 6, 3), f32(3, 3, 3, 8)) == f32(2, 3, 4, 8)
    assert conv(f32(None, 5, None, 3), f32(3, 3, 3, 8), padding=((1, 1), (1, 1))) == f32(None, 5, None, 8)
    assert conv(f32(1, 7, 7, 4), f32(3, 3, 2, 6), window_strides=(2, 3), padding=((1, 1), (0, 0)),
                feature_group_count=2) == f32(1, 4, 2, 6)
    assert conv(f32(1, 4, 4, 1), f32(3, 3, 1, 1), lhs_dilation=(2, 2), padding=((2, 2), (2, 2))) == f32(1, 9, 9, 1)
    assert conv(f32(1, 8, 8, 1), f32(3, 3, 1, 1), rhs_dilation=(3, 1)) == f32(1, 2, 6, 1)
    assert conv(f32(1, 2, 2, 1), f32(3, 3, 1, 1)) == f32(1, 0, 0, 1)
    assert conv(f32(1, 4, 4, 1), f32(2, 2, 1, 1), padding=((-1, 0), (0, -1))) == f32(1, 2, 2, 1)
    assert infer("convolution", f32(2, 3, 9), f32(4, 3, 3), lhs_spec=(0, 1, 2), rhs_spec=(0, 1, 2),
                 out_spec=(2, 0, 1), window_strides=(2,), padding=((1, 2),)) == f32(4, 5, 2)


def test_convolution_errors():
    rejects("convolution: operands", "convolution", s32(1, 3, 3, 1), s32(1, 1, 1, 1), **NHWC,
            window_strides=(1, 1), padding=((0, 0),) * 2)
    with pytest.raises(ShapeError, match="input features 3 != kernel input features 2 x 1"):
        conv(f32(1, 5, 5, 3), f32(3, 3, 2, 4))
    with pytest.raises(ShapeError, match="output features 5 not divisible by feature_group_count 3"):
        conv(f32(1, 5, 5, 3), f32(3, 3, 1, 5), feature_group_count=3)
    with pytest.raises(ShapeError, match="do not match the dimension numbers"):
        conv(f32(1, 5, 5, 3), f32(3, 3, 3))
    with pytest.raises(ShapeError, match="is not a permutation"):
        conv(f32(1, 5, 5, 3), f32(3, 3, 3, 4), lhs_spec=(0, 3, 1, 1))
    with pytest.raises(ShapeError, match="need 2 entries"):
        conv(f32(1, 5, 5, 3), f32(3, 3, 3, 4), window_strides=(1,))
    with pytest.raises(ShapeError, match="strides and dilations must be positive"):
        conv(f32(1, 5, 5, 3), f32(3, 3, 3, 4), rhs_dilation=(0, 1))


# structure -----------------------------------------------------------------------------------
def test_tuple_and_get_tuple_element():
    t = infer("tuple", f32(2), TupleShape((s32(),)), pred(None))
    assert t == TupleShape((f32(2), TupleShape((s32(),)), pred(None)))
    assert infer("tuple") == TupleShape(())
    assert infer("get_tuple_element", t, index=1) == TupleShape((s32(),))
    rejects("index 3 out of range", "get_tuple_element", t, index=3)
    rejects("is not a tuple", "get_tuple_element", f32(2), index=0)


def test_while_conditional_fusion():
    state = TupleShape((s32(), f32(3)))
    assert infer("while", state) == state
    rejects("while takes one \\(tuple\\) operand", "while", state, state)
    assert infer("conditional", pred(), f32(2), s32(3), result=f32(4)) == f32(4)
    assert infer("conditional", s32(), f32(2), f32(2), f32(1), result=state) == state
    rejects("selector must be pred\\[\\] or s32\\[\\]", "conditional", Shape(S64, ()), f32(2), result=f32(2))
    rejects("selector must be", "conditional", pred(2), f32(2), f32(2), result=f32(2))
    rejects("pred selector takes exactly two", "conditional", pred(), f32(2), result=f32(2))
    rejects("at least one branch operand", "conditional", s32(), result=f32(2))
    rejects("explicit result", "conditional", pred(), f32(2), f32(2))
    assert infer("fusion", f32(2), f32(3), result=f32(5)) == f32(5)
    rejects("explicit result", "fusion", f32(2))
