"""ces.studies: analyses that run the pipeline many times, above ``ces.pipeline`` and below the CLI.

- ``overrides``: the parameter/setting overrides of one study run;
- ``dsa``: deterministic sensitivity analysis (one-way, two-way, threshold, scenarios);
- ``sweep``: batch grids of configs × parameter values × WTP on an executor;
- ``price``: the threshold price of a cost parameter (two runs);
- ``fit``: the ``ces fit`` runner (read the data, run the survival fits, write the outputs);
- ``evppi``: the value-of-information study (one PSA run, then EVPPI and decision tables over its draws).
"""
