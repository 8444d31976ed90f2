"""The pieces every report shares: mean with its confidence interval, tables, paths as pages name them."""

import json
import math

import pytest

from nsynth_synth.evaluation.report import markdown_table, shown_path, write_report
from nsynth_synth.metrics.stats import format_mean_ci, mean_ci


def test_mean_ci_is_students_t_interval():
    summary = mean_ci([1.0, 2.0, 3.0])
    # t(0.975, 2 degrees of freedom) = 4.3027; standard deviation 1; n = 3.
    assert summary["mean"] == 2.0 and summary["n"] == 3
    assert summary["ci"] == pytest.approx(4.3027 / math.sqrt(3), rel=1e-4)
    assert format_mean_ci(summary) == "2.00 ± 2.48"
    single = mean_ci([7.5])
    assert single["ci"] is None and format_mean_ci(single) == "7.50"
    with pytest.raises(ValueError, match="at least one value"):
        mean_ci([])


def test_paths_below_the_working_directory_are_shown_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shown_path(str(tmp_path / "runs" / "a")) == "runs/a"
    assert shown_path("/somewhere/else") == "/somewhere/else"


def test_report_folder_holds_the_page_and_its_numbers(tmp_path):
    table = markdown_table(["model", "score"], [["a", 1.5], ["b", 2]])
    assert table.splitlines() == ["| model | score |", "|---|---|", "| a | 1.5 |", "| b | 2 |"]
    page = write_report(str(tmp_path / "out"), "Title", [table], {"scores": [1.5, 2]})
    assert open(page).read().startswith("# Title\n") and "| b | 2 |" in open(page).read()
    record = json.loads((tmp_path / "out" / "report.json").read_text())
    assert record["title"] == "Title" and record["scores"] == [1.5, 2]
