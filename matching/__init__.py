"""Pure optimisation for Gufei Exchange: match waste lots to recycler demand, exactly."""

from .errors import ProblemError, SolverError
from .io import problem_from_dict
from .model import Allocation, Arc, Cost, CostTable, Demand, Lot, Problem, Result, Unmatched
from .solve import FlowSolution, merge_results, solve, solve_category, solve_category_flow, split_by_category

__all__ = [
    "Lot",
    "Demand",
    "Cost",
    "Arc",
    "CostTable",
    "Problem",
    "Result",
    "Allocation",
    "Unmatched",
    "solve",
    "solve_category",
    "solve_category_flow",
    "FlowSolution",
    "split_by_category",
    "merge_results",
    "ProblemError",
    "SolverError",
    "problem_from_dict",
]
