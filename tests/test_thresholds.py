"""Country presets, thresholds, severity and verdicts."""

from __future__ import annotations

import pytest

from ces.modelfile.presets import available, load_setting
from ces.economics.thresholds import c2h_band, qale, severity, threshold
from ces.pipeline import run
from ces.survival.lifetable import life_table
from tests.conftest import CONFIGS, MODELS


def test_reference_data_ship_with_source_headers():
    from pathlib import Path

    import ces

    for name in available():
        for ref in load_setting(name).get("reference_data", []):
            text = (Path(ces.__file__).parent / "data" / ref["file"]).read_text(encoding="utf-8")
            assert text.startswith("#") and ("Source" in text[:3000] or "source" in text[:3000])


def test_all_presets_ship_with_sources():
    assert available() == ["china", "japan", "netherlands", "sweden", "uk", "us"]
    for name in available():
        p = load_setting(name)
        assert p["threshold"]["source"] and all(v["source"] for v in p.get("values", []))
        assert {v["verification"] for v in p.get("values", [])} <= {"V", "S", "P", "U"}


def test_threshold_rules_by_hand():
    sev = severity(20.0, 2.0)  # AS 18, PS 0.9
    assert sev["absolute_shortfall"] == 18 and sev["proportional_shortfall"] == pytest.approx(0.9)
    assert threshold(load_setting("uk")["threshold"], sev)["threshold"] == pytest.approx(35000 * 1.7)  # AS >= 18
    assert threshold(load_setting("uk")["threshold"], severity(20.0, 8.0))["threshold"] == pytest.approx(35000 * 1.2)  # AS 12
    assert threshold(load_setting("uk")["threshold"], severity(20.0, 15.0))["threshold"] == 35000
    nl = load_setting("netherlands")["threshold"]
    assert [threshold(nl, severity(10.0, 10.0 - 10 * ps))["threshold"] for ps in (0.3, 0.5, 0.8)] == [20000, 50000, 80000]
    se = load_setting("sweden")["threshold"]
    assert threshold(se, sev)["grade"] == "very_high" and threshold(se, sev)["threshold"] == 1000000
    assert threshold(se, None, grade="moderate")["threshold"] == 500000
    jp = threshold(load_setting("japan")["threshold"], None, anticancer=True)
    assert jp["boundaries"] == [7500000, 11250000, 15000000]
    assert c2h_band(8_000_000, jp["boundaries"]).startswith("7,500,000–11,250,000")
    cn = threshold(load_setting("china")["threshold"], None)
    assert (cn["lower"], cn["threshold"]) == (99665, 3 * 99665)  # NBS 2025
    assert threshold(load_setting("us")["threshold"], None)["threshold"] == 150000


def test_qale_is_discounted_life_expectancy_times_norm():
    lt = life_table("uk_2018_2020")
    assert qale(lt, 60, {"female": 1.0}, 1.0, 0.0) == pytest.approx(lt.life_expectancy(60, {"female": 1.0}), rel=1e-3)
    assert qale(lt, 60, {"female": 1.0}, 0.8, 0.035) < 0.8 * lt.life_expectancy(60, {"female": 1.0})


def test_preset_applies_discount_and_labels_unverified(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'thr_dmhee.yaml'}\nsetting: uk\nsettings: {{discount: {{effects: 0}}}}\n")
    res = run(cfg, psa=False)
    assert res.loaded.model.discount.costs == 0.035  # from the preset
    assert res.loaded.model.discount.effects == 0  # the config overrides the preset
    assert res.loaded.model.currency == "GBP"
    assert res.appraisal["unverified"] == []  # UK threshold now sourced (S); U labels: see the 1.5 % scenario test
    assert res.appraisal["severity"]["comparator"] == "standard"
    # a model without start_age cannot give the severity that the UK rule needs: a clear error
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'hiv_dmhee.yaml'}\nsetting: uk\n")
    from ces.errors import CesError
    with pytest.raises(CesError, match="needs the model's `start_age` and `sex`"):
        run(cfg, psa=False)


def test_country_configs_report_both_perspectives_and_verdicts(runner):
    from ces.cli import app

    for c in ("japan", "sweden", "china"):
        r = runner.invoke(app, ["run", str(CONFIGS / f"cart_lbcl_{c}.yaml"), "--no-psa", "--full"])
        assert r.exit_code == 0, r.output
        assert "Societal perspective" in r.output and "Impact inventory" in r.output and "Verdicts" in r.output
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_sweden.yaml"), "--no-psa", "--full"])
    assert "partial reference data" in r.output and "se_employment_rate_partial.csv" in r.output
    res = run(CONFIGS / "cart_lbcl_sweden.yaml", psa=False)
    v = res.appraisal["verdicts"]
    assert set(v["perspective"]) == {"healthcare payer", "societal"}


def test_qale_norms_reproduce_the_published_english_norms():
    """McNamara, Schneider et al., Value Health 2022 (the QALY Shortfall Calculator's norms), published QALE
    table (github.com/bitowaqr/shortfall, src manuscript/output/Qx_cw_df.csv; HSE 2017-18 crosswalk norms,
    ONS 2017-19): female 50 at 3.5 % 15.54, male 50 at 3.5 % 15.26, female 70 undiscounted 12.50,
    male newborn undiscounted 68.28, female 30 at 1.5 % 29.77, male 80 at 3.5 % 5.31."""
    from ces.economics.thresholds import qale_norms

    for age, female, rate, published in ((50, 1, 0.035, 15.54), (50, 0, 0.035, 15.26), (70, 1, 0.0, 12.50),
                                         (0, 0, 0.0, 68.28), (30, 1, 0.015, 29.77), (80, 0, 0.035, 5.31)):
        assert round(qale_norms(age, female, rate, "uk_hse_2017_cw"), 2) == published


def test_nice_shortfall_example():
    """The calculator's use: age 50, 100 % female, 3.5 % (NICE), remaining QALYs of the untreated 1.0 →
    QALE 15.54 (published), absolute shortfall 14.54, proportional 0.936 → QALY weight 1.2 (PS 0.85–0.95 or
    AS 12–18, NICE PMG36 §6.2); with 0.5 remaining QALYs at age 30 (QALE at 3.5 % from the same table),
    AS ≥ 18 → weight 1.7."""
    from ces.economics.thresholds import qale_norms, severity, threshold, threshold_rule

    rule = threshold_rule(load_setting("uk"))
    sev = severity(qale_norms(50, 1, 0.035, "uk_hse_2017_cw"), 1.0)
    assert round(sev["absolute_shortfall"], 2) == 14.54 and round(sev["proportional_shortfall"], 3) == 0.936
    assert threshold(rule, sev)["weight"] == 1.2
    sev = severity(qale_norms(30, 1, 0.035, "uk_hse_2017_cw"), 0.5)
    assert sev["absolute_shortfall"] >= 18 and threshold(rule, sev)["weight"] == 1.7
    sev = severity(qale_norms(80, 0, 0.035, "uk_hse_2017_cw"), 4.0)  # AS 1.31, PS 0.25: no modifier
    assert threshold(rule, sev)["weight"] == 1.0


def test_nice_shortfall_uses_3_5_percent_whatever_the_model_rate(tmp_path):
    from ces.pipeline import run
    from tests.conftest import CONFIGS

    def cfg(rate):
        p = tmp_path / f"uk{rate}.yaml"
        p.write_text(f"ces: 1\nmodel: {CONFIGS.parent / 'models' / 'cart_lbcl.yaml'}\nsetting: uk\n"
                     f"severity: {{utility_norm: uk_dsu_2014}}\nsettings: {{discount: {{costs: 0.035, effects: {rate}}}}}\n")
        return run(p, psa=False)
    a, b = cfg(0.015), cfg(0.035)
    sa, sb = a.appraisal["severity"], b.appraisal["severity"]
    # the comparator's QALE at 3.5 % equals its QALYs in a run discounted at 3.5 %
    assert sa["qale_comparator"] == pytest.approx(float(b.totals.set_index("strategy").loc["chemo", "qaly"]), rel=1e-12)
    assert sa["qale_comparator"] < float(a.totals.set_index("strategy").loc["chemo", "qaly"])
    assert sa["absolute_shortfall"] == pytest.approx(sb["absolute_shortfall"], rel=1e-12)
    assert sa["qale_general_population"] == pytest.approx(sb["qale_general_population"], rel=1e-12)


def test_uk_threshold_from_april_2026_and_the_dated_2022_option():
    from ces.economics.thresholds import threshold_rule

    uk = load_setting("uk")
    now = threshold_rule(uk)
    assert now["range"] == [25000, 35000] and now["in_force_from"] == "2026-04"
    old = threshold_rule(uk, "nice_2022")
    assert old["range"] == [20000, 30000] and old["in_force_until"] == "2026-03"
    sev = severity(20.0, 2.0)  # AS 18: weight 1.7 under both ranges (the modifier is unchanged)
    assert threshold(now, sev)["threshold"] == pytest.approx(35000 * 1.7)
    assert threshold(old, sev)["threshold"] == pytest.approx(30000 * 1.7)
    assert threshold(now, severity(20.0, 15.0))["lower"] == 25000


def test_uk_nonreference_discount_scenario_needs_its_conditions(tmp_path):
    from ces.errors import CesError

    cfg = tmp_path / "c.yaml"
    base = f"ces: 1\nmodel: {MODELS / 'thr_dmhee.yaml'}\nsetting: uk\n"
    cfg.write_text(base + "appraisal: {scenario: discount_1_5}\n")
    with pytest.raises(CesError, match="conditions") as e:
        run(cfg, psa=False)
    assert "at least 30 years" in e.value.message and e.value.line == 4
    cfg.write_text(base + "appraisal: {scenario: discount_1_5, conditions_met: true, threshold: nice_2022}\n")
    res = run(cfg, psa=False)
    assert (res.loaded.model.discount.costs, res.loaded.model.discount.effects) == (0.015, 0.015)
    assert res.appraisal["threshold"]["threshold"] in (30000, 36000, 51000)
    assert res.appraisal["scenario"] == "discount_1_5" and "scenario discount_1_5" in res.appraisal["unverified"]
    cfg.write_text(base + "appraisal: {threshold: nice_1999}\n")
    with pytest.raises(CesError, match="no threshold option `nice_1999`"):
        run(cfg, psa=False)


def test_sweden_levels_are_sourced_and_assumptions_are_off_by_default():
    se = load_setting("sweden")["threshold"]
    assert set(se["by_grade"]) == {"moderate", "very_high", "rare_very_high"} == set(se["sources"])
    assert threshold(se, None, grade="rare_very_high")["threshold"] == 2_000_000
    assert threshold(se, severity(10.0, 7.0))["grade"] == "moderate"      # PS 0.3: no `low` level by default
    assert threshold(se, severity(10.0, 3.0))["grade"] == "very_high"     # PS 0.7: no `high` level by default
    with pytest.raises(ValueError, match="no sourced level"):
        threshold(se, None, grade="high")
    on = threshold(se, severity(10.0, 3.0), assumed_grades=True)
    assert (on["grade"], on["threshold"], on["assumption"]) == ("high", 750000, True)
    assert threshold(se, severity(10.0, 8.0), assumed_grades=True)["grade"] == "low"  # PS 0.2
