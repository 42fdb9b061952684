"""Schema of the decision-tree front end (`tree:` in a model file, or per strategy); see docs/tree.md.

A tree is a root node with nested ``branches`` (chance nodes), each branch carrying its probability
``p`` (an expression, or ``rest`` for the complement), a one-off payoff (costs, and QALYs as utility
× duration) and either more branches, a named ``subtree``, or nothing (a terminal branch).  A
terminal branch ends there, or ``enter``s the Markov / partitioned-survival model in a state with its
own parameter, state-value and curve overrides.  Evaluation: :mod:`ces.engine.tree`.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, StrictStr

from ces.modelfile.schema_base import Expression, StatePatch, Strict


class TreeNode(Strict):
    label: Optional[StrictStr] = Field(None, description="Display name of the branch (default: its key).")
    p: Optional[Expression] = Field(None, description="Probability of this branch given its parent (an "
                                    "expression, so PSA draws apply); one branch per node may be `rest` "
                                    "(1 minus its siblings). The root has none.")
    cost: Optional[Expression] = Field(None, description="One-off cost on reaching this node (category `cost`).")
    costs: dict[StrictStr, Expression] = Field(default_factory=dict, description="One-off costs by category on "
                                               "reaching this node.")
    utility: Optional[Expression] = Field(None, description="Utility during `duration`: QALYs = utility × "
                                          "duration (years).")
    duration: Optional[Expression] = Field(None, description="Time spent in this node: `48 hours`, `2 weeks`, "
                                           "`1 month`, or an expression in years. Counts as life-years; delays "
                                           "the children and the model entered (discounting, docs/tree.md).")
    qaly: Optional[Expression] = Field(None, description="One-off QALY payoff of this node (added to utility × "
                                       "duration).")
    branches: dict[StrictStr, "TreeNode"] = Field(default_factory=dict, description="Chance node: the branches "
                                                  "that follow, each with its probability `p`.")
    subtree: Optional[StrictStr] = Field(None, description="Continue with the named subtree of `subtrees` "
                                         "(instead of `branches`).")
    enter: Optional[StrictStr] = Field(None, description="Terminal branch: enter the model in this state (Markov: "
                                       "the initial occupancy; partitioned survival: the first state). Without "
                                       "it, a terminal branch ends with its own payoff.")
    parameters: dict[StrictStr, Any] = Field(default_factory=dict, description="Terminal branch that enters the "
                                             "model: parameter overrides for the model run from this branch "
                                             "(numbers or expressions; declare a distribution in the model's "
                                             "`parameters`).")
    states: dict[StrictStr, StatePatch] = Field(default_factory=dict, description="Terminal branch that enters "
                                                "the model: state value overrides for that run.")
    curves: dict[StrictStr, dict[StrictStr, Any]] = Field(default_factory=dict, description="Terminal branch "
                                                          "that enters a partitioned-survival model: curve "
                                                          "overrides for that run (e.g. {pfs: {hr: 0.8}}).")


class TreeSpec(TreeNode):
    subtrees: dict[StrictStr, TreeNode] = Field(default_factory=dict, description="Named reusable subtrees "
                                                "(like TreeAge clones), used by `subtree: NAME` in any node.")


TreeNode.model_rebuild()
TreeSpec.model_rebuild()
