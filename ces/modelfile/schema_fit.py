"""Schema of a model's ``fits:`` block: the recipe of a ``ces fit`` run, so that ``ces run`` can refit.

``ces fit DATA.csv ... --yaml curves.yaml`` writes, beside the fitted ``parameters`` and ``curves``, the
inputs of the fit (data file and its SHA-256, columns, the candidate families and the chosen model of each
endpoint, arm/joint, weights, background mortality) and the PSA entries it wrote.  With the analysis-config
key ``psa: {curves: bootstrap, B: 1000}`` the run resamples the patients and refits every endpoint from this
recipe (:mod:`ces.survival.boot_run`), the same code as ``ces fit --bootstrap``.  A fit to a digitised curve
(``ces fit --km KM.csv --at-risk RISK.csv``) records the two files and ``events`` instead of ``data``: the run
reconstructs the same pseudo-patients (Guyot) and resamples them.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from ces.modelfile.schema_base import Number, Strict


class FitEndpoint(Strict):
    name: StrictStr = Field(description="Curve name (the prefix of its coefficient parameters, e.g. pfs).")
    time: StrictStr = Field(description="Time column of the data file.")
    event: StrictStr = Field(description="Event column (1 = event, 0 = censored).")
    model: StrictStr = Field(description="The chosen model's label (e.g. weibull, spline-2-hazard, "
                             "weibull-mixture-cure); the refit must choose it again.")


class FitRecipe(Strict):
    data: Optional[StrictStr] = Field(None, description="Patient-level CSV, relative to the model file (inside the "
                                      "model's or the config's folder, or an `allow_paths` folder).")
    km: Optional[StrictStr] = Field(None, description="Instead of `data`: the digitised KM curve CSV (time, "
                                    "survival) of `ces fit --km`, relative to the model file like `data`.")
    at_risk: Optional[StrictStr] = Field(None, description="With `km`: the numbers-at-risk CSV (time, n_risk).")
    events: Optional[StrictInt] = Field(None, ge=0, description="With `km`: the total number of events given "
                                        "to the reconstruction (`--events`).")
    clean: StrictBool = Field(False, description="With `km`: the digitised points were cleaned first (`ces fit "
                              "--clean`: percent to proportions, negative times dropped, sorted, upticks "
                              "flattened); the run-time refit cleans them the same way.")
    sha256: StrictStr = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the data file (or of the `km` "
                              "file) when it was fitted (a changed file is an error: refit with `ces fit`).")
    at_risk_sha256: Optional[StrictStr] = Field(None, pattern=r"^[0-9a-f]{64}$", description="With `km`: "
                                                "SHA-256 of the at-risk file.")
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
    smr: Number = Field(1.0, gt=0, description="Excess mortality ratio on that background hazard (`ces fit "
                        "--smr`, the curves' `smr:` key).")
    parameters: list[StrictStr] = Field(min_length=1, description="The PSA entries (parameter keys) the fit "
                                        "wrote; `psa.curves` replaces them by one joint entry.")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.data is None) == (self.km is None):
            raise ValueError("give either `data` (patient-level CSV) or `km` + `at_risk` (digitised curve)")
        if self.km is not None:
            if self.at_risk is None or self.at_risk_sha256 is None:
                raise ValueError("`km` needs `at_risk` and `at_risk_sha256` (as `ces fit --km --yaml` writes)")
            if len(self.endpoints) != 1 or self.arm or self.joint or self.weight:
                raise ValueError("a digitised curve (`km`) is one endpoint, without `arm`, `joint` or `weight`")
        elif self.at_risk is not None or self.events is not None or self.at_risk_sha256 is not None or self.clean:
            raise ValueError("`at_risk`, `at_risk_sha256`, `events` and `clean` go with `km`, not `data`")
        return self
