"""Threshold price: exact linear solution, checked against a brute-force search."""

from __future__ import annotations

import pytest
from scipy.optimize import brentq

from ces.cli import app
from ces.studies.price import threshold_price
from ces.pipeline import run
from tests.conftest import CONFIGS, MODELS


def _icer(price, path, s="cart", c="chemo", col="cost"):
    t = run(path, psa=False, overrides={"parameters": {"c_cart": price}}).totals.set_index("strategy")
    return (t.loc[s, col] - t.loc[c, col]) / (t.loc[s, "qaly"] - t.loc[c, "qaly"])


@pytest.mark.parametrize("perspective,col,path", [("payer", "cost", MODELS / "cart_lbcl.yaml"),
                                                  ("societal", "cost_societal", CONFIGS / "cart_lbcl_societal.yaml")])
def test_threshold_price_matches_brute_force(perspective, col, path):
    r = threshold_price(path, "c_cart", 150000, "cart", "chemo", col)
    brute = brentq(lambda p: _icer(p, path, col=col) - 150000, 0, 2_000_000, xtol=1e-6)
    assert r["threshold_price"] == pytest.approx(brute, rel=1e-9)
    assert _icer(r["threshold_price"], path, col=col) == pytest.approx(150000, rel=1e-9)


def test_price_cli(runner):
    r = runner.invoke(app, ["price", str(MODELS / "cart_lbcl.yaml"), "-p", "c_cart", "--wtp", "100000"])
    assert r.exit_code == 0 and "ICER = 100,000 when c_cart =" in r.output
    r = runner.invoke(app, ["price", str(MODELS / "cart_lbcl.yaml"), "-p", "u_pf", "--wtp", "100000"])
    assert r.exit_code == 2 and "changes the effects" in r.stderr
