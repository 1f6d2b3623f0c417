"""`course experiment` through main([...]): the list, a run, its cache, one-line errors."""

import json

from course_lib.cli import main
from course_lib.experiments.catalogue import EXPERIMENTS


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_experiment_with_its_hypothesis_on_one_line(capsys):
    code, out, _ = run_cli(capsys, "experiment", "--list")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(EXPERIMENTS)
    for line, experiment in zip(lines, EXPERIMENTS.values(), strict=True):
        assert line.endswith(experiment.hypothesis)


def test_list_with_a_name_shows_that_experiment_only(capsys):
    code, out, _ = run_cli(capsys, "experiment", "--list", "Balance")  # any case, as a run
    assert code == 0 and out.strip() == f"balance  {EXPERIMENTS['balance'].hypothesis}"
    code, _, err = run_cli(capsys, "experiment", "--list", "balanse")
    assert code == 2 and "the nearest is 'balance'" in err


def test_help_lists_the_command(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    assert "experiment" in capsys.readouterr().out


def test_a_run_prints_the_table_writes_figure_and_json_and_reruns_from_the_cache(
        capsys, tmp_path, toy_model_dir):
    args = ["experiment", "wrong-collator", "--seeds", "2", "--steps", "1", "--model",
            toy_model_dir, "--out", tmp_path / "runs", "--quiet"]
    code, out, _ = run_cli(capsys, *args, "--json", tmp_path / "r.json")
    assert code == 0
    assert "wrong-collator: 2 seeds (0, 1), 1 step each" in out
    assert "response only" in out and "every token" in out and "exact match (n=298)" in out
    assert (tmp_path / "runs" / "wrong-collator.png").read_bytes()[:4] == b"\x89PNG"
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["seeds"] == [0, 1] and set(data["metrics"]) >= {"exact_match", "template_leak"}

    assert "is replaced" not in out
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and "(4 of 4 runs read from the cache)" in out
    assert "wrong-collator.png is replaced; to draw an earlier one again, rerun" in out


def test_mistakes_are_one_line_errors(capsys, tmp_path):
    for argv, message in (
        (["experiment"], "Name an experiment"),
        (["experiment", "colator"], "No experiment called 'colator'"),
        (["experiment", "balance", "--model", "no-such-model"], "no-such-model"),
    ):
        code, _, err = run_cli(capsys, *argv)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
        assert message in err
    existing = tmp_path / "r.json"
    existing.write_text("{}")
    code, _, err = run_cli(capsys, "experiment", "balance", "--json", existing)
    assert code == 2 and "already exists" in err


def test_names_and_paths_are_checked_before_any_training(capsys, tmp_path):
    code, _, err = run_cli(capsys, "experiment", "wrong-colator")
    assert code == 2 and err.startswith("error: No experiment called 'wrong-colator'; choose one "
                                        "of: wrong-collator, ")
    assert err.endswith("(`course experiment --list` says what each measures); the nearest is "
                        "'wrong-collator'.\n")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    for argv, says in ((["--out", tmp_path / "afile"], "is a file; give a folder"),
                       (["--json", tmp_path / "adir", "--force"], "is a folder; give a file")):
        code, _, err = run_cli(capsys, "experiment", "Balance", *argv)  # any capitalisation
        assert code == 2 and says in err and err.count("\n") == 1, err  # were tracebacks


def test_list_on_a_terminal_wraps_each_hypothesis_under_its_column(capsys, monkeypatch):
    from course_lib.cli import experiment

    monkeypatch.setattr(experiment, "_terminal_columns", lambda: 80)
    code, out, _ = run_cli(capsys, "experiment", "--list")
    assert code == 0
    lines = out.splitlines()
    assert max(map(len, lines)) < 80  # the terminal's own wrap would break the columns
    column = max(map(len, EXPERIMENTS)) + 2
    starts = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert starts == list(EXPERIMENTS)  # names alone at the left, the rest under the column
    assert all(line[:column].strip() == "" for line in lines if line.startswith(" "))
    said = " ".join(out.split())
    assert all(" ".join(e.hypothesis.split()) in said for e in EXPERIMENTS.values())
