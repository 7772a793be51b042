"""Tables of stored experiment results: final performance per benchmark × method, and pairwise comparisons.

``final_table`` gives, per benchmark and method, the statistic (IQM by default) of the best value at the budget
over seeds with its bootstrap interval (``plotting.stats.stratified_bootstrap`` with one task), plus an aggregate
row: the same statistic of final normalized regret pooled over the benchmarks every method has
(``plotting.stats.interval_table``). The best method of a row is marked (respecting the row's mode); every
method whose point estimate ties the best — equal, or equal as printed — is marked too.

``pairwise_table`` is ``plotting.paired.pairwise_matrix`` on final normalized regret.

``write_table`` writes CSV (long, all numbers), Markdown and LaTeX (booktabs; wide: one row per benchmark, one
column per method, ``point [low, high] (n=K)``, best in bold). Every cell says how many runs it rests on:
``n=5`` when every expected seed is there, ``n=4 of 5`` when one is missing (the expected seeds of a benchmark
are those any method has there, and ``0..num_seeds-1`` if the spec names ``num_seeds``); the CSV has the
columns ``n_runs`` and ``n_expected``.

With ``statistic = "median"`` a benchmark's cell is the median over its seeds, and the aggregate row rliable's
median: the median over benchmarks of each benchmark's mean normalized regret (``plotting.stats``).

Curves of another indicator than the best-so-far (``plotting.indicators``) say so in the caption (``attrs``
``value`` and ``note``): for the hypervolume, the reference point of every benchmark (also in the CSV's notes).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from plotting.curves import Curves
from plotting.errors import output_errors
from plotting.indicators import caption_parts, reference_text
from plotting.stats import SINGLE_RUN_NOTE, derive_seed, interval_table, stratified_bootstrap

logger = logging.getLogger(__name__)

TABLE_FORMATS = ("csv", "md", "tex")
AGGREGATE = "aggregate"
FINAL_COLUMNS = [
    "benchmark",
    "method",
    "metric",
    "mode",
    "statistic",
    "point",
    "low",
    "high",
    "n_runs",
    "n_expected",
    "best",
    "note",
]


def final_table(
    curves: Curves,
    *,
    statistic: str = "iqm",
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    digits: int = 4,
    aggregate: bool = True,
) -> pd.DataFrame:
    """Long table (``FINAL_COLUMNS``) of the final best value per benchmark and method, plus an aggregate row.

    ``best`` marks the best point estimate of each benchmark (and ties: equal to ``digits`` significant digits).
    The aggregate rows (benchmark ``"aggregate"``, metric ``"normalized regret"``, mode min) pool the benchmarks
    on which every method has runs.
    """
    methods = list(curves.methods if methods is None else methods)
    final = curves.final()
    # over the seeds of one benchmark (one task) the median is the plain median of the runs
    per_benchmark = "pooled_median" if statistic == "median" else statistic
    rows = []
    for benchmark in curves.benchmarks:
        on_benchmark = final[final["benchmark"] == benchmark]
        for method in methods:
            values = on_benchmark.loc[on_benchmark["method"] == method, "value"].to_numpy(dtype=float)
            if values.size == 0:
                continue
            interval = stratified_bootstrap(
                [values], per_benchmark, reps=reps, confidence=confidence, seed=derive_seed(seed, benchmark, method)
            )
            rows.append(
                {
                    "benchmark": benchmark,
                    "method": method,
                    "metric": curves.metrics[benchmark],
                    "mode": curves.modes[benchmark],
                    "statistic": statistic,
                    "point": interval.point,
                    "low": interval.low,
                    "high": interval.high,
                    "n_runs": interval.n_runs,
                    "n_expected": len(curves.seeds[benchmark]),
                    "note": _note(interval.note, curves, benchmark),
                }
            )
    if aggregate:
        benchmarks = curves.common_benchmarks(methods)
        if benchmarks:
            table = interval_table(
                curves.scores(methods, benchmarks), statistic, reps=reps, confidence=confidence, seed=seed
            )
            expected = sum(len(curves.seeds[benchmark]) for benchmark in benchmarks)
            for row in table.itertuples():
                note = f"over {len(benchmarks)} benchmark(s)" + (f"; {row.note}" if row.note else "")
                rows.append(
                    {
                        "benchmark": AGGREGATE,
                        "method": row.method,
                        "metric": "normalized regret",
                        "mode": "min",
                        "statistic": statistic,
                        "point": row.point,
                        "low": row.low,
                        "high": row.high,
                        "n_runs": row.n_runs,
                        "n_expected": expected,
                        "note": note,
                    }
                )
    frame = pd.DataFrame(rows, columns=[c for c in FINAL_COLUMNS if c != "best"])
    frame.insert(FINAL_COLUMNS.index("best"), "best", _best_flags(frame, digits))
    for row in frame[frame["note"].str.contains(SINGLE_RUN_NOTE, regex=False)].itertuples():
        logger.warning("%s on %s: %s", row.method, row.benchmark, SINGLE_RUN_NOTE)
    frame.attrs.update(caption_parts(curves.indicator))
    return frame


def _note(note: str, curves: Curves, benchmark: str) -> str:
    """A row's note, with the benchmark's hypervolume reference point when the curves are hypervolumes."""
    reference = curves.indicator.references.get(benchmark)
    if reference is None:
        return note
    return "; ".join(part for part in (note, f"reference point {reference_text(reference)}") if part)


def _best_flags(frame: pd.DataFrame, digits: int) -> np.ndarray:
    """True for the best point estimate of each benchmark and every one that ties it (also as printed)."""
    flags = np.zeros(len(frame), dtype=bool)
    for _, rows in frame.groupby("benchmark", sort=False):
        points = rows["point"].to_numpy(dtype=float)
        if not np.isfinite(points).any():
            continue
        mode = rows["mode"].iloc[0]
        best = np.nanmin(points) if mode == "min" else np.nanmax(points)
        printed = _number(best, digits)
        tie = np.isclose(points, best, rtol=1e-12, atol=0.0) | np.array([_number(p, digits) == printed for p in points])
        flags[rows.index.to_numpy()] = tie & np.isfinite(points)
    return flags


def pairwise_table(
    curves: Curves,
    *,
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``pairwise_matrix`` on final normalized regret over the benchmarks every method has (all ordered pairs)."""
    from plotting.paired import pairwise_matrix

    methods = list(curves.methods if methods is None else methods)
    benchmarks = curves.common_benchmarks(methods)
    table = pairwise_matrix(curves.scores(methods, benchmarks), "min", reps=reps, confidence=confidence, seed=seed)
    table.attrs["benchmarks"] = benchmarks
    return table


# Formatting --------------------------------------------------------------------------------------
def _number(value: float, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}g}"


def _cell(row: pd.Series, digits: int) -> str:
    """``point [low, high] (n=K)``, ``n=K of E`` when seeds are missing (no interval with a single run)."""
    text = _number(row["point"], digits)
    if math.isfinite(row["low"]) and math.isfinite(row["high"]):
        text += f" [{_number(row['low'], digits)}, {_number(row['high'], digits)}]"
    n_runs, expected = int(row.get("n_runs", 0)), row.get("n_expected")
    if expected is not None and int(expected) != n_runs:
        return text + f" (n={n_runs} of {int(expected)})"
    return text + f" (n={n_runs})"


def _wide(table: pd.DataFrame, digits: int) -> tuple[list[str], list[tuple[str, list[tuple[str, bool]]]]]:
    """Methods (columns) and rows (benchmark label, [(cell text, bold)]) of a final table."""
    methods = list(dict.fromkeys(table["method"]))
    rows = []
    for benchmark, group in table.groupby("benchmark", sort=False):
        by_method = {row["method"]: row for _, row in group.iterrows()}
        if benchmark == AGGREGATE:
            label = f"aggregate ({group['metric'].iloc[0]})"
        else:
            label = f"{benchmark} ({group['metric'].iloc[0]}, {group['mode'].iloc[0]})"
        cells = []
        for method in methods:
            row = by_method.get(method)
            cells.append(("–", False) if row is None else (_cell(row, digits), bool(row["best"])))
        rows.append((label, cells))
    return methods, rows


def _caption(table: pd.DataFrame, confidence: float) -> str:
    statistic = table["statistic"].iloc[0] if len(table) else "iqm"
    name = {"iqm": "IQM", "mean": "mean", "median": "median"}.get(statistic, statistic)
    value = table.attrs.get("value", "the best value at the budget")
    text = (
        f"{name} of {value} over seeds [{confidence:.0%} bootstrap CI] (n=runs; 'n=4 of 5': a "
        "seed is missing); best per row in bold"
    )
    if statistic == "median":
        text += "; aggregate: median over benchmarks of the mean normalized regret per benchmark (rliable)"
    if (table["note"].astype(str).str.contains(SINGLE_RUN_NOTE, regex=False)).any():
        text += f"; n=1: {SINGLE_RUN_NOTE}"
    if table.attrs.get("note"):
        text += f"; {table.attrs['note']}"
    return text


def to_markdown(table: pd.DataFrame, *, digits: int = 4, confidence: float = 0.95) -> str:
    """A final table as a Markdown table (one row per benchmark, one column per method, best in bold)."""
    methods, rows = _wide(table, digits)
    lines = ["| benchmark | " + " | ".join(_md_escape(m) for m in methods) + " |"]
    lines.append("|---|" + "---:|" * len(methods))
    for label, cells in rows:
        rendered = [f"**{text}**" if bold else text for text, bold in cells]
        lines.append(f"| {_md_escape(label)} | " + " | ".join(rendered) + " |")
    lines += ["", _caption(table, confidence) + "."]
    return "\n".join(lines) + "\n"


def to_latex(table: pd.DataFrame, *, digits: int = 4, confidence: float = 0.95) -> str:
    """A final table as a LaTeX ``tabular`` with booktabs rules (needs ``\\usepackage{booktabs}``)."""
    methods, rows = _wide(table, digits)
    lines = [
        f"% {_caption(table, confidence)}",
        r"\begin{tabular}{l" + "r" * len(methods) + "}",
        r"\toprule",
        "benchmark & " + " & ".join(_tex_escape(m) for m in methods) + r" \\",
        r"\midrule",
    ]
    for label, cells in rows:
        if label.startswith(AGGREGATE):
            lines.append(r"\midrule")
        rendered = [rf"\textbf{{{_tex_escape(text)}}}" if bold else _tex_escape(text) for text, bold in cells]
        lines.append(_tex_escape(label) + " & " + " & ".join(rendered) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def pairwise_markdown(table: pd.DataFrame, *, digits: int = 3) -> str:
    """A pairwise table (``pairwise_table``) as Markdown: one row per ordered pair."""
    header, rows = _pairwise_rows(table, digits)
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pairwise_latex(table: pd.DataFrame, *, digits: int = 3) -> str:
    """A pairwise table as a LaTeX booktabs ``tabular``."""
    header, rows = _pairwise_rows(table, digits)
    lines = [
        r"\begin{tabular}{ll" + "r" * (len(header) - 2) + "}",
        r"\toprule",
        " & ".join(_tex_escape(h) for h in header) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(_tex_escape(c) for c in row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _pairwise_rows(table: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]]]:
    header = ["A", "B", "P(A better than B) [CI]", "wins/ties/losses", "paired P(A better)", "Wilcoxon p"]
    rows = []
    for row in table.itertuples():
        poi = _number(row.poi, digits)
        if math.isfinite(row.low) and math.isfinite(row.high):
            poi += f" [{_number(row.low, digits)}, {_number(row.high, digits)}]"
        rows.append(
            [
                str(row.method_a),
                str(row.method_b),
                poi,
                f"{row.wins}/{row.ties}/{row.losses}",
                _number(row.paired_poi, digits),
                _number(row.p_value, 3),
            ]
        )
    return header, rows


def _md_escape(text: str) -> str:
    return str(text).replace("|", r"\|")


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "–": "--",
}


def _tex_escape(text: str) -> str:
    return "".join(_TEX.get(char, char) for char in str(text))


def write_table(
    table: pd.DataFrame,
    stem: Path | str,
    formats: Sequence[str] = TABLE_FORMATS,
    *,
    kind: str = "final",
    digits: int = 4,
    confidence: float = 0.95,
) -> list[Path]:
    """Write a ``final`` or ``pairwise`` table to ``stem.csv``/``.md``/``.tex``; returns the paths."""
    if kind not in ("final", "pairwise"):
        raise ValueError(f"kind must be 'final' or 'pairwise', got {kind!r}")
    stem = Path(stem)
    unknown = [fmt for fmt in formats if fmt not in TABLE_FORMATS]
    if unknown:
        raise ValueError(f"unknown table format {unknown[0]!r}; known: {', '.join(TABLE_FORMATS)}")
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        if fmt == "csv":
            text = table.to_csv(index=False)
        elif fmt == "md":
            text = (
                to_markdown(table, digits=digits, confidence=confidence)
                if kind == "final"
                else pairwise_markdown(table)
            )
        else:
            text = to_latex(table, digits=digits, confidence=confidence) if kind == "final" else pairwise_latex(table)
        with output_errors(path):
            stem.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        paths.append(path)
    return paths
