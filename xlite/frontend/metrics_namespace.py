"""`tf.metrics`: TF1's streaming metrics, each (value, update_op) over local Variables."""
from __future__ import annotations

from xlite.frontend.metrics_ops import (accuracy, false_negatives, false_positives, mean,  # noqa: F401
                                        mean_absolute_error, mean_iou, mean_squared_error, precision, recall,
                                        root_mean_squared_error, true_negatives, true_positives)
from xlite.frontend.metrics_thresholds import (auc, false_negatives_at_thresholds,  # noqa: F401
                                               false_positives_at_thresholds, precision_at_thresholds,
                                               recall_at_thresholds, sensitivity_at_specificity,
                                               specificity_at_sensitivity, true_negatives_at_thresholds,
                                               true_positives_at_thresholds)
from xlite.frontend.metrics_means import (mean_cosine_distance, mean_per_class_accuracy,  # noqa: F401
                                          mean_relative_error, mean_tensor, percentage_below)
