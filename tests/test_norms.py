"""Country EQ-5D population norms for the QALY shortfall (registry ``QALE_NORMS``, ces/data CSVs)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from ces.economics.thresholds import QALE_NORMS, norm_bands, qale, qale_norms
from ces.survival.lifetable import LIFE_TABLES, life_table

BANDED = [name for name, (_, _, table) in QALE_NORMS.items() if table is not None]


def test_every_banded_norm_loads_with_its_source_header_and_a_shipped_life_table():
    assert "us_nhms_2005" in BANDED
    for name in BANDED:
        file, col, table = QALE_NORMS[name]
        text = Path(str(resources.files("ces") / "data" / file)).read_text(encoding="utf-8")
        head = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
        assert text.startswith("#")
        for needed in ("Table", "doi", "Instrument", "Value set", "retrieval date"):
            assert needed in head, (name, needed)
        assert table in LIFE_TABLES
        b = norm_bands(name)
        assert set(b["sex"]) == {"male", "female"}
        assert ((b[col] > 0) & (b[col] <= 1)).all()
        for _, g in b.groupby("sex"):  # bands ascend and do not overlap
            g = g.sort_values("age_lower")
            assert (g["age_upper"] >= g["age_lower"]).all()
            assert (g["age_lower"].iloc[1:].to_numpy() > g["age_upper"].iloc[:-1].to_numpy()).all()


def test_us_norms_reproduce_fryback_2007_table_3():
    """Fryback et al., Med Care 2007;45:1162, Table 3, EQ-5D rows: male 35-44 0.89, 55-64 0.86, 75-89 0.85;
    female 45-54 0.87, 75-89 0.82 (read from the CSV through the registry)."""
    b = norm_bands("us_nhms_2005").set_index(["sex", "age_lower"])["eq5d"]
    assert b[("male", 35)] == 0.89 and b[("male", 55)] == 0.86 and b[("male", 75)] == 0.85
    assert b[("female", 45)] == 0.87 and b[("female", 75)] == 0.82
    assert len(b) == 10


def test_banded_qale_by_hand_from_the_life_table():
    """Male aged 80: every remaining year is in (or past) the oldest band, so QALE = 0.85 · discounted LE.
    Female aged 70: 0.84 over ages 70-74 and 0.82 from 75 on."""
    lt = life_table("us_2021")
    assert qale_norms(80, 0.0, 0.035, "us_nhms_2005") == pytest.approx(
        0.85 * qale(lt, 80, {"male": 1.0}, 1.0, 0.035), rel=1e-12)
    le5 = qale(lt, 70, {"female": 1.0}, 1.0, 0.03, 5.0)
    le_all = qale(lt, 70, {"female": 1.0}, 1.0, 0.03)
    assert qale_norms(70, 1.0, 0.03, "us_nhms_2005") == pytest.approx(0.84 * le5 + 0.82 * (le_all - le5), rel=1e-12)
    # a mixed cohort is the weighted sum of the sexes (each with its own survival)
    mix = qale_norms(58, 0.33, 0.03, "us_nhms_2005")
    assert mix == pytest.approx(0.33 * qale_norms(58, 1.0, 0.03, "us_nhms_2005")
                                + 0.67 * qale_norms(58, 0.0, 0.03, "us_nhms_2005"), rel=1e-12)
    # norms below 0.9 everywhere: the QALE lies below 0.9 × the discounted life expectancy
    assert mix < 0.9 * qale(lt, 58, {"male": 0.67, "female": 0.33}, 1.0, 0.03)


def test_start_age_below_the_published_bands_is_refused():
    with pytest.raises(ValueError, match="from age 35"):
        qale_norms(20, 0.5, 0.03, "us_nhms_2005")


def test_us_norms_selectable_from_a_config(tmp_path):
    from ces.pipeline import run
    from tests.conftest import CONFIGS

    p = tmp_path / "us.yaml"
    p.write_text(f"ces: 1\nmodel: {CONFIGS.parent / 'models' / 'cart_lbcl.yaml'}\nsetting: us\n"
                 "severity: {utility_norm: us_nhms_2005}\n")
    res = run(p, psa=False)
    sev, rate = res.appraisal["severity"], float(res.loaded.model.discount.effects)
    assert sev["qale_general_population"] == pytest.approx(qale_norms(58, 0.33, rate, "us_nhms_2005"), rel=1e-12)
