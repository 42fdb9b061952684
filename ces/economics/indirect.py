"""Societal-perspective cost categories and terms, as used by the perspectives and the reports.

The terms (formulas, sources and conventions in the module docstring) are defined once, in
:mod:`ces.engine.indirect`, because the model compiler turns them into reward streams; this module
re-exports them so that economics, analysis and report code keeps one import (economics may import
the engine, never the reverse).
"""

from __future__ import annotations

from ces.engine.indirect import (CAREGIVER_QALY, CONSUMPTION, INDIRECT, INFORMAL_CARE, PATIENT_TIME,
                                 PRODUCTIVITY, SOCIETAL, caregiver_qaly_changes, check_no_clash,
                                 dutch_friction_weeks, friction_rewards, indirect_costs)

__all__ = ["CAREGIVER_QALY", "CONSUMPTION", "INDIRECT", "INFORMAL_CARE", "PATIENT_TIME", "PRODUCTIVITY", "SOCIETAL",
           "caregiver_qaly_changes", "check_no_clash", "dutch_friction_weeks", "friction_rewards", "indirect_costs"]
