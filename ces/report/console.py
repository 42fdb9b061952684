"""rich terminal tables for the results (formatting only): the names of the console_* modules, in one place.

- :mod:`ces.report.console_format`: number formatting, labels, the console, the CEAC sparkline;
- :mod:`ces.report.console_base`: the base case and the model structure;
- :mod:`ces.report.console_psa`: PSA, EVPPI and the batch sweep;
- :mod:`ces.report.console_budget`: budget impact, payment model, cost shares per payer;
- :mod:`ces.report.console_appraisal`: the setting's threshold options and Japan's C2H.
"""

from ces.report.console_appraisal import print_appraisal, print_c2h  # noqa: F401
from ces.report.console_base import print_run, print_structure  # noqa: F401
from ces.report.console_budget import print_budget, print_payers, print_payment  # noqa: F401
from ces.report.console_format import (  # noqa: F401
    BLOCKS, _num, ceac_sparkline, make_console, perspective_title, strategy_label)
from ces.report.console_psa import print_evppi, print_grid_sweep, print_psa, print_wtp_table  # noqa: F401
