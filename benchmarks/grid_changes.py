"""How a benchmark grid changed between two runs of it (for example the same grid on two
dataset versions): its main table's skill ratios, best models and constant predictor, and its
controls.

    python benchmarks/grid_changes.py benchmarks/results/paper75 benchmarks/results/paper75_2.16.0
    python benchmarks/grid_changes.py OLD NEW --seeds 42

Reads `results.csv` of both folders (``qc-canvas benchmark`` writes it), keeps the main
experiment's multi-target runs of the seeds both have (or ``--seeds``), averages each model's
skill ratio (test MAE / the constant predictor's, same split) per target over those seeds, and
compares the models both grids have, but the constant predictor (skill 1) and `atom_reference`
(the constant's skill on every target but the energies). Prints the largest change, the median
absolute change and how many went down (better); then per target the best model (lowest mean
test MAE, as the grid's *Summary*) and the constant predictor's MAE, before and after. Then the
controls of those seeds, before and after: per model, the targets on which the physical
canvases beat the stamp and the pixel-permuted ones and the geometric-mean MAE ratio (the
grid's *What the controls say*), the skill ratios on the element-held-out split, and the
channel ablation's test-MAE increase (from the runs' `importance.json` under `runs/`).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from qc_models.benchmark_report import (
    aggregate,
    best_models,
    canvas_control,
    channel_means,
    importance_rows,
    number,
    read_results,
    skill_text,
)

LEFT_OUT = ("constant", "atom_reference")


def multi_rows(folder: Path) -> list[dict]:
    """The rows of the folder's `results.csv` of multi-target training."""
    return [r for r in read_results(folder / "results.csv") if r["training"] == "multi"]


def main_table(rows: list[dict], seeds: set[int]) -> dict[tuple, dict]:
    """(model, target) -> the grid's summary cell (mean MAE and skill over `seeds`)."""
    cells = aggregate(r for r in rows if r["seed"] in seeds)
    return {(model, target): cell for (_, _, model, target), cell in cells.items()}


def skill_changes(old: dict, new: dict) -> dict[tuple, tuple[float, float]]:
    """(model, target) -> (old skill, new skill) for the models compared (both grids, skill
    known, not in `LEFT_OUT`)."""
    return {key: (old[key]["skill"], new[key]["skill"]) for key in sorted(old.keys() & new.keys())
            if key[0] not in LEFT_OUT and None not in (old[key]["skill"], new[key]["skill"])}


def best_text(table: dict, target: str) -> str:
    best = best_models({("main", "multi", *key): cell for key, cell in table.items()},
                       "main", "multi").get(target)
    return f"{best} {skill_text(table[best, target]['skill'])}" if best else "-"


def control_texts(folder: Path, rows: list[dict], seeds: set[int]) -> dict[str, str]:
    """What the grid's controls of `seeds` say, one text per control, model and target or
    channel (see the module's doc)."""
    rows = [r for r in rows if r["seed"] in seeds]
    out = {}
    for control in ("stamps", "permuted"):
        for model in sorted({r["model"] for r in rows if r["experiment"] == control}):
            compared = canvas_control(rows, control, "multi", model)
            if compared:
                better, n, ratio, _, _ = compared
                out[f"{control} {model}: physical better on / MAE ratio"] = (
                    f"{better} of {n} / {ratio:.2f}")
    held_out = aggregate(r for r in rows if r["experiment"] == "composition")
    for (_, _, model, target), cell in sorted(held_out.items()):
        if model not in LEFT_OUT and cell["skill"] is not None:
            out[f"composition {model} {target} skill"] = skill_text(cell["skill"])
    importance = [r for r in importance_rows(folder / "runs")
                  if r["seed"] in seeds and r["training"] == "multi"]
    for (model, channel), mean in sorted(channel_means(importance).items()):
        out[f"channel ablation {model} {channel}"] = f"{100 * mean:+.0f} %"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="folder of the earlier grid's results.csv")
    parser.add_argument("new", type=Path, help="folder of the later grid's results.csv")
    parser.add_argument("--seeds", default=None, help="comma-separated (default: those of both)")
    args = parser.parse_args()

    old_rows, new_rows = multi_rows(args.old), multi_rows(args.new)
    old_main, new_main = ([r for r in rows if r["experiment"] == "main"]
                          for rows in (old_rows, new_rows))
    seeds = (set(map(int, args.seeds.split(","))) if args.seeds
             else {r["seed"] for r in old_main} & {r["seed"] for r in new_main})
    old, new = main_table(old_main, seeds), main_table(new_main, seeds)
    changes = skill_changes(old, new)
    if not changes:
        raise SystemExit(f"no skill ratio of seeds {sorted(seeds)} in both grids")
    models = sorted({model for model, _ in changes})
    targets = sorted({target for _, target in changes})
    print(f"seeds {', '.join(map(str, sorted(seeds)))}: {len(changes)} skill ratios "
          f"({len(models)} models, {len(targets)} targets; mean over the seeds)")
    (model, target), (before, after) = max(changes.items(), key=lambda c: abs(c[1][1] - c[1][0]))
    print(f"largest change: {model} {target} {before:.3f} -> {after:.3f} ({after - before:+.3f})")
    deltas = [b - a for a, b in changes.values()]
    print(f"median |change| {statistics.median(map(abs, deltas)):.3f}; "
          f"{sum(d < 0 for d in deltas)} down (better), {sum(d > 0 for d in deltas)} up")
    print(f"\n{'target':<18} {'best before (skill)':<26} {'best after (skill)':<26} constant MAE")
    for target in targets:
        constant = [t.get(("constant", target), {}).get("mae", (float("nan"),))[0]
                    for t in (old, new)]
        print(f"{target:<18} {best_text(old, target):<26} {best_text(new, target):<26} "
              f"{number(constant[0])} -> {number(constant[1])}")
    controls = [control_texts(folder, rows, seeds)
                for folder, rows in ((args.old, old_rows), (args.new, new_rows))]
    if any(controls):
        print("\ncontrols (before -> after; '-': not run)")
        for key in dict.fromkeys([*controls[0], *controls[1]]):  # the grid's order
            print(f"{key:<56} {controls[0].get(key, '-')} -> {controls[1].get(key, '-')}")


if __name__ == "__main__":
    main()
