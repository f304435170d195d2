"""Command line: ``python -m matching solve PROBLEM.json [--solver ...] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys

from . import dispatch_cli
from .errors import ProblemError, SolverError
from .io import problem_from_dict
from .seasonal import solve_seasonal
from .seasonal_io import is_seasonal, seasonal_problem_from_dict
from .solve import SOLVERS, solve


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m matching", description="Clear a waste-matching problem.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_solve = sub.add_parser("solve", help="solve a problem file")
    p_solve.add_argument("problem", help="path to PROBLEM.json")
    p_solve.add_argument("--solver", choices=SOLVERS, default="auto")
    p_solve.add_argument("--time-limit", type=float, default=10.0, help="CP-SAT time limit in seconds")
    p_solve.add_argument("--json", action="store_true", help="print the result as JSON")
    dispatch_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "dispatch":
        return dispatch_cli.run(args)

    try:
        with open(args.problem, encoding="utf-8") as fh:
            data = json.load(fh, parse_constant=_reject_constant)
        if is_seasonal(data):
            # Periods make it a time-expanded min-cost flow; --solver does not apply.
            result = solve_seasonal(seasonal_problem_from_dict(data))
        else:
            problem = problem_from_dict(data)
            result = solve(problem, solver=args.solver, time_limit_s=args.time_limit)
    except OSError as exc:
        print(f"error: cannot read {args.problem}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: {args.problem} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SolverError as exc:
        print(f"solver error: {exc}", file=sys.stderr)
        return 3

    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        print(result.text() if is_seasonal(data) else _table(result))
    return 0


def _reject_constant(name: str):
    # Python's json accepts NaN/Infinity; a problem file must not.
    raise ProblemError(f"non-finite number {name} in input")


def _table(result) -> str:
    lines = [
        f"status: {result.status}   solver: {result.solver}   total surplus: {result.objective_yuan:,.2f} yuan   "
        f"time: {result.seconds:.3f} s"
    ]
    if result.allocations:
        lines.append("")
        lines.append(
            f"{'lot':<12} {'demand':<12} {'tonnes':>12} {'surplus/t':>10} {'netback/t':>10} {'freight/t':>10} {'km':>8}"
        )
        for a in result.allocations:
            km = "" if a.km is None else f"{a.km:.0f}"
            lines.append(
                f"{str(a.lot_id):<12} {str(a.demand_id):<12} {a.tonnes:>12,.3f} {a.surplus_yuan_per_t:>10.2f} "
                f"{a.netback_yuan_per_t:>10.2f} {a.transport_yuan_per_t:>10.2f} {km:>8}"
            )
    if result.unmatched:
        lines.append("")
        lines.append("unmatched:")
        for u in result.unmatched:
            lines.append(f"  {u.lot_id}: {u.tonnes:,.3f} t [{u.reason}] {u.message}")
    if result.lot_prices or result.demand_prices:
        lines.append("")
        lines.append(
            "price guidance (yuan/t): "
            + ", ".join(
                [f"lot {k} {v}" for k, v in result.lot_prices.items()]
                + [f"demand {k} {v}" for k, v in result.demand_prices.items()]
            )
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
