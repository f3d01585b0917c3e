"""conv_window decodes a convolution's attributes as both backends read them: defaults for the optional ones."""
from xlite.codegen.conv_window import conv_window
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.shape import Shape


def _conv(kernel_in: int, **attrs):
    b = Builder()
    x = b.parameter(Shape(dtypes.float32, (1, 7, 5, 4)))                 # NHWC
    k = b.parameter(Shape(dtypes.float32, (3, 2, kernel_in, 6)))         # HWIO
    return b.emit("convolution", (x, k), lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2),
                  window_strides=(2, 1), padding=((1, 1), (0, 1)), **attrs)


def test_dimension_numbers_groups_and_window():
    w = conv_window(_conv(2, feature_group_count=2, rhs_dilation=(1, 2)))   # 2 groups: 2 in, 3 out
    assert (w.lhs_spec, w.rhs_spec, w.out_spec, w.spatial) == ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2), 2)
    assert (w.strides, w.padding, w.lhs_dilation, w.rhs_dilation) == ((2, 1), ((1, 1), (0, 1)), (1, 1), (1, 2))
    assert (w.groups, w.group_in, w.group_out, w.window) == (2, 2, 3, [3, 2])


def test_optional_attributes_default_to_one():
    w = conv_window(_conv(4))
    assert (w.groups, w.group_in, w.group_out, w.lhs_dilation, w.rhs_dilation) == (1, 4, 6, (1, 1), (1, 1))
