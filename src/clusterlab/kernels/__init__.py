"""numba kernels: pure functions on plain arrays (no classes, no pandas, no globals).

Each module is one concept; each kernel's docstring states shapes, dtypes, what it reads and
what it writes. Kernels compile on first call (``cache=CACHE``), never at import.
"""
