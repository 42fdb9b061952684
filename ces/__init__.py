"""ces: a command-line health-economic evaluator (Markov cohort and partitioned-survival models)."""

__version__ = "0.1.0"
