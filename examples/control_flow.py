"""tf.cond and tf.while_loop compiled into IR `conditional` and `while`, with gradients through both."""
import collections

import xlite as tf

# 1. tf.cond: only the branch the predicate selects runs
x = tf.constant(3); y = tf.constant(4)
r = tf.cond(x > y, lambda: tf.add(x, y), lambda: tf.subtract(x, y))
print(tf.Session().run(r))                                   # -1

# 2. a placeholder predicate, fed both ways; the untaken branch's assignment never happens
flag = tf.placeholder(tf.bool, [])
count = tf.Variable(0)
bumped = tf.cond(flag, lambda: tf.assign_add(count, 1), lambda: tf.identity(count))
with tf.Session() as sess:
    sess.run(count.initializer)
    print(sess.run(bumped, {flag: True}), sess.run(bumped, {flag: False}))   # 1 1

# 3. tf.while_loop: the sum 1..10
i = tf.constant(0); s = tf.constant(0)
_, total = tf.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i + 1), [i, s])
print(tf.Session().run(total))                               # 55

# 4. nested loop variables and a cond inside the body: Collatz steps of 27
State = collections.namedtuple("State", "steps value")
n = tf.placeholder(tf.int32, [])
final = tf.while_loop(
    lambda st: st.value > 1,
    lambda st: State(st.steps + 1, tf.cond(tf.equal(st.value % 2, 0),
                                           lambda: st.value // 2, lambda: 3 * st.value + 1)),
    [State(tf.constant(0), n)])
steps, value = tf.Session().run(final, {n: 27})
print(steps, value)                                          # 111 1

# 5. gradients: through a cond, and through a loop computing v**steps by repeated products, steps fed
v = tf.placeholder(tf.float32, [])
steps = tf.placeholder(tf.int32, [])
c = tf.cond(v < 2.0, lambda: v * v * v, lambda: 10.0 * v)
_, power = tf.while_loop(lambda k, p: k < steps, lambda k, p: (k + 1, p * v), [0, 1.0])
with tf.Session() as sess:
    print(sess.run(tf.gradients(c, v)[0], {v: 1.5}))         # 6.75      (3 v^2)
    p, dp = sess.run([power, tf.gradients(power, v)[0]], {v: 1.5, steps: 5})
    print(p, dp)                                             # 7.59375 25.3125   (v^5, 5 v^4)
