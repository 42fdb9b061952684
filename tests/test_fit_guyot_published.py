"""Guyot reconstruction of a published curve: Bonner et al. 2006, radiotherapy alone (213 patients).

Inputs (tests/data/bonner2006_rt_*.csv, sources in their headers): the 145 points the IPDfromKM authors read
off the published locoregional-control curve, uncleaned, and the published numbers at risk at 0-50 months.
Published result to reproduce: median duration of locoregional control 14.9 months in this arm (Bonner JA et
al., N Engl J Med 2006;354:567-78, abstract).

Tolerances, stated before running:
- the median: the digitised points near S = 0.5 are about 0.5 month apart (14.3, 14.8, 15.3 months), so a
  reconstruction cannot place the median more finely than that: |median - 14.9| <= 0.5 month;
- the numbers at risk: Guyot's algorithm adjusts each interval's censoring until the reconstructed number at
  risk at the interval's end equals the published one, so they must be equal (exactly);
- the reconstructed KM against the cleaned points: at each digitised time, the curve's value after the step
  there (the lowest point read at that time; the others lie on the vertical part of the step) is reproduced
  to within one patient's step, 1/n_at_risk at that time (events are rounded to whole patients).
"""

import numpy as np
import pytest

from ces.cli import app
from ces.errors import CesError
from ces.survival.guyot import clean_km, pseudo_ipd, read_km
from ces.survival.km import kaplan_meier, number_at_risk
from tests.conftest import ROOT

KM = ROOT / "tests" / "data" / "bonner2006_rt_km.csv"
RISK = ROOT / "tests" / "data" / "bonner2006_rt_risk.csv"
PUBLISHED_MEDIAN = 14.9  # months, radiotherapy alone (Bonner et al. 2006)


def _median(km) -> float:
    """First time the KM estimate is at or below 0.5 (the usual KM median)."""
    return float(km.time[np.argmax(km.surv <= 0.5)])


@pytest.fixture(scope="module")
def recon():
    notes: list = []
    df, rt, rn, time = pseudo_ipd(KM, RISK, clean=True, notes=notes)
    return df, rt, rn, time, notes


def test_the_raw_points_are_refused_without_clean():
    with pytest.raises(CesError, match="percentages"):
        pseudo_ipd(KM, RISK)


def test_cleaning_reports_each_repair(recon):
    notes = recon[4]
    assert notes[0] == "survival read as percentages (divided by 100)"
    assert notes[1] == "1 point(s) at negative times dropped"
    assert notes[2].startswith("26 uptick(s) flattened")


def test_reconstruction_keeps_the_published_numbers_at_risk(recon):
    df, rt, rn, time, _ = recon
    assert len(df) == 213
    np.testing.assert_array_equal(number_at_risk(time, rt), rn)


def test_reconstructed_median_matches_the_published_one(recon):
    df = recon[0]
    km = kaplan_meier(df.time.to_numpy(), df.event.to_numpy())
    assert abs(_median(km) - PUBLISHED_MEDIAN) <= 0.5


def test_reconstructed_km_follows_the_digitised_points(recon):
    df = recon[0]
    (t, s), _ = read_km(KM, RISK)
    t, s, _ = clean_km(t, s)
    after = np.r_[t[1:] != t[:-1], True]  # the last (lowest) point at each time: the value after the step
    t, s = t[after], s[after]
    km = kaplan_meier(df.time.to_numpy(), df.event.to_numpy())
    keep = (t > 0) & (t < 50)  # inside the published at-risk table
    idx = np.searchsorted(km.time, t[keep], side="right") - 1
    s_rec = np.where(idx >= 0, km.surv[np.maximum(idx, 0)], 1.0)
    step = 1.0 / number_at_risk(df.time.to_numpy(), t[keep])
    assert np.all(np.abs(s_rec - s[keep]) <= step + 1e-12)


def test_clean_km_rules():
    t, s, notes = clean_km([2.0, 1.0, 1.0, 3.0], [0.7, 0.9, 0.8, 0.75])
    np.testing.assert_array_equal(t, [1.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(s, [0.9, 0.8, 0.7, 0.7])  # sorted, ties top first, uptick flattened
    assert notes == ["points sorted by time", "1 uptick(s) flattened (largest 0.05)"]
    assert clean_km([0.0, 1.0], [1.0, 0.5])[2] == []  # clean input: nothing changed, nothing reported
    with pytest.raises(CesError, match="percentages"):
        clean_km([0.0, 1.0], [100.0, 120.0])


def test_cli_clean_fits_and_records_it(runner, tmp_path):
    out = tmp_path / "fit"
    r = runner.invoke(app, ["fit", "--km", str(KM), "--at-risk", str(RISK), "--clean", "--families", "weibull",
                            "--no-cure", "--ipd-out", str(tmp_path / "ipd.csv"), "--yaml",
                            str(tmp_path / "lrc.yaml"), "--name", "lrc", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "cleaned bonner2006_rt_km.csv: survival read as percentages" in r.output
    import yaml

    from ces.modelfile.schema_fit import FitRecipe
    from ces.survival.fit_recipe import replay

    entry = yaml.safe_load((tmp_path / "lrc.yaml").read_text())["fits"]["lrc"]
    assert entry["clean"] is True
    replay(FitRecipe(**entry), [KM, RISK], 0, 1)  # the run-time refit cleans the raw file the same way
    assert "after cleaning" in (tmp_path / "ipd.csv").read_text().splitlines()[0]
    bad = runner.invoke(app, ["fit", "--km", str(KM), "--at-risk", str(RISK), "--families", "weibull"])
    assert bad.exit_code == 2 and "--clean" in bad.output
