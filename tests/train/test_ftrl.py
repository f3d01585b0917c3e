"""FtrlOptimizer's first three steps against TF 2.21's: EXPECTED was printed by running tf.compat.v1.train.
FtrlOptimizer(**CONFIGS[k]).minimize(0.5 * sum((w - TARGET)^2)) three times in TF 2.21 (graph mode) from W0:
w after each step, then the "accum" and "linear" slots, then the global Variables' names."""
import numpy as np
import pytest

import xlite as tf

TARGET = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
W0 = np.array([[1.0, 2.0, -1.0], [0.0, 0.5, 1.0]], dtype=np.float32)
CONFIGS = {
 "default": dict(learning_rate=0.5),
 "l1_l2": dict(learning_rate=0.5, learning_rate_power=-0.7, initial_accumulator_value=0.3, l1_regularization_strength=0.2, l2_regularization_strength=0.15),
 "shrinkage_beta": dict(learning_rate=0.3, l1_regularization_strength=0.05, l2_shrinkage_regularization_strength=0.1, beta=0.4),
 "power_zero": dict(learning_rate=0.2, learning_rate_power=0.0, initial_accumulator_value=0.0, l1_regularization_strength=0.5),
}


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_ftrl_three_steps_match_tensorflow(config, target):
    with tf.Graph().as_default():
        w = tf.Variable(W0, name="w")
        loss = 0.5 * tf.reduce_sum(tf.square(w - TARGET))
        opt = tf.train.FtrlOptimizer(**CONFIGS[config])
        train = opt.minimize(loss)
        with tf.Session(target=target) as sess:
            sess.run(tf.global_variables_initializer())
            history = []
            for _ in range(3):
                sess.run(train)
                history.append(sess.run(w))
            accum, linear = sess.run([opt.get_slot(w, "accum"), opt.get_slot(w, "linear")])
        names = [v.name for v in tf.global_variables()]
    want_history, want_accum, want_linear, want_names = EXPECTED[config]
    np.testing.assert_allclose(history, want_history, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(accum, want_accum, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(linear, want_linear, rtol=2e-5, atol=2e-5)
    assert names == want_names
    assert opt.get_slot_names() == ["accum", "linear"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (dict(learning_rate_power=0.5), "learning_rate_power"),
    (dict(l1_regularization_strength=-1.0), "l1_regularization_strength"),
    (dict(l2_regularization_strength=-1.0), "l2_regularization_strength"),
    (dict(l2_shrinkage_regularization_strength=-1.0), "l2_shrinkage_regularization_strength")])
def test_ftrl_rejects_tfs_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tf.train.FtrlOptimizer(0.1, **kwargs)


EXPECTED = {'default': ([[[0.042900409549474716, 1.293097972869873, -0.397926390171051],
               [0.48924607038497925, -0.20231910049915314, 0.3301469087600708]],
              [[0.34860238432884216, 0.9905173182487488, -0.08679641038179398],
               [0.7644761800765991, 0.1709543764591217, 0.07058070600032806]],
              [[0.4478406608104706, 0.7579933404922485, 0.151296004652977],
               [0.9503991007804871, 0.23563812673091888, -0.1128595769405365]]],
             [[0.5818613171577454, 18.320459365844727, 19.204771041870117],
              [3.912618637084961, 0.37334075570106506, 5.002569675445557]],
             [[-0.6832242608070374, -6.488787651062012, -1.3260564804077148],
              [-3.759843587875366, -0.28795740008354187, 0.5048530697822571]],
             ['w:0', 'w/Ftrl:0', 'w/Ftrl_1:0']),
 'l1_l2': ([[[0.0, 1.4380890130996704, -0.5562320947647095], [0.313154399394989, 0.0, 0.37454959750175476]],
            [[0.12684740126132965, 1.2609659433364868, -0.37529435753822327],
             [0.5273966789245605, 0.0, 0.191532164812088]],
            [[0.295378714799881, 1.1262733936309814, -0.23890860378742218],
             [0.6796597242355347, 0.07351978868246078, 0.05522555485367775]]],
           [[0.9392428994178772, 20.356245040893555, 21.47634506225586],
            [4.90455961227417, 0.48750001192092896, 5.513594627380371]],
           [[-0.8540109395980835, -19.105756759643555, 4.3608317375183105],
            [-4.541431427001953, -0.310979425907135, -0.5814681649208069]],
           ['w:0', 'w/Ftrl:0', 'w/Ftrl_1:0']),
 'power_zero': ([[[0.0, -0.5, 0.5], [0.20000000298023224, 0.0, -0.25]],
                 [[0.0, -0.6000000238418579, 0.800000011920929], [0.4599999785423279, 0.0, -0.3499999940395355]],
                 [[0.0, -0.6800000071525574, 1.0399999618530273], [0.6679999828338623, 0.0, -0.4300000071525574]]],
                [[0.75, 9.40999984741211, 12.690000534057617], [5.021599769592285, 0.1875, 3.4725000858306885]],
                [[-0.5, 3.9000000953674316, -5.699999809265137], [-3.8399999141693115, -0.25, 2.6500000953674316]],
                ['w:0', 'w/Ftrl:0', 'w/Ftrl_1:0']),
 'shrinkage_beta': ([[[0.050806593149900436, 1.2778081893920898, -0.5049998760223389],
                      [0.2250421941280365, -0.057971227914094925, 0.3957662284374237]],
                     [[0.16605673730373383, 1.0959874391555786, -0.3240737020969391],
                      [0.37917959690093994, 0.014628950506448746, 0.2496807724237442]],
                     [[0.2403464913368225, 0.9489049315452576, -0.1795293241739273],
                      [0.4958375096321106, 0.08732589334249496, 0.134750634431839]]],
                    [[0.6632928252220154, 18.68157196044922, 20.776344299316406],
                     [5.23175573348999, 0.3127458095550537, 5.474641799926758]],
                    [[-1.0229449272155762, -14.986454010009766, 3.017085313796997],
                     [-4.491552352905273, -0.329220712184906, -1.280630350112915]],
                    ['w:0', 'w/Ftrl:0', 'w/Ftrl_1:0'])}
