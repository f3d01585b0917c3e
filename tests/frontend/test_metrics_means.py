"""tf.metrics.mean_tensor, percentage_below, mean_relative_error, mean_cosine_distance and mean_per_class_accuracy
against TF 2.21: MORE_EXPECTED was printed by running `more_specs` on `more_batches()` with
tensorflow.compat.v1 (graph mode; local_variables_initializer, then per batch the update ops, then the values),
and LOCAL_NAMES is its tf.local_variables() for the same graph."""
import numpy as np
import pytest

import xlite as tf

def more_batches():
    """Three batches of [n, 3] rows (n = 6, 1, 5) for the metrics of metrics_means.py."""
    rng = np.random.RandomState(11)
    out = []
    for n in (6, 1, 5):
        a = rng.randn(n, 3).astype(np.float32)
        b = rng.randn(n, 3).astype(np.float32)
        norm = rng.uniform(0.5, 2.0, (n, 3)).astype(np.float32)
        norm[0, 0] = 0.0
        labels = rng.randint(0, 4, n).astype(np.int32)
        preds = np.where(rng.uniform(size=n) < 0.6, labels, rng.randint(0, 4, n)).astype(np.int32)
        out.append(dict(a=a, b=b, ua=a / np.linalg.norm(a, axis=1, keepdims=True),
                        ub=b / np.linalg.norm(b, axis=1, keepdims=True), norm=norm,
                        cls_labels=labels, cls_preds=preds,
                        w=rng.uniform(0, 2, n).astype(np.float32), fixed=rng.randn(2, 3).astype(np.float32),
                        wfixed=rng.uniform(0, 2, (2, 3)).astype(np.float32)))
    return out

def more_specs(tf, ph):
    m = tf.metrics
    return {
        "mean_tensor": m.mean_tensor(ph["fixed"]),
        "mean_tensor_weighted": m.mean_tensor(ph["fixed"], weights=ph["wfixed"]),
        "percentage_below": m.percentage_below(ph["a"], 0.25, weights=tf.expand_dims(ph["w"], 1)),
        "mean_relative_error": m.mean_relative_error(ph["a"], ph["b"], ph["norm"]),
        "mean_cosine_distance": m.mean_cosine_distance(ph["ua"], ph["ub"], dim=1, weights=tf.expand_dims(ph["w"], 1)),
        "mean_per_class_accuracy": m.mean_per_class_accuracy(ph["cls_labels"], ph["cls_preds"], 4),
        "mean_per_class_accuracy_weighted": m.mean_per_class_accuracy(ph["cls_labels"], ph["cls_preds"], 4, weights=ph["w"]),
    }


@pytest.mark.parametrize("target", [pytest.param("interpreter", marks=pytest.mark.slow), "cpu"])
def test_more_metrics_match_tensorflow(target):
    b0 = more_batches()[0]
    ph = {k: tf.placeholder(tf.as_dtype(v.dtype), [None] + list(v.shape[1:]) if k not in ("fixed", "wfixed")
                            else v.shape) for k, v in b0.items()}
    s = more_specs(tf, ph)
    assert [v.name for v in tf.local_variables()] == LOCAL_NAMES
    with tf.Session(target=target) as sess:
        sess.run(tf.local_variables_initializer())
        for step, b in enumerate(more_batches()):
            feed = {ph[k]: b[k] for k in b}
            ups = sess.run({k: u for k, (v, u) in s.items()}, feed)
            vals = sess.run({k: v for k, (v, u) in s.items()})
            for name in s:
                want_update, want_value = MORE_EXPECTED[name][step]
                np.testing.assert_allclose(ups[name], want_update, rtol=2e-6, atol=1e-6, err_msg=f"{name} {step}")
                np.testing.assert_allclose(vals[name], want_value, rtol=2e-6, atol=1e-6, err_msg=f"{name} {step}")


LOCAL_NAMES = ['mean/total_tensor:0', 'mean/count_tensor:0', 'mean_1/total_tensor:0', 'mean_1/count_tensor:0', 'percentage_below_threshold/total:0', 'percentage_below_threshold/count:0', 'mean_relative_error/total:0', 'mean_relative_error/count:0', 'mean_cosine_distance/total:0', 'mean_cosine_distance/count:0', 'mean_accuracy/total:0', 'mean_accuracy/count:0', 'mean_accuracy_1/total:0', 'mean_accuracy_1/count:0']

MORE_EXPECTED = {'mean_cosine_distance': [(0.7533793449401855, 0.7533793449401855),
                          (0.7451473474502563, 0.7451473474502563),
                          (0.7595153450965881, 0.7595153450965881)],
 'mean_per_class_accuracy': [([1.0, 0.5, 0.5, 1.0], 0.75),
                             ([1.0, 0.6666666865348816, 0.5, 1.0], 0.7916666865348816),
                             ([0.5, 0.5, 0.6666666865348816, 1.0], 0.6666666865348816)],
 'mean_per_class_accuracy_weighted': [([1.0, 0.5980178117752075, 0.9590271711349487, 1.0], 0.8892612457275391),
                                      ([1.0, 0.6285784840583801, 0.9590271711349487, 1.0], 0.8969013690948486),
                                      ([0.799318790435791, 0.4995865821838379, 0.9865061044692993, 1.0],
                                       0.8213528394699097)],
 'mean_relative_error': [(0.7316851019859314, 0.7316851019859314),
                         (0.7295269966125488, 0.7295269966125488),
                         (0.7921639084815979, 0.7921639084815979)],
 'mean_tensor': [([[-1.0801938772201538, -0.43205761909484863, 0.5160840153694153],
                   [0.45539286732673645, 0.5936862230300903, 0.3705063462257385]],
                  [[-1.0801938772201538, -0.43205761909484863, 0.5160840153694153],
                   [0.45539286732673645, 0.5936862230300903, 0.3705063462257385]]),
                 ([[0.1055404543876648, -0.6981312036514282, 0.29392188787460327],
                   [0.36349958181381226, 0.7261767387390137, -0.4467836916446686]],
                  [[0.1055404543876648, -0.6981312036514282, 0.29392188787460327],
                   [0.36349958181381226, 0.7261767387390137, -0.4467836916446686]]),
                 ([[-0.10659243911504745, -0.7553747296333313, -0.18914015591144562],
                   [0.5078903436660767, 0.6541271805763245, -0.18495114147663116]],
                  [[-0.10659243911504745, -0.7553747296333313, -0.18914015591144562],
                   [0.5078903436660767, 0.6541271805763245, -0.18495114147663116]])],
 'mean_tensor_weighted': [([[-1.0801938772201538, -0.432057648897171, 0.5160840153694153],
                            [0.45539283752441406, 0.5936862230300903, 0.3705063462257385]],
                           [[-1.0801938772201538, -0.432057648897171, 0.5160840153694153],
                            [0.45539283752441406, 0.5936862230300903, 0.3705063462257385]]),
                          ([[0.08595699816942215, -0.7207894325256348, 0.18977434933185577],
                            [0.35564514994621277, 0.7405678629875183, -0.27529531717300415]],
                           [[0.08595699816942215, -0.7207894325256348, 0.18977434933185577],
                            [0.35564514994621277, 0.7405678629875183, -0.27529531717300415]]),
                          ([[-0.03790367394685745, -0.7452502846717834, 0.14033201336860657],
                            [0.44434940814971924, 0.7220556735992432, -0.0035966988652944565]],
                           [[-0.03790367394685745, -0.7452502846717834, 0.14033201336860657],
                            [0.44434940814971924, 0.7220556735992432, -0.0035966988652944565]])],
 'percentage_below': [(0.641345739364624, 0.641345739364624),
                      (0.6328281760215759, 0.6328281760215759),
                      (0.5715335011482239, 0.5715335011482239)]}
