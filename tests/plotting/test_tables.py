"""Tables: the best method in bold (min and max mode, ties), CSV/Markdown/LaTeX content, pairwise table."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from plotting import tables as tab
from plotting.load import load
from tests.plotting.test_load import write_run

REPS = 1000


@pytest.fixture(scope="module")
def curves(tmp_path_factory: pytest.TempPathFactory):
    """Two benchmarks written by hand: "low" (min: B and C tie for best) and "high" (max: A best)."""
    root = tmp_path_factory.mktemp("tables") / "results"
    finals = {
        ("low", "A"): [3.0, 2.0, 4.0],
        ("low", "B"): [1.0, 1.0, 1.0],
        ("low", "C"): [1.0, 1.0, 1.0],
        ("high", "A"): [0.9, 0.8, 0.85],
        ("high", "B"): [0.5, 0.6, 0.4],
        ("high", "C"): [0.7, 0.1, 0.2],
    }
    for (benchmark, method), values in finals.items():
        mode = "min" if benchmark == "low" else "max"
        start = 10.0 if mode == "min" else 0.0
        for seed, value in enumerate(values):
            write_run(root, benchmark, method, seed, [1.0, 2.0], [start, value], mode=mode, end=2.0)
    return load(root, "hand", points=5, benchmarks=["low", "high"], methods=["A", "B", "C"])


def test_final_table_marks_the_best_per_mode_and_ties(curves):
    table = tab.final_table(curves, reps=REPS)
    assert list(table.columns) == tab.FINAL_COLUMNS
    best = {(row.benchmark, row.method) for row in table.itertuples() if row.best}
    assert {key for key in best if key[0] != tab.AGGREGATE} == {("low", "B"), ("low", "C"), ("high", "A")}
    point = table.set_index(["benchmark", "method"])["point"]
    assert point["low", "A"] == pytest.approx(3.0)  # IQM of 3 values: nothing trimmed (int(0.75) = 0)
    assert point["high", "A"] == pytest.approx(0.85)
    aggregate = table[table["benchmark"] == tab.AGGREGATE].set_index("method")
    assert set(aggregate["metric"]) == {"normalized regret"} and set(aggregate["mode"]) == {"min"}
    # normalized regret: low B/C = 0 (best), high A in [0, 0.1/0.8]
    assert aggregate.loc["B", "point"] >= 0.0 and aggregate["best"].sum() >= 1
    assert aggregate.loc[aggregate["best"]].index.tolist() == [aggregate["point"].idxmin()]


def test_markdown_latex_and_csv(curves, tmp_path):
    table = tab.final_table(curves, reps=REPS)
    paths = tab.write_table(table, tmp_path / "final", confidence=0.9)
    assert [p.name for p in paths] == ["final.csv", "final.md", "final.tex"]
    markdown = paths[1].read_text()
    lines = markdown.splitlines()
    assert lines[0] == "| benchmark | A | B | C |"
    low = next(line for line in lines if line.startswith("| low"))
    cells = [cell.strip() for cell in low.strip("|").split("|")]
    assert cells[0] == "low (score, min)"
    assert not cells[1].startswith("**") and cells[2] == "**1 [1, 1] (n=3)**" and cells[3] == cells[2]
    high = next(line for line in lines if line.startswith("| high"))
    assert high.split("|")[2].strip().startswith("**0.85 [")
    assert any(line.startswith("| aggregate (normalized regret)") for line in lines)
    assert "[90% bootstrap CI]" in markdown
    latex = paths[2].read_text()
    assert r"\toprule" in latex and r"\midrule" in latex and r"\bottomrule" in latex
    assert r"\begin{tabular}{lrrr}" in latex
    assert r"\textbf{1 [1, 1] (n=3)}" in latex and r"low (score, min) & " in latex
    assert latex.count(r"\textbf{") == table["best"].sum()
    back = pd.read_csv(paths[0])
    assert back["best"].tolist() == table["best"].tolist()
    assert (back["n_runs"] == back["n_expected"]).all() and set(back["n_expected"]) == {3, 6}
    np.testing.assert_allclose(back["point"], table["point"])


def test_latex_escapes_names():
    table = pd.DataFrame(
        [
            {"benchmark": "lcbench_a&b", "method": "m_1%", "metric": "val_acc", "mode": "max", "statistic": "iqm",
             "point": 0.5, "low": 0.4, "high": 0.6, "n_runs": 3, "best": True, "note": ""},
        ]
    )  # fmt: skip
    latex = tab.to_latex(table)
    assert r"lcbench\_a\&b (val\_acc, max)" in latex and r"m\_1\%" in latex
    assert r"\textbf{0.5 [0.4, 0.6] (n=3)}" in latex


def test_pairwise_table(curves, tmp_path):
    table = tab.pairwise_table(curves, reps=REPS)
    assert len(table) == 6  # ordered pairs of 3 methods
    row = table[(table["method_a"] == "B") & (table["method_b"] == "C")].iloc[0]
    # seed by seed: "low" B and C tie three times; "high" (max) B beats C on seeds 1 and 2, loses on seed 0
    assert (row["wins"], row["ties"], row["losses"]) == (2, 3, 1)
    assert 0.0 <= row["low"] <= row["poi"] <= row["high"] <= 1.0
    paths = tab.write_table(table, tmp_path / "pairwise", kind="pairwise")
    markdown = paths[1].read_text()
    assert markdown.splitlines()[0].startswith("| A | B | P(A better than B) [CI] | wins/ties/losses")
    assert "| B | C |" in markdown
    assert r"\toprule" in paths[2].read_text()
    assert len(pd.read_csv(io.StringIO(paths[0].read_text()))) == 6


def test_single_run_table_has_no_interval(tmp_path):
    root = tmp_path / "results"
    write_run(root, "b", "A", 0, [1.0], [2.0])
    write_run(root, "b", "B", 0, [1.0], [1.0])
    table = tab.final_table(load(root, "hand", points=2), reps=REPS)
    assert table["low"].isna().all()
    markdown = tab.to_markdown(table)
    assert "**1 (n=1)**" in markdown and "n=1: single run: no interval" in markdown


def test_cells_show_missing_seeds(tmp_path):
    # A has seeds 0, 1, 2 on b; B lacks seed 1: its cells say 2 of 3 runs, in Markdown, LaTeX and CSV
    root = tmp_path / "results"
    for seed in (0, 1, 2):
        write_run(root, "b", "A", seed, [1.0, 2.0], [5.0, 2.0 + seed])
        if seed != 1:
            write_run(root, "b", "B", seed, [1.0, 2.0], [5.0, 1.0 + seed])
    table = tab.final_table(load(root, "hand", points=3), reps=REPS)
    by_key = table.set_index(["benchmark", "method"])
    assert (by_key.loc[("b", "B"), "n_runs"], by_key.loc[("b", "B"), "n_expected"]) == (2, 3)
    assert (by_key.loc[("b", "A"), "n_runs"], by_key.loc[("b", "A"), "n_expected"]) == (3, 3)
    markdown = tab.to_markdown(table)
    row = next(line for line in markdown.splitlines() if line.startswith("| b "))
    assert "(n=3)" in row.split("|")[2] and "(n=2 of 3)" in row.split("|")[3]
    assert "(n=2 of 3)" in tab.to_latex(table)
