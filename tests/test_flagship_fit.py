"""The LBCL flagship's survival curves come from a documented fit (issue 14), and its PSA does not cap PFS at OS.

- The shipped patient-level files are what models/data/make_lbcl_ipd.py makes (byte for byte).
- Refitting them with the recipe recorded in models/data/lbcl_{cart,chemo}_fit.yaml (the `ces fit` options:
  mixture cure, exponential, US 2021 background from age 58, 67 % male, smr 1.22) gives the MLE in
  models/cart_lbcl.yaml's bootstrap blocks (`value:`) and chooses the same model again.
- The bootstrap files are those fits' replicates: their header names the data file's SHA-256.
- Every replicate has pi_PFS <= pi_OS and lambda_PFS >= lambda_OS, which with the same background and smr gives
  S_PFS(t) <= S_OS(t) at every t; so the flagship PSA caps in fewer than 1 % of draws (acceptance: < 1 %).
"""

import importlib.util

import numpy as np
import pandas as pd
import pytest
import yaml

from ces.modelfile.schema_fit import FitRecipe
from ces.survival.bootstrap import file_sha256
from ces.survival.fit_recipe import replay
from tests.conftest import ROOT

DATA = ROOT / "models" / "data"
ARMS = ("cart", "chemo")


def _generator():
    spec = importlib.util.spec_from_file_location("make_lbcl_ipd", DATA / "make_lbcl_ipd.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _model_block(arm: str) -> dict:
    model = yaml.safe_load((ROOT / "models" / "cart_lbcl.yaml").read_text())
    return model["parameters"][f"pfs_{arm}_os_{arm}_coef"]


def test_shipped_data_are_what_the_generator_makes():
    gen = _generator()
    for arm, (name, *_) in gen.ARMS.items():
        assert gen.render(arm) == (DATA / name).read_text(), name


@pytest.mark.parametrize("arm", ARMS)
def test_model_coefficients_are_the_documented_fit(arm):
    entry = yaml.safe_load((DATA / f"lbcl_{arm}_fit.yaml").read_text())
    (key, rec), = entry["fits"].items()
    rec = FitRecipe(**rec)
    assert (rec.background, rec.age, rec.sex, rec.smr) == ("us_2021", 58.0, "0.67", 1.22)
    res = replay(rec, [DATA / rec.data], 0, 2026)  # also checks the same model is chosen again
    mle = np.concatenate([f.coef for _, f, _, _ in res["chosen"]])
    block = _model_block(arm)
    np.testing.assert_allclose(block["value"], mle, rtol=1e-9, atol=0)
    assert block["names"] == entry["parameters"][f"{key}_coef"]["names"]
    header = (ROOT / "models" / block["file"]).read_text().splitlines()[:6]
    assert f"# data_sha256: {file_sha256([DATA / rec.data])}" in header


@pytest.mark.parametrize("arm", ARMS)
def test_every_replicate_keeps_pfs_below_os(arm):
    block = _model_block(arm)
    rep = pd.read_csv(ROOT / "models" / block["file"], comment="#")
    assert len(rep) == block["B"] == 1000
    assert (rep[f"pfs_{arm}_logit_cure"] <= rep[f"os_{arm}_logit_cure"]).all()
    assert (rep[f"pfs_{arm}_log_rate"] >= rep[f"os_{arm}_log_rate"]).all()


def test_flagship_psa_caps_in_under_one_percent_of_draws():
    from ces.pipeline import run

    res = run(str(ROOT / "configs" / "flagship.yaml"), psa=True, draws=1000, seed=11, checks=False)
    assert res.psa.n_draws == 1000
    for name in ("chemo", "cart"):
        info = res.psa.crossing.get(name)
        capped = info.draws if info is not None else 0
        assert capped < 10, (name, capped)
