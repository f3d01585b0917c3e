"""The five basics of TF1 graph programming, run unchanged with `import xlite as tf`."""
import xlite as tf

# 1. an operation: 1 + 2
a = tf.constant(1); b = tf.constant(2)
with tf.Session() as sess:
    print(sess.run(tf.add(a, b)))             # 3

# 2. a Variable counting up with assign
cnt = tf.Variable(0, name="counter")
step = tf.assign(cnt, tf.add(cnt, tf.constant(1)))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(3):
        print(sess.run(step))                 # 1, 2, 3

# 3. a placeholder fed at run time
y = tf.placeholder(tf.int32)
z = tf.constant(1) + y
with tf.Session() as sess:
    print(sess.run(z, feed_dict={y: 1}))      # 2
    print(sess.run(z, feed_dict={y: 3}))      # 4

# 4. two Sessions are independent worlds for the same graph
s1, s2 = tf.Session(), tf.Session()
s1.run(cnt.initializer); s2.run(cnt.initializer)
s1.run(step); s1.run(step); s2.run(step)
print(s1.run(cnt), s2.run(cnt))              # 2 1

# 5. the same with higher-rank tensors
x = tf.constant([[1, 2], [1, 2]]); w = tf.constant([[3, 4], [3, 4]])
print(tf.Session().run(x + w))               # [[4 6] [4 6]]
