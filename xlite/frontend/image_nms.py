"""tf.image.non_max_suppression: TF's greedy selection as a compiled while loop, its result a bounded buffer.

Candidates go in TF's order (higher score first, ties by lower index); a candidate is taken when its score is
above score_threshold, fewer than max_output_size are taken, and its IoU with every taken box is at most
iou_threshold. The taken indices come back as a data-dependent result (bounded_ops.py), sized by the box count.
"""
from __future__ import annotations

from xlite.frontend import array_ops, math_ops
from xlite import errors
from xlite.frontend.bounded_ops import compact_rows, trimmed
from xlite.frontend.control_flow_ops import while_loop
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.reduction_ops import reduce_any
from xlite.frontend.scopes import name_scope
from xlite.frontend.shape_ops import size
from xlite.frontend.sort_ops import argsort
from xlite.ir import dtypes

__all__ = ["non_max_suppression", "non_max_suppression_padded", "non_max_suppression_with_scores"]


def _pairwise_iou(boxes: Tensor) -> Tensor:
    """TF's IoU of [y1, x1, y2, x2] boxes (corners in either order); 0 where either box has no area."""
    y1, x1, y2, x2 = (boxes[:, i] for i in range(4))
    low_y, high_y = math_ops.minimum(y1, y2), math_ops.maximum(y1, y2)
    low_x, high_x = math_ops.minimum(x1, x2), math_ops.maximum(x1, x2)
    area = (high_y - low_y) * (high_x - low_x)

    def across(v, pick):
        return pick(array_ops.expand_dims(v, 1), array_ops.expand_dims(v, 0))

    zero = array_ops.zeros_like(area)[0:1]
    tall = math_ops.maximum(across(high_y, math_ops.minimum) - across(low_y, math_ops.maximum), zero)
    wide = math_ops.maximum(across(high_x, math_ops.minimum) - across(low_x, math_ops.maximum), zero)
    inter = tall * wide
    union = array_ops.expand_dims(area, 1) + array_ops.expand_dims(area, 0) - inter
    positive = math_ops.greater(area, zero)
    both = math_ops.logical_and(array_ops.expand_dims(positive, 1), array_ops.expand_dims(positive, 0))
    safe = math_ops.where(both, union, array_ops.ones_like(union))
    return math_ops.where(both, inter / safe, array_ops.zeros_like(union))


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                        name=None) -> Tensor:
    """int32 indices of the boxes greedy NMS keeps, best first (at most max_output_size of them)."""
    with name_scope(name, "non_max_suppression", [boxes, scores]):
        boxes = convert_to_tensor(boxes, name="boxes")
        scores = convert_to_tensor(scores, dtype=boxes.dtype, name="scores")
        if boxes.shape.ndims != 2 or scores.shape.ndims != 1:
            raise ValueError(f"boxes must be 2-D [num_boxes, 4] and scores 1-D, got {boxes.shape} and {scores.shape}")
        boxes.shape[1:].assert_is_compatible_with([4])
        limit = convert_to_tensor(max_output_size, dtype=dtypes.int32, name="max_output_size")
        iou_limit = convert_to_tensor(iou_threshold, dtype=boxes.dtype, name="iou_threshold")
        score_limit = convert_to_tensor(score_threshold, dtype=boxes.dtype, name="score_threshold")
        order = argsort(scores, direction="DESCENDING", stable=True)
        ranked_scores = array_ops.gather(scores, order)
        iou = array_ops.gather(array_ops.gather(_pairwise_iou(boxes), order), order, axis=1)
        n = size(scores, out_type=dtypes.int32)
        ramp = array_ops.range(n)

        def body(t, taken, count):
            overlaps = math_ops.logical_and(taken, math_ops.greater(array_ops.gather(iou, t), iou_limit))
            scored = math_ops.greater(array_ops.gather(ranked_scores, t), score_limit)
            take = math_ops.logical_and(math_ops.logical_not(reduce_any(overlaps)),
                                        math_ops.logical_and(scored, math_ops.less(count, limit)))
            taken = math_ops.logical_or(taken, math_ops.logical_and(math_ops.equal(ramp, t), take))
            return t + 1, taken, count + math_ops.cast(take, dtypes.int32)

        _, taken, _ = while_loop(lambda t, taken, count: math_ops.less(t, n), body,
                                 [0, math_ops.less(ramp, 0), 0], back_prop=False)
        return trimmed(*compact_rows(order, taken))


def non_max_suppression_padded(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                               pad_to_max_output_size=False, name=None) -> tuple:
    """(the kept indices, how many): with pad_to_max_output_size, max_output_size of them, zeros after the
    kept ones (a static shape); else TF's data-dependent [valid_outputs] indices."""
    with name_scope(name, "non_max_suppression_padded", [boxes, scores]):
        kept = non_max_suppression(boxes, scores, max_output_size, iou_threshold, score_threshold)
        bounded = kept.op.type == "TrimToCount"         # (eagerly: the value cut to its count)
        valid = kept.op.inputs[1] if bounded else size(kept, out_type=dtypes.int32)
        if not pad_to_max_output_size:
            return kept, valid
        limit = getattr(convert_to_tensor(max_output_size, dtype=dtypes.int32), "_static_value", None)
        if limit is None:
            raise errors.unimplemented("tf.image.non_max_suppression_padded(pad_to_max_output_size=True) with a "
                                       "max_output_size known only at run time")
        buffer = kept.op.inputs[0] if bounded else kept          # zeros after the kept indices
        padded = array_ops.concat([buffer, array_ops.zeros([int(limit)], dtypes.int32)], 0)[:int(limit)]
        padded.set_shape([int(limit)])
        return padded, valid


def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                                   soft_nms_sigma=0.0, name=None) -> tuple:
    """The kept indices and their scores; Soft-NMS (soft_nms_sigma > 0) is not there yet."""
    if not isinstance(soft_nms_sigma, (int, float)) or soft_nms_sigma != 0:
        raise errors.unimplemented("tf.image.non_max_suppression_with_scores with soft_nms_sigma other than 0.0 "
                                   "(Soft-NMS)")
    with name_scope(name, "non_max_suppression_with_scores", [boxes, scores]):
        scores = convert_to_tensor(scores, name="scores")
        kept = non_max_suppression(boxes, scores, max_output_size, iou_threshold, score_threshold)
        return kept, array_ops.gather(scores, kept)
