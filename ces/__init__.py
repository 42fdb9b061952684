"""ces: a command-line health-economic evaluator (Markov cohort and partitioned-survival models).

Importing ces sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is already set, before numba starts its
OpenMP threading layer: an idle OpenMP worker then sleeps between parallel regions instead of
spin-waiting, so on a busy machine the waiting thread does not take the core from the one doing the
numpy work between kernels (measured in docs/performance.md).  It changes no result (each draw's
arithmetic is sequential whatever the threads do).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
