"""Side-by-side benchmarks: ours against scikit-learn and the other peers, in one process."""
