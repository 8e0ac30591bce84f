"""The benchmark's tables, from the records of its finished runs (`qc_models.benchmark`).

  results.csv             one row per run and target: test MAE and RMSE (physical units, over
                          the `n_labelled` of the `n_test` test pairs that have the label), the
                          constant predictor's MAE on the same split and the skill ratio
                          MAE / constant MAE, parameters, epochs, wall time, commit, machine
  channel_importance.csv  one row per run, channel and target (control 5)
  benchmark.md            mean +- std over seeds per experiment, model and target, best in bold,
                          the constant predictor, the paper's published numbers, the labelled
                          test pairs of partly labelled targets, the controls' verdicts, the
                          pairs without each target's label, the labels left out and why
  skill_<training>.png    the skill ratios of every experiment, model and target as a heatmap
                          (one figure per training mode: multi, single)

No JAX import: the tables can be rewritten from the records alone.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qc_jax.chem.labels import unit
from qc_models.benchmark_targets import (
    LEFT_OUT,
    PAPER_BEST,
    PAPER_CONSTANT,
    PAPER_LEFT_OUT,
    inputs_of,
    paper_skill,
)

#: Columns of results.csv.
COLUMNS = (
    "experiment", "dataset", "splits", "training", "model", "seed", "target", "unit", "mae",
    "rmse", "constant_mae", "skill", "n_train", "n_test", "n_labelled", "params", "best_epoch",
    "epochs_run", "wall_s", "commit", "machine",
)  # fmt: skip


def load_records(runs: Path, name: str = "benchmark.json") -> list[dict]:
    """The records `name` of every finished run under `runs`, in path order."""
    return [json.loads(path.read_text()) for path in sorted(Path(runs).glob(f"**/{name}"))]


def split_family(experiment: str) -> str:
    """Experiments whose test sets are the same pairs share a constant predictor."""
    return "composition" if experiment == "composition" else "random"


def result_rows(records: Iterable[dict]) -> list[dict]:
    """One row per run and target (`COLUMNS`); skill = MAE / the constant predictor's MAE of the
    same split, seed, training mode and target (empty until that constant run has finished)."""
    records = list(records)
    constant = {
        (split_family(r["experiment"]), r["seed"], r["training"], t): mae
        for r in records
        if r["model"] == "constant"
        for t, mae in r["mae"].items()
    }
    rows = []
    for r in records:
        for target, mae in r["mae"].items():
            reference = constant.get((split_family(r["experiment"]), r["seed"], r["training"],
                                      target))
            rows.append({
                **{k: r[k] for k in COLUMNS if k in r},
                "splits": " ".join(r["splits"]),
                "target": target,
                "unit": unit(target),
                "mae": mae,
                "rmse": r["rmse"][target],
                # records written before missing labels were masked had every label
                "n_labelled": r.get("n_test_labelled", {}).get(target, r["n_test"]),
                "constant_mae": reference,
                "skill": mae / reference if reference else None,
            })
    return rows


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return text.getvalue()


def read_results(path: Path) -> list[dict]:
    """The rows of a `results.csv` (:func:`to_csv` of :func:`result_rows`), typed again: counts
    as int, MAEs, skills and seconds as float, an empty cell as None."""
    integers = {"seed", "n_train", "n_test", "n_labelled", "params", "best_epoch", "epochs_run"}
    floats = {"mae", "rmse", "constant_mae", "skill", "wall_s"}

    def typed(column: str, text: str):
        if text == "" or column not in integers | floats:
            return text or None
        return int(text) if column in integers else float(text)

    with open(path, newline="") as file:
        return [{k: typed(k, v) for k, v in row.items()} for row in csv.DictReader(file)]


def importance_rows(runs: Path) -> list[dict]:
    """One row per run, channel and target: the relative test-MAE increase (control 5)."""
    rows = []
    for path in sorted(Path(runs).glob("**/importance.json")):
        record = json.loads((path.parent / "benchmark.json").read_text())
        importance = json.loads(path.read_text())
        for c, channel in enumerate(importance["channels"]):
            for t, target in enumerate(importance["targets"]):
                rows.append({
                    "model": record["model"], "seed": record["seed"],
                    "training": record["training"], "channel": c, "channel_name": channel,
                    "target": target, "importance": importance["importance"][c][t],
                })  # fmt: skip
    return rows


# --------------------------------------------------------------------------- aggregation


def decimals(x: float) -> int:
    """Decimals that give `x` three significant digits (none for |x| >= 100)."""
    return max(0, 2 - math.floor(math.log10(abs(x)))) if x and math.isfinite(x) else 0


def number(x: float, like: float | None = None) -> str:
    """Three significant digits, no exponent (0.0123, 1.23, 123, 12345), or as many decimals
    as `like` has that way (a standard deviation written to its mean's last digit)."""
    if not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.{decimals(x if like is None else like)}f}"


def skill_text(x: float) -> str:
    """A skill ratio to two decimals, or to two significant digits below 0.01 (an energy learned
    from its atom reference: 2.1e-05, not 0.00)."""
    return f"{x:.2f}" if x >= 0.01 else f"{x:.1e}"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1; 0 for a single value)."""
    array = np.asarray(values, float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


def aggregate(rows: Iterable[dict]) -> dict[tuple, dict]:
    """(experiment, training, model, target) -> mean and std of MAE and skill over seeds, and
    the labelled test pairs of each seed (`labelled`: (seed, n_labelled, n_test), seed order)."""
    groups = defaultdict(list)
    for row in rows:
        groups[row["experiment"], row["training"], row["model"], row["target"]].append(row)
    out = {}
    for key, members in groups.items():
        skills = [m["skill"] for m in members if m["skill"] is not None]
        out[key] = {
            "mae": mean_std([m["mae"] for m in members]),
            "skill": mean_std(skills)[0] if len(skills) == len(members) else None,
            "seeds": len(members),
            "params": members[0]["params"],
            "epochs": float(np.mean([m["epochs_run"] for m in members])),
            "wall_s": float(np.mean([m["wall_s"] for m in members])),
            "labelled": sorted((m["seed"], m["n_labelled"], m["n_test"]) for m in members),
        }
    return out


def best_models(summary: dict[tuple, dict], experiment: str, training: str) -> dict[str, str]:
    """Target -> the model of lowest mean test MAE (not the constant, not a model that reads the
    target as an input), where there are at least two such models."""
    candidates = defaultdict(list)
    for (exp, mode, model, target), cell in summary.items():
        if (exp, mode) == (experiment, training) and model != "constant":
            if target not in inputs_of(experiment, model):
                candidates[target].append((cell["mae"][0], model))
    return {t: min(c)[1] for t, c in candidates.items() if len(c) > 1}


# --------------------------------------------------------------------------- Markdown


def cell_text(cell: dict, bold: bool, is_input: bool) -> str:
    mean, std = cell["mae"]
    text = number(mean) + (f" ± {number(std, like=mean)}" if cell["seeds"] > 1 else "")
    text = f"**{text}**" if bold else text
    if cell["skill"] is not None:
        text += f" ({skill_text(cell['skill'])})"
    return text + (" †" if is_input else "")


def model_order(models: Iterable[str]) -> list[str]:
    """The constant first, then the zoo, then the baselines (alphabetical within each)."""
    from qc_models.benchmark import BASELINES

    rank = {"constant": 0, **{b: 2 for b in BASELINES}}
    return sorted(set(models), key=lambda m: (rank.get(m, 1), m))


def experiment_table(summary: dict[tuple, dict], experiment: str, training: str) -> str:
    """Markdown: models x targets, `MAE ± std (skill)`, best in bold; the paper's row in main."""
    keys = [k for k in summary if k[:2] == (experiment, training)]
    targets = list(dict.fromkeys(k[3] for k in keys))
    models = model_order(k[2] for k in keys)
    best = best_models(summary, experiment, training)
    header = ["model", "params", "seeds", "epochs", "wall s",
              *(f"{t} [{unit(t)}]" for t in targets)]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model in models:
        cells = [summary.get((experiment, training, model, t)) for t in targets]
        first = next(c for c in cells if c is not None)
        row = [f"`{model}`", f"{first['params']:,}", str(first["seeds"]), f"{first['epochs']:.0f}",
               f"{first['wall_s']:.0f}"]  # fmt: skip
        for target, cell in zip(targets, cells, strict=True):
            row.append(
                "" if cell is None
                else cell_text(cell, best.get(target) == model,
                               target in inputs_of(experiment, model))
            )  # fmt: skip
        lines.append("| " + " | ".join(row) + " |")
    labelled = labelled_row(summary, keys, targets)
    if labelled:
        lines.append("| " + " | ".join(labelled) + " |")
    if experiment == "main":
        row = ["paper (DFTB+), best", "", "3", "", ""]
        for target in targets:
            published, skill = PAPER_BEST.get(target), paper_skill(target)
            row.append(
                "" if published is None
                else f"{published.mae:g}" + (f" ({skill:.2f})" if skill else "")
                + f" {published.model}"
            )  # fmt: skip
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def summary_table(summary: dict[tuple, dict], training: str) -> str:
    """Markdown: one row per target of the main experiment: the constant's MAE, the best model
    (`best_models`) with its MAE and skill ratio, and the paper's best; "" where none."""
    best = best_models(summary, "main", training)
    targets = list(dict.fromkeys(k[3] for k in summary if k[:2] == ("main", training)))
    lines = ["| target | unit | constant | best model | its MAE (skill) | paper (DFTB+), best |",
             "|---|---|---:|---|---:|---|"]  # fmt: skip
    for target in targets:
        constant = summary.get(("main", training, "constant", target))
        model = best.get(target)
        cell = summary[("main", training, model, target)] if model else None
        published, skill = PAPER_BEST.get(target), paper_skill(target)
        paper = "" if published is None else (
            f"{published.mae:g}" + (f" ({skill:.2f})" if skill else "") + f" {published.model}"
        )
        lines.append(
            f"| `{target}` | {unit(target)} | {number(constant['mae'][0]) if constant else ''} | "
            + (f"`{model}` | {cell_text(cell, False, False)}" if model else " | ")
            + f" | {paper} |"
        )
    return "\n".join(lines)


def labelled_row(
    summary: dict[tuple, dict], keys: Sequence[tuple], targets: Sequence[str]
) -> list[str]:
    """The table row of the labelled test pairs of each seed ("283/285, 284/285") for the
    targets that some test pairs lack (empty cells for the others); [] when none does."""
    cells = []
    for target in targets:
        counts = next(summary[k]["labelled"] for k in keys if k[3] == target)
        partial = any(n < total for _, n, total in counts)
        cells.append(", ".join(f"{n}/{total}" for _, n, total in counts) if partial else "")
    if not any(cells):
        return []
    return ["labelled test pairs (per seed)", "", "", "", "", *cells]


def paired_maes(rows: Iterable[dict], control: str, training: str, model: str
                ) -> dict[str, tuple[float, float, int]]:
    """Target -> (main MAE, control MAE, n): test MAEs of `model` in the main experiment and in
    `control`, each the mean over the n seeds that both have run (the same test pairs)."""
    maes = defaultdict(dict)
    for row in rows:
        if (row["training"], row["model"]) == (training, model):
            maes[row["target"], row["seed"]][row["experiment"]] = row["mae"]
    pairs = defaultdict(list)
    for (target, _), by_experiment in maes.items():
        if "main" in by_experiment and control in by_experiment:
            pairs[target].append((by_experiment["main"], by_experiment[control]))
    return {t: (*np.mean(p, axis=0), len(p)) for t, p in pairs.items()}


def canvas_control(rows: Iterable[dict], control: str, training: str, model: str
                   ) -> tuple[int, int, float, int, list[str]] | None:
    """`model` on the physical canvases against `control` ("stamps" or "permuted"): (targets
    where the physical MAE is lower, targets compared, control MAE / physical MAE as the
    geometric mean over those targets, seeds, targets left out because the control's canvases
    hold them), each MAE the mean over the seeds both have run; None without such a pair."""
    inputs = inputs_of(control, model)
    paired = paired_maes(rows, control, training, model)
    pairs = [(p, c) for t, (p, c, _) in paired.items() if t not in inputs]
    if not pairs:
        return None
    ratio = float(np.exp(np.mean([np.log(c / p) for p, c in pairs])))
    seeds = max(n for _, _, n in paired.values())
    left_out = [t for t in paired if t in inputs]
    return sum(p < c for p, c in pairs), len(pairs), ratio, seeds, left_out


def verdicts(summary: dict[tuple, dict], rows: Sequence[dict]) -> list[str]:
    """The issue's goals, checked against the numbers at hand (one bullet each)."""
    out = []
    for training in sorted({k[1] for k in summary}):
        for control in ("stamps", "permuted"):
            models = sorted({k[2] for k in summary if k[:2] == (control, training)})
            for model in models:
                compared = canvas_control(rows, control, training, model)
                if compared is None:
                    continue
                better, n, ratio, seeds, inputs = compared
                what = "stamp" if control == "stamps" else "pixel-permuted"
                skipped = [f"`{t}`" for t in inputs]
                out.append(
                    f"{model} ({training}-target): physical canvases beat {what} canvases on "
                    f"{better} of {n} targets; {what} MAE / physical MAE = "
                    f"{ratio:.2f} (geometric mean over targets; each MAE the mean over the "
                    f"{seeds} seed{'s' if seeds > 1 else ''} both have run)"
                    + (f"; left out: {', '.join(skipped)}, drawn into the {what}s"
                       if skipped else "")
                )
        gap = [
            (cell["skill"], model)
            for (exp, mode, model, target), cell in summary.items()
            if (exp, mode, target) == ("main", training, "e_g_ev")
            and model != "constant" and cell["skill"] is not None
        ]
        if gap:
            skill, model = min(gap)
            out.append(
                f"best gap skill ratio ({training}-target, main): {skill:.2f} ({model}); the "
                f"paper's: {paper_skill('e_g_ev'):.2f} ({PAPER_BEST['e_g_ev'].mae} eV against "
                f"its {PAPER_CONSTANT['e_g_ev']} eV constant predictor)"
            )
    tested = sum(1 for row in rows if row["n_test"])
    out.append(
        f"every number is a test-split number ({tested} run-target rows); each run checked that "
        "no test pair is a training pair; channel importance is measured on the test split"
    )
    return out


def channel_means(rows: Iterable[dict]) -> dict[tuple[str, str], float]:
    """(model, channel name) -> the relative test-MAE increase of :func:`importance_rows`, mean
    over targets and seeds."""
    groups = defaultdict(list)
    for r in rows:
        groups[r["model"], r["channel_name"]].append(r["importance"])
    return {key: float(np.mean(values)) for key, values in groups.items()}


def importance_table(rows: Sequence[dict]) -> str:
    """Markdown: channel x model, the test-MAE increase in % (mean over targets and seeds)."""
    models = sorted({r["model"] for r in rows})
    channels = sorted({(r["channel"], r["channel_name"]) for r in rows})
    means = channel_means(rows)
    lines = ["| ch | channel | " + " | ".join(f"`{m}`" for m in models) + " |",
             "|" + "---|" * (2 + len(models))]  # fmt: skip
    for c, name in channels:
        values = [100 * means[m, name] for m in models]
        lines.append(f"| {c} | `{name}` | " + " | ".join(f"{v:+.0f} %" for v in values) + " |")
    return "\n".join(lines)


def skill_grid(
    summary: dict[tuple, dict], training: str
) -> tuple[list[tuple[str, str]], list[str], np.ndarray, np.ndarray]:
    """Every (experiment, model) but the constant (the main experiment first, then the controls;
    models as in the tables) x every target: (rows, targets, mean skill ratio [R, T], NaN where
    not run or no constant has finished, the model reads the target [R, T] bool)."""
    from qc_models.benchmark import EXPERIMENTS

    keys = [k for k in summary if k[1] == training]
    targets = list(dict.fromkeys(k[3] for k in keys))
    rows = [(experiment, model) for experiment in EXPERIMENTS
            for model in model_order(k[2] for k in keys if k[0] == experiment)
            if model != "constant"]  # fmt: skip
    skill = np.full((len(rows), len(targets)), np.nan)
    is_input = np.zeros(skill.shape, bool)
    for i, (experiment, model) in enumerate(rows):
        for j, target in enumerate(targets):
            cell = summary.get((experiment, training, model, target))
            if cell is not None and cell["skill"] is not None:
                skill[i, j] = cell["skill"]
            is_input[i, j] = target in inputs_of(experiment, model)
    return rows, targets, skill, is_input


def write_skill_figure(summary: dict[tuple, dict], training: str, path: Path) -> None:
    """`skill_grid` as a heatmap (`plots.log_heatmap`), cells as in the tables' brackets; none
    while the grid has no model but the constant predictor (a benchmark's first run)."""
    from qc_models.plots import log_heatmap

    rows, targets, skill, is_input = skill_grid(summary, training)
    if not rows:
        return
    text = np.vectorize(lambda x, i: skill_text(x) + (" †" if i else "") if np.isfinite(x) else "",
                        otypes=[object])(skill, is_input)  # fmt: skip
    separators = [i for i in range(1, len(rows)) if rows[i][0] != rows[i - 1][0]]
    log_heatmap(skill, text, [m if e == "main" else f"{m} ({e})" for e, m in rows], targets,
                path, separators, label="skill ratio: test MAE / constant predictor's",
                title=f"{training}-target training, mean over seeds; † the model reads the "
                      "target")  # fmt: skip


def left_out_table() -> str:
    """Markdown: every label that is not a target, why, and the paper's MAE where published."""
    lines = ["| label | why it is not a target | paper's MAE |", "|---|---|---|"]
    for label, reason in LEFT_OUT.items():
        paper = ""
        if label in PAPER_LEFT_OUT:
            published, why = PAPER_LEFT_OUT[label]
            paper = f"{published.mae:g} {unit(label)} ({published.model}: {why})"
        lines.append(f"| `{label}` | {reason} | {paper} |")
    return "\n".join(lines)


def missing_labels_text(missing: dict[str, int]) -> list[str]:
    """Markdown lines: how missing labels are handled, and a table of the targets some pairs
    lack. `missing`: target -> pairs of the dataset without its label
    (`benchmark.missing_labels`)."""
    partial = {t: n for t, n in missing.items() if n}
    text = [
        "A pair without a target's label (NaN, e.g. an ion's SCF did not converge) is left out "
        "of that target's scaling, training loss and test metrics, and counts for every other "
        "target; where test pairs lack a label, the row `labelled test pairs (per seed)` of a "
        "table says how many pairs its MAE is over."
    ]
    if not partial:
        return text
    return [*text, "", "| target | pairs of the dataset without the label |", "|---|---|",
            *(f"| `{t}` | {n} |" for t, n in partial.items())]  # fmt: skip


def markdown(rows: Sequence[dict], importance: Sequence[dict], invocations: Sequence[dict]) -> str:
    from qc_models.benchmark import EXPERIMENTS

    summary = aggregate(rows)
    datasets = sorted({r["dataset"] for r in rows})
    parts = [
        "# Benchmark results",
        "",
        f"Datasets: {', '.join(f'`{d}`' for d in datasets) or 'none yet'}. Cells: test MAE, "
        "mean ± standard deviation over the seeds (n - 1), in the target's unit; in brackets the "
        "skill ratio MAE / constant-predictor MAE on the same split (mean over seeds); **bold**: "
        "the lowest MAE of the table (the constant and † excluded); †: the target is an input of "
        "the model (the scalar baseline's scalars and the stamps hold the dipole and the charges). "
        "`epochs`: epochs run (early stopping), `wall s`: seconds per run.",
        "",
        "Commands run into this folder (commit, machine):",
        "",
        *(f"- `{i['command']}` at {i['commit']}, {i['started_utc']} UTC, {i['machine']}"
          for i in invocations),
    ]  # fmt: skip
    present = list(dict.fromkeys((k[0], k[1]) for k in summary))
    for training in ("multi", "single"):
        if ("main", training) in present:
            parts += ["", f"## Summary: main, {training}-target training", "",
                      "The best model of each target (lowest mean test MAE; the tables below "
                      "have every model and seed).", "",
                      summary_table(summary, training)]  # fmt: skip
    for experiment in EXPERIMENTS:
        for training in ("multi", "single"):
            if (experiment, training) not in present:
                continue
            parts += ["", f"## {experiment}, {training}-target training", "",
                      EXPERIMENTS[experiment] + ".", "",
                      experiment_table(summary, experiment, training)]  # fmt: skip
    parts += ["", "## What the controls say", "", *(f"- {v}" for v in verdicts(summary, rows))]
    if importance:
        parts += ["", "## Channel importance (test split)", "",
                  "Test-MAE increase when one channel of every test canvas is replaced by its "
                  "training-split mean image (mean over targets and seeds; "
                  "`channel_importance.csv` has every target).", "",
                  importance_table(importance)]  # fmt: skip
    missing = {t: n for i in invocations for t, n in i.get("missing_labels", {}).items()}
    parts += ["", "## Missing labels", "", *missing_labels_text(missing)]
    parts += ["", "## Labels left out", "", left_out_table(), ""]
    return "\n".join(parts)


def write_report(runs: Path, out: Path) -> None:
    """Rewrites results.csv, channel_importance.csv, benchmark.md and the skill figures in `out`
    from `runs`."""
    out.mkdir(parents=True, exist_ok=True)
    rows = result_rows(load_records(runs))
    importance = importance_rows(runs)
    path = out / "invocations.json"
    invocations = json.loads(path.read_text()) if path.exists() else []
    (out / "results.csv").write_text(to_csv(rows, COLUMNS))
    (out / "channel_importance.csv").write_text(
        to_csv(importance, ("model", "seed", "training", "channel", "channel_name", "target",
                            "importance"))
    )  # fmt: skip
    (out / "benchmark.md").write_text(markdown(rows, importance, invocations))
    summary = aggregate(rows)
    for training in sorted({k[1] for k in summary if k[0] == "main"}):
        write_skill_figure(summary, training, out / f"skill_{training}.png")
