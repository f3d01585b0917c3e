"""What the IR's operations mean, in NumPy: the level every frontend, pass and backend may follow.

It sits just above `xlite.ir` and imports nothing else of xlite (numpy aside), so the
frontend (static values of shape arguments), constant folding, and both code
generators (the CPU's and the CUDA's rng follow `philox` step by step) can read the
reference semantics without reaching up into the runtime. A package of its own, not
`xlite/ir/eval`, so that parsing or printing IR never loads the evaluator, and the
layer rule (tests/test_import_layers.py) reads off the package name.

- `philox`: counter-based Philox-4x32-10 and the rng distributions.
- `eval_rules`: the interpreter's per-op rules (`@eval_rule`) and the evaluation of an
  instruction, a computation or a whole module with them; the runtime's interpreter
  target and traced runs call them, as constant evaluation and folding do.
- `constant_eval`: the value of an instruction that depends on no parameter.
"""
