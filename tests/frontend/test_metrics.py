"""tf.metrics against TensorFlow 2.21's tf.compat.v1.metrics: three update batches (sizes 7, 1, 5), with and
without weights, on the interpreter and cpu. EXPECTED was made by running the same `specs` on the same
`batches()` with TF 2.21 (tensorflow.compat.v1, graph mode, local_variables_initializer, then per batch
sess.run of the update ops and then of the values) and pasting its output."""
import numpy as np
import pytest

import xlite as tf
from xlite import errors


def batches():
    """Three update batches (sizes 7, 1, 5) of every input the metric tests feed."""
    rng = np.random.RandomState(19)
    out = []
    for n in (7, 1, 5):
        scores = rng.uniform(0, 1, n).astype(np.float32)
        scores[0] = [0.0, 1.0, 0.5][len(out)]        # exact ends and a threshold value
        out.append(dict(
            cls_labels=rng.randint(0, 4, n).astype(np.int64), cls_preds=rng.randint(0, 4, n).astype(np.int64),
            bin_labels=rng.randint(0, 2, n).astype(np.int64), bin_preds=rng.randint(0, 2, n).astype(np.int64),
            reg_labels=rng.randn(n).astype(np.float32), reg_preds=rng.randn(n).astype(np.float32),
            scores=scores, weights=rng.uniform(0, 2, n).astype(np.float32)))
    return out


def specs(tf, ph, weighted):
    w = ph["weights"] if weighted else None
    m = tf.metrics
    return {
        "accuracy": m.accuracy(ph["cls_labels"], ph["cls_preds"], weights=w),
        "mean": m.mean(ph["reg_preds"], weights=w),
        "mean_squared_error": m.mean_squared_error(ph["reg_labels"], ph["reg_preds"], weights=w),
        "mean_absolute_error": m.mean_absolute_error(ph["reg_labels"], ph["reg_preds"], weights=w),
        "root_mean_squared_error": m.root_mean_squared_error(ph["reg_labels"], ph["reg_preds"], weights=w),
        "precision": m.precision(ph["bin_labels"], ph["bin_preds"], weights=w),
        "recall": m.recall(ph["bin_labels"], ph["bin_preds"], weights=w),
        "true_positives": m.true_positives(ph["bin_labels"], ph["bin_preds"], weights=w),
        "false_positives": m.false_positives(ph["bin_labels"], ph["bin_preds"], weights=w),
        "true_negatives": m.true_negatives(ph["bin_labels"], ph["bin_preds"], weights=w),
        "false_negatives": m.false_negatives(ph["bin_labels"], ph["bin_preds"], weights=w),
        "mean_iou": m.mean_iou(ph["cls_labels"], ph["cls_preds"], 4, weights=w),
        "auc_roc": m.auc(ph["bin_labels"], ph["scores"], weights=w),
        "auc_pr": m.auc(ph["bin_labels"], ph["scores"], weights=w, curve="PR"),
        "auc_pr_careful": m.auc(ph["bin_labels"], ph["scores"], weights=w, curve="PR", summation_method="careful_interpolation"),
        "auc_roc_minoring_10": m.auc(ph["bin_labels"], ph["scores"], weights=w, num_thresholds=10, summation_method="minoring"),
        "auc_roc_majoring_given": m.auc(ph["bin_labels"], ph["scores"], weights=w, thresholds=[0.7, 0.2, 0.5], summation_method="majoring"),
        "precision_at_thresholds": m.precision_at_thresholds(ph["bin_labels"], ph["scores"], [0.25, 0.5, 0.75], weights=w),
        "recall_at_thresholds": m.recall_at_thresholds(ph["bin_labels"], ph["scores"], [0.25, 0.5, 0.75], weights=w),
        "false_negatives_at_thresholds": m.false_negatives_at_thresholds(ph["bin_labels"], ph["scores"], [0.25, 0.5, 0.75], weights=w),
        "sensitivity_at_specificity": m.sensitivity_at_specificity(ph["bin_labels"], ph["scores"], 0.6, weights=w),
        "specificity_at_sensitivity": m.specificity_at_sensitivity(ph["bin_labels"], ph["scores"], 0.7, weights=w, num_thresholds=50),
    }

def _run(target: str, weighted: bool, only=None) -> dict:
    b0 = batches()[0]
    ph = {k: tf.placeholder(tf.as_dtype(v.dtype), [None]) for k, v in b0.items()}
    s = specs(tf, ph, weighted)
    if only is not None:
        s = {k: s[k] for k in only}
    rows = {k: [] for k in s}
    with tf.Session(target=target) as sess:
        sess.run(tf.local_variables_initializer())
        for b in batches():
            feed = {ph[k]: b[k] for k in b}
            ups = sess.run({k: u for k, (v, u) in s.items()}, feed)
            vals = sess.run({k: v for k, (v, u) in s.items()})
            for k in s:
                rows[k].append((ups[k], vals[k]))
    return rows


def _compare(got: dict, want: dict) -> None:
    for name, steps in want.items():
        for step, ((want_update, want_value), (update, value)) in enumerate(zip(steps, got[name])):
            np.testing.assert_allclose(update, want_update, rtol=2e-6, atol=2e-7, err_msg=f"{name} update {step}")
            np.testing.assert_allclose(value, want_value, rtol=2e-6, atol=2e-7, err_msg=f"{name} value {step}")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("weighted", [False, True])
def test_metrics_match_tensorflow(target, weighted):
    got = _run(target, weighted)
    want = EXPECTED["weighted" if weighted else "plain"]
    assert set(got) == set(want)
    _compare(got, want)


@pytest.mark.slow
def test_weighted_accuracy_auc_and_mean_iou_match_tensorflow_on_cpu():
    """The quick tier's share of the test above."""
    only = ["accuracy", "auc_roc", "mean_iou"]
    want = EXPECTED["weighted"]
    _compare(_run("cpu", True, only), {k: want[k] for k in only})


def test_variable_names_and_collections_are_tfs():
    labels, preds = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.accuracy(labels, preds)
    assert (value.name, update.name) == ("accuracy/value:0", "accuracy/update_op:0")
    tf.metrics.precision(labels, preds)
    tf.metrics.auc(labels, preds)
    tf.metrics.accuracy(labels, preds)
    tf.metrics.mean_iou(tf.cast(labels, tf.int32), tf.cast(preds, tf.int32), 3)
    names = [v.name for v in tf.local_variables()]
    # TF 2.21 names these Variables so (printed from tf.compat.v1.local_variables())
    assert names == ["accuracy/total:0", "accuracy/count:0", "precision/true_positives/count:0",
                     "precision/false_positives/count:0", "auc/true_positives:0", "auc/false_negatives:0",
                     "auc/true_negatives:0", "auc/false_positives:0", "accuracy_1/total:0", "accuracy_1/count:0",
                     "mean_iou/total_confusion_matrix:0"]
    assert tf.get_collection(tf.GraphKeys.METRIC_VARIABLES) == tf.local_variables()
    assert not tf.trainable_variables() and not tf.global_variables()


def test_collections_and_reset():
    x = tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.mean(x, metrics_collections=["m"], updates_collections=["u"], name="avg")
    assert tf.get_collection("m") == [value] and tf.get_collection("u") == [update]
    assert value.name == "avg/value:0"
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update, {x: [1.0, 2.0]})
        assert sess.run(update, {x: [6.0]}) == pytest.approx(3.0)
        sess.run(tf.local_variables_initializer())          # resetting the sums starts a fresh mean
        assert sess.run(value) == 0.0
        assert sess.run(update, {x: [5.0, 7.0]}) == pytest.approx(6.0)


def test_weights_of_a_trailing_unit_dim_and_scalar_weights():
    labels = tf.constant([[1], [2], [3]], tf.int64)
    preds = tf.constant([1, 0, 3], tf.int64)
    _, by_column = tf.metrics.accuracy(labels, preds, weights=tf.constant([[1.0], [3.0], [0.0]]))
    _, scalar = tf.metrics.accuracy(labels, preds, weights=2.0)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(by_column) == pytest.approx(0.25)
        assert sess.run(scalar) == pytest.approx(2.0 / 3.0)


def test_auc_rejects_unknown_curve_and_summation():
    x = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match="curve must be either ROC or PR"):
        tf.metrics.auc(x, x, curve="XY")
    with pytest.raises(ValueError, match="Invalid summation_method"):
        tf.metrics.auc(x, x, summation_method="simpson")
    with pytest.raises(ValueError, match="`specificity` must be in the range"):
        tf.metrics.sensitivity_at_specificity(x, x, 1.5)
    with pytest.raises(ValueError, match="`sensitivity` must be in the range"):
        tf.metrics.specificity_at_sensitivity(x, x, -0.1)


EXPECTED = {'plain': {'accuracy': [(0.1428571492433548, 0.1428571492433548),
                        (0.125, 0.125),
                        (0.23076923191547394, 0.23076923191547394)],
           'auc_pr': [(0.8599998950958252, 0.8599998950958252),
                      (0.5414286851882935, 0.5414286851882935),
                      (0.5916546583175659, 0.5916546583175659)],
           'auc_pr_careful': [(0.8613705635070801, 0.8613705635070801),
                              (0.556431233882904, 0.556431233882904),
                              (0.6000713109970093, 0.6000713109970093)],
           'auc_roc': [(0.6999997496604919, 0.6999997496604919),
                       (0.46666663885116577, 0.46666663885116577),
                       (0.430555522441864, 0.430555522441864)],
           'auc_roc_majoring_given': [(0.7999996542930603, 0.7999996542930603),
                                      (0.5999999046325684, 0.5999999046325684),
                                      (0.666666567325592, 0.666666567325592)],
           'auc_roc_minoring_10': [(0.5999997854232788, 0.5999997854232788),
                                   (0.4000000059604645, 0.4000000059604645),
                                   (0.3888888359069824, 0.3888888359069824)],
           'false_negatives': [(2.0, 2.0), (2.0, 2.0), (4.0, 4.0)],
           'false_negatives_at_thresholds': [([3.0, 3.0, 4.0], [3.0, 3.0, 4.0]),
                                             ([3.0, 3.0, 4.0], [3.0, 3.0, 4.0]),
                                             ([3.0, 4.0, 6.0], [3.0, 4.0, 6.0])],
           'false_positives': [(1.0, 1.0), (1.0, 1.0), (1.0, 1.0)],
           'mean': [(0.01734752394258976, 0.01734752394258976),
                    (0.1527879387140274, 0.1527879387140274),
                    (-0.010221857577562332, -0.010221857577562332)],
           'mean_absolute_error': [(1.6681795120239258, 1.6681795120239258),
                                   (1.6160800457000732, 1.6160800457000732),
                                   (1.5118622779846191, 1.5118622779846191)],
           'mean_iou': [([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, 1.0]],
                         0.05000000074505806),
                        ([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, 1.0]],
                         0.05000000074505806),
                        ([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 2.0], [0.0, 2.0, 0.0, 1.0]],
                         0.13333334028720856)],
           'mean_squared_error': [(3.564553737640381, 3.564553737640381),
                                  (3.314729690551758, 3.314729690551758),
                                  (2.880232572555542, 2.880232572555542)],
           'precision': [(0.75, 0.75), (0.75, 0.75), (0.8333333134651184, 0.8333333134651184)],
           'precision_at_thresholds': [([0.6666666865348816, 1.0, 0.9999998807907104],
                                        [0.6666666865348816, 1.0, 0.9999998807907104]),
                                       ([0.5, 0.6666666865348816, 0.5], [0.5, 0.6666666865348816, 0.5]),
                                       ([0.6666666865348816, 0.7142857313156128, 0.6000000238418579],
                                        [0.6666666865348816, 0.7142857313156128, 0.6000000238418579])],
           'recall': [(0.6000000238418579, 0.6000000238418579),
                      (0.6000000238418579, 0.6000000238418579),
                      (0.5555555820465088, 0.5555555820465088)],
           'recall_at_thresholds': [([0.4000000059604645, 0.4000000059604645, 0.20000000298023224],
                                     [0.4000000059604645, 0.4000000059604645, 0.20000000298023224]),
                                    ([0.4000000059604645, 0.4000000059604645, 0.20000000298023224],
                                     [0.4000000059604645, 0.4000000059604645, 0.20000000298023224]),
                                    ([0.6666666865348816, 0.5555555820465088, 0.3333333432674408],
                                     [0.6666666865348816, 0.5555555820465088, 0.3333333432674408])],
           'root_mean_squared_error': [(1.888002634048462, 1.888002634048462),
                                       (1.820639967918396, 1.820639967918396),
                                       (1.6971248388290405, 1.6971248388290405)],
           'sensitivity_at_specificity': [(1.0, 1.0),
                                          (0.4000000059604645, 0.4000000059604645),
                                          (0.6666666865348816, 0.6666666865348816)],
           'specificity_at_sensitivity': [(0.5, 0.5), (0.3333333432674408, 0.3333333432674408), (0.5, 0.5)],
           'true_negatives': [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)],
           'true_positives': [(3.0, 3.0), (3.0, 3.0), (5.0, 5.0)]},
 'weighted': {'accuracy': [(0.0038116665091365576, 0.0038116665091365576),
                           (0.0028069389518350363, 0.0028069389518350363),
                           (0.2545699179172516, 0.2545699179172516)],
              'auc_pr': [(0.9898009896278381, 0.9898009896278381),
                         (0.4865347743034363, 0.4865347743034363),
                         (0.5188871026039124, 0.5188871026039124)],
              'auc_pr_careful': [(0.9899612665176392, 0.9899612665176392),
                                 (0.5075244307518005, 0.5075244307518005),
                                 (0.5270284414291382, 0.5270284414291382)],
              'auc_roc': [(0.8233611583709717, 0.8233611583709717),
                          (0.09606686979532242, 0.09606686979532242),
                          (0.09102180600166321, 0.09102180600166321)],
              'auc_roc_majoring_given': [(0.9874192476272583, 0.9874192476272583),
                                         (0.3972628116607666, 0.3972628116607666),
                                         (0.6233325600624084, 0.6233325600624084)],
              'auc_roc_minoring_10': [(0.8217469453811646, 0.8217469453811646),
                                      (0.09587853401899338, 0.09587853401899338),
                                      (0.0639975443482399, 0.0639975443482399)],
              'false_negatives': [(2.0092973709106445, 2.0092973709106445),
                                  (2.0092973709106445, 2.0092973709106445),
                                  (3.137552499771118, 3.137552499771118)],
              'false_negatives_at_thresholds': [([1.5311561822891235, 1.5311561822891235, 3.519765853881836],
                                                 [1.5311561822891235, 1.5311561822891235, 3.519765853881836]),
                                                ([1.5311561822891235, 1.5311561822891235, 3.519765853881836],
                                                 [1.5311561822891235, 1.5311561822891235, 3.519765853881836]),
                                                ([1.5311561822891235, 1.8590773344039917, 5.746555328369141],
                                                 [1.5311561822891235, 1.8590773344039917, 5.746555328369141])],
              'false_positives': [(0.15307311713695526, 0.15307311713695526),
                                  (0.15307311713695526, 0.15307311713695526),
                                  (0.15307311713695526, 0.15307311713695526)],
              'mean': [(0.16594915091991425, 0.16594915091991425),
                       (0.4123876988887787, 0.4123876988887787),
                       (0.07823123782873154, 0.07823123782873154)],
              'mean_absolute_error': [(1.5914400815963745, 1.5914400815963745),
                                      (1.5018037557601929, 1.5018037557601929),
                                      (1.5463571548461914, 1.5463571548461914)],
              'mean_iou': [([[0.0, 0.15307311713695526, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.10353808850049973],
                             [1.6511151790618896, 0.0, 0.0, 1.5104683712124825],
                             [0.0, 1.9886096715927124, 0.0, 0.02068779058754444]],
                            0.0014274121494963765),
                           ([[0.0, 0.15307311713695526, 0.0, 0.0],
                             [1.942739486694336, 0.0, 0.0, 0.10353808850049973],
                             [1.6511151790618896, 0.0, 0.0, 1.5104683712124825],
                             [0.0, 1.9886096715927124, 0.0, 0.02068779058754444]],
                            0.0014274121494963765),
                           ([[1.898868203163147, 0.15307311713695526, 1.3053587675094604, 0.0],
                             [1.942739486694336, 0.0, 0.3279211223125458, 0.10353808850049973],
                             [1.6511151790618896, 0.0, 1.4214653968811035, 1.5104683712124825],
                             [0.0, 2.788943648338318, 0.0, 0.02068779058754444]],
                            0.12662900984287262)],
              'mean_squared_error': [(3.505601406097412, 3.505601406097412),
                                     (2.9943268299102783, 2.9943268299102783),
                                     (2.9628005027770996, 2.9628005027770996)],
              'precision': [(0.9538193345069885, 0.9538193345069885),
                            (0.9538193345069885, 0.9538193345069885),
                            (0.976518452167511, 0.976518452167511)],
              'precision_at_thresholds': [([0.9596410989761353, 1.0, 0.9999999403953552],
                                           [0.9596410989761353, 1.0, 0.9999999403953552]),
                                          ([0.6345917582511902, 0.6519924998283386, 0.4594273567199707],
                                           [0.6345917582511902, 0.6519924998283386, 0.4594273567199707]),
                                          ([0.6938698291778564, 0.6943990588188171, 0.5275665521621704],
                                           [0.6938698291778564, 0.6943990588188171, 0.5275665521621704])],
              'recall': [(0.6114206910133362, 0.6114206910133362),
                         (0.6114206910133362, 0.6114206910133362),
                         (0.6698482036590576, 0.6698482036590576)],
              'recall_at_thresholds': [([0.7038887143135071, 0.7038887143135071, 0.3193102180957794],
                                        [0.7038887143135071, 0.7038887143135071, 0.3193102180957794]),
                                       ([0.7038887143135071, 0.7038887143135071, 0.3193102180957794],
                                        [0.7038887143135071, 0.7038887143135071, 0.3193102180957794]),
                                       ([0.8388826847076416, 0.8043769598007202, 0.3953135013580322],
                                        [0.8388826847076416, 0.8043769598007202, 0.3953135013580322])],
              'root_mean_squared_error': [(1.8723251819610596, 1.8723251819610596),
                                          (1.7304123640060425, 1.7304123640060425),
                                          (1.7212787866592407, 1.7212787866592407)],
              'sensitivity_at_specificity': [(1.0, 1.0), (0.0, 0.0), (0.0, 0.0)],
              'specificity_at_sensitivity': [(0.9999996423721313, 0.9999996423721313),
                                             (0.11667589098215103, 0.11667589098215103),
                                             (0.07087109982967377, 0.07087109982967377)],
              'true_negatives': [(0.10353808850049973, 0.10353808850049973),
                                 (2.0462775230407715, 2.0462775230407715),
                                 (3.467742919921875, 3.467742919921875)],
              'true_positives': [(3.161583662033081, 3.161583662033081),
                                 (3.161583662033081, 3.161583662033081),
                                 (6.365810394287109, 6.365810394287109)]}}
