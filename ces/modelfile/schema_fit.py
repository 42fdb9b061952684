"""Schema of a model's ``fits:`` block: the recipe of a ``ces fit`` run, so that ``ces run`` can refit.

``ces fit DATA.csv ... --yaml curves.yaml`` writes, beside the fitted ``parameters`` and ``curves``, the
inputs of the fit (data file and its SHA-256, columns, the candidate families and the chosen model of each
endpoint, arm/joint, weights, background mortality) and the PSA entries it wrote.  With the analysis-config
key ``psa: {curves: bootstrap, B: 1000}`` the run resamples the patients and refits every endpoint from this
recipe (:mod:`ces.survival.boot_run`), the same code as ``ces fit --bootstrap``.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool, StrictInt, StrictStr

from ces.modelfile.schema_base import Number, Strict


class FitEndpoint(Strict):
    name: StrictStr = Field(description="Curve name (the prefix of its coefficient parameters, e.g. pfs).")
    time: StrictStr = Field(description="Time column of the data file.")
    event: StrictStr = Field(description="Event column (1 = event, 0 = censored).")
    model: StrictStr = Field(description="The chosen model's label (e.g. weibull, spline-2-hazard, "
                             "weibull-mixture-cure); the refit must choose it again.")


class FitRecipe(Strict):
    data: StrictStr = Field(description="Patient-level CSV, relative to the model file (inside the model's or the "
                            "config's folder, or an `allow_paths` folder).")
    sha256: StrictStr = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the data file when it was fitted "
                              "(a changed file is an error: refit with `ces fit`).")
    endpoints: list[FitEndpoint] = Field(min_length=1, max_length=20, description="Endpoints, in `ces fit` order.")
    arm: Optional[StrictStr] = Field(None, description="Arm column (with `joint: true`).")
    joint: StrictBool = Field(False, description="One fit with the arm as a covariate.")
    weight: Optional[StrictStr] = Field(None, description="Case-weight column.")
    families: Optional[list[StrictStr]] = Field(None, description="Candidate families (null: every fittable one).")
    knots: list[StrictInt] = Field([1, 2, 3], description="Internal spline knots tried.")
    cure: StrictBool = Field(True, description="Cure models among the candidates.")
    choose: Optional[StrictStr] = Field(None, description="`--choose` (null: lowest AIC per endpoint).")
    time_unit: Literal["day", "week", "month", "year"] = Field("month", description="Unit of the time columns.")
    background: Optional[StrictStr] = Field(None, description="Life table of the cure models' background hazard.")
    age: Optional[Number] = Field(None, description="Start age of that background hazard.")
    sex: StrictStr = Field("0.5", description="male, female or the male share (as `ces fit --sex`).")
    parameters: list[StrictStr] = Field(min_length=1, description="The PSA entries (parameter keys) the fit "
                                        "wrote; `psa.curves` replaces them by one joint entry.")
