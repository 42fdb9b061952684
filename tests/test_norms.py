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


def test_every_norm_belongs_to_a_setting_and_every_preset_default_is_its_own():
    """The registry tags each norm with the setting it describes; a preset's `utility_norm` default (if any)
    must be one of its own norms or a constant in (0, 1] (none of the six presets sets one today)."""
    from ces.economics.thresholds import NORM_SETTING, setting_utility_norm
    from ces.modelfile.presets import available, load_setting

    assert set(NORM_SETTING) == set(QALE_NORMS)
    assert set(NORM_SETTING.values()) <= set(available())
    for name in available():
        norm = setting_utility_norm(load_setting(name))
        assert (NORM_SETTING[norm] == name) if isinstance(norm, str) else (0 < norm <= 1)


def test_a_preset_default_of_another_country_or_unknown_is_refused():
    from ces.economics.thresholds import DEFAULT_UTILITY_NORM, setting_utility_norm
    from ces.errors import CesError

    assert setting_utility_norm({"name": "sweden"}) == DEFAULT_UTILITY_NORM == 0.85
    assert setting_utility_norm({"name": "us", "utility_norm": "us_nhms_2005"}) == "us_nhms_2005"
    with pytest.raises(CesError, match="not a norm of this setting.*none shipped"):
        setting_utility_norm({"name": "sweden", "utility_norm": "us_nhms_2005"})
    with pytest.raises(CesError, match="its norms: uk_dsu_2014"):
        setting_utility_norm({"name": "uk", "utility_norm": "uk_2099"})


def _us_run(tmp_path, monkeypatch, severity_yaml, preset_norm=None):
    """cart_lbcl (start age 58, 33 % female) in the US setting; the US preset optionally given a default norm."""
    import ces.economics.appraisal as appraisal_mod
    from ces.modelfile.presets import load_setting
    from ces.pipeline import run
    from tests.conftest import CONFIGS

    if preset_norm is not None:
        def patched(name):
            p = load_setting(name)
            return {**p, "utility_norm": preset_norm} if name == "us" else p
        monkeypatch.setattr(appraisal_mod, "load_setting", patched)
    p = tmp_path / "us.yaml"
    p.write_text(f"ces: 1\nmodel: {CONFIGS.parent / 'models' / 'cart_lbcl.yaml'}\nsetting: us\n{severity_yaml}")
    res = run(p, psa=False)
    return res.appraisal["severity"]["qale_general_population"], float(res.loaded.model.discount.effects)


def test_the_setting_default_norm_is_used_and_a_hand_computed_value_flows_into_the_result(tmp_path, monkeypatch):
    """A preset `utility_norm` is the shortfall's norm when the config names none (`severity: {}`); the
    result equals a hand computation from Fryback 2007 Table 3 (male 0.86/0.87/0.85, female 0.84/0.84/0.82
    for 55-64, 65-74, 75+) over the US 2021 life table from age 58: Σ_s w_s Σ_b u_{s,b} · (discounted LE in b)."""
    plain, _ = _us_run(tmp_path, monkeypatch, "severity: {}\n")  # the shipped US preset names no default
    got, rate = _us_run(tmp_path, monkeypatch, "severity: {}\n", preset_norm="us_nhms_2005")
    lt = life_table("us_2021")

    def le(sex, t):  # discounted life-years from 58 over the first t years
        return qale(lt, 58, {sex: 1.0}, 1.0, rate, t)
    hand = 0.0
    for sex, w, (u1, u2, u3) in (("male", 0.67, (0.86, 0.87, 0.85)), ("female", 0.33, (0.84, 0.84, 0.82))):
        hand += w * (u1 * le(sex, 7.0) + u2 * (le(sex, 17.0) - le(sex, 7.0)) + u3 * (le(sex, 120.0) - le(sex, 17.0)))
    assert got == pytest.approx(hand, rel=1e-12)
    # the config's own norm wins over the setting's default; without a default the constant 0.85 applies
    const, _ = _us_run(tmp_path, monkeypatch, "severity: {utility_norm: 0.85}\n", preset_norm="us_nhms_2005")
    assert const == plain == pytest.approx(qale(lt, 58, {"male": 0.67, "female": 0.33}, 0.85, rate), rel=1e-12)
    assert abs(got - plain) > 1e-3


def test_a_setting_default_norm_that_does_not_cover_the_start_age_names_the_setting(tmp_path, monkeypatch):
    """genetherapy_tdt starts at 20, below the US norms' youngest band (35): a one-line error on the config's
    `setting:` key that says the default came from the setting, not a silent fall-back to a constant."""
    import ces.economics.appraisal as appraisal_mod
    from ces.errors import CesError
    from ces.modelfile.presets import load_setting
    from ces.pipeline import run
    from tests.conftest import CONFIGS

    monkeypatch.setattr(appraisal_mod, "load_setting",
                        lambda name: {**load_setting(name), "utility_norm": "us_nhms_2005"})
    p = tmp_path / "young.yaml"
    p.write_text(f"ces: 1\nmodel: {CONFIGS.parent / 'models' / 'genetherapy_tdt.yaml'}\nsetting: us\nseverity: {{}}\n")
    with pytest.raises(CesError, match="the us default norm: utility norm `us_nhms_2005` is published from age 35") as e:
        run(p, psa=False)
    assert "setting" in str(e.value)
