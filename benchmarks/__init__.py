"""xlite's benchmark suite (shared/BENCHMARKS.md): the workloads here, the harness in xlite/bench/."""
