"""Shared bases of the schema: the strict pydantic model, the expression and number types, the counting
corrections, and the state-value patch used by both strategies and decision-tree branches.

Imported by :mod:`ces.modelfile.schema` (model files), :mod:`ces.modelfile.schema_config` (analysis
configs) and :mod:`ces.modelfile.tree_schema` (decision trees); it imports none of them.
"""

from __future__ import annotations

from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

Expression = Union[StrictInt, StrictFloat, StrictStr]
Number = Union[StrictInt, StrictFloat]

CORRECTIONS = ("start", "end", "life-table", "half-cycle", "simpson", "darth-simpson", "none")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatePatch(Strict):
    label: Optional[StrictStr] = Field(None, description="Display name of the state.")
    cost: Optional[Expression] = Field(None, description="Replaces the state's `cost` in this strategy.")
    costs: Optional[dict[StrictStr, Expression]] = Field(None, description="Replaces these cost categories of the "
                                                         "state in this strategy (others are kept).")
    utility: Optional[Expression] = Field(None, description="Replaces the state's utility in this strategy.")
