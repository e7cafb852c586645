"""Training, export and evaluation of the fashrec models (see training/README.md)."""

import os

# Two cores shared with compilers and benchmarks: OpenMP threads that spin while waiting for a
# busy core make every small op ~50x slower. Passive waiting must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
