"""The table of `course` commands: each one's handler and options (a module of its own), its
one-line help, its description and its examples for `course CMD --help`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from course_lib.cli.ask import add_ask_options, cmd_ask
from course_lib.cli.build import (
    add_build_base_model_options,
    add_build_tuning_data_options,
    cmd_build_base_model,
    cmd_build_tuning_data,
)
from course_lib.cli.compare import add_compare_options, cmd_compare
from course_lib.cli.demo import add_demo_options, cmd_demo
from course_lib.cli.doctor import cmd_doctor
from course_lib.cli.evaluate import (
    add_eval_command_options,
    add_review_options,
    cmd_eval,
    cmd_review,
)
from course_lib.cli.experiment import add_experiment_options, cmd_experiment
from course_lib.cli.grade import (
    add_grade_options,
    add_make_exercises_options,
    cmd_grade,
    cmd_make_exercises,
)
from course_lib.cli.show_mask import add_show_mask_options, cmd_show_mask
from course_lib.cli.train import add_train_options, cmd_train

Handler = Callable[[argparse.Namespace], int | None]


# Every command: (name, handler, options, one-line help, description for `--help`).
COMMANDS: list[tuple[str, Handler, Callable[[argparse.ArgumentParser], None], str, str]] = [
    ("doctor", cmd_doctor, lambda p: None,
     "show versions, device, dtype, cores, memory, Hub, embedded model",
     "Print what the course will run on: the versions of Python and the libraries, the device "
     "and dtype training will use, the CPU cores and memory this process may use, whether the "
     "Hugging Face Hub answers, and where the embedded model is. It writes no file."),
    ("show-mask", cmd_show_mask, add_show_mask_options,
     "print every token of one example with its label (-100 = masked)",
     "Format one example (given, or row N of a data file), build its labels and print each "
     "token as text(label, id): grey = masked (-100), green = trained. It writes no file."),
    ("make-exercises", cmd_make_exercises, add_make_exercises_options,
     "generate exercises/ from solutions/",
     "Write each solution notebook's exercise version: the answers between ### BEGIN SOLUTION "
     "and ### END SOLUTION become a NotImplementedError, the hints a collapsed cell. A "
     "notebook you edited is kept (see --force); learners with a clone use --out my-exercises."),
    ("grade", cmd_grade, add_grade_options,
     "grade the exercises of a folder of notebooks, or a class: a folder per learner",
     "Run the exercise cells of the notebooks in FOLDER, each against its check, and print one "
     "row per exercise (passed, or what is wrong) and the score; the exit status is 1 unless "
     "all pass. Several folders, one per learner, give one row per learner instead. --json "
     "and --csv also write the results to a file. The cells run with your permissions, not in "
     "a sandbox: grade work you do not trust with no network (README.md, 'Grading a class')."),
    ("train", cmd_train, add_train_options,
     "fine-tune; save model, history.json and loss.png",
     "Fine-tune a model on instruction data and save the model, history.json (the settings and "
     "the losses step by step) and loss.png in the new folder --out. Every option left out "
     "keeps the course's recipe."),
    ("ask", cmd_ask, add_ask_options, "answer instructions with the run's template",
     "Answer each question with a model or a run folder, in the template the run was trained "
     "with, and print the answers, one per line. It writes no file."),
    ("compare", cmd_compare, add_compare_options,
     "plot reported vs held-out response-only loss of runs",
     "Draw two or more training runs side by side, the loss each reported while training and "
     "the held-out response-only loss (the one that compares runs fairly), into the image "
     "file --out."),
    ("eval", cmd_eval, add_eval_command_options,
     "score models on a question set: table, JSON, figure",
     "Answer every question with every model (greedy, batched), score exact match, ROUGE-L, "
     "BLEU, chrF and adherence, and break them down by task kind and phrasing style. Prints "
     "a table and writes report.json and eval.png into --out (default: a fresh course-eval)."),
    ("review", cmd_review, add_review_options, "rate a model's answers 1-5 from the keyboard",
     "Show one answer at a time; type a rating 1-5 and flag letters, Enter. Saved after every "
     "rating; run it again to resume."),
    ("experiment", cmd_experiment, add_experiment_options,
     "measure a common mistake or good practice, with seeds",
     "Train a baseline and variants that change one thing, for several seeds; evaluate each on "
     "the same questions; print median and spread per metric. Finished runs are kept in --out, "
     "so running it again is instant."),
    ("demo", cmd_demo, add_demo_options, "the whole story headless, into a fresh folder",
     "Ask the base model, fine-tune it twice (labels -100 on the prompt, then on no token), "
     "compare the two runs' losses, answer held-out questions before and after, and say what "
     "the numbers show; a few minutes on a laptop CPU."),
    ("build-base-model", cmd_build_base_model, add_build_base_model_options,
     "pretrain the embedded tiny base model (10-25 min on 2 cores)",
     "Pretrain the tiny base model the course comes with, on a generated corpus about a small "
     "world, and save the model and its tokenizer in --out: 10-25 minutes on 2 cores, seconds "
     "with --quick."),
    ("build-tuning-data", cmd_build_tuning_data, add_build_tuning_data_options,
     "write the embedded instruction data sets",
     "Write the instruction data sets the course comes with (train, eval, eval_styles, "
     "train_varied and the rest, one .jsonl file each) and their data card, README.md, into "
     "--out; the same --seed writes the same files."),
]


# Each command's examples for `--help`: (what it does, the command). Each must parse
# (tests/cli/test_cli_help.py parses them with build_parser).
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "doctor": (("before the first lesson, or to report a problem", "course doctor"),),
    "show-mask": (
        ("one example typed in", 'course show-mask "What is 2+2?" "4"'),
        ("row 3 of a data set, with labels on every token",
         "course show-mask --data course:train --row 3 --masking none")),
    "make-exercises": (
        ("exercises/ from solutions/", "course make-exercises"),
        ("a copy of your own, beside exercises/", "course make-exercises --out my-exercises")),
    "grade": (
        ("every exercise in exercises/", "course grade"),
        ("one exercise of one learner", "course grade submissions/alice -e ex03_1"),
        ("a class, one folder per learner", "course grade submissions/*/ --csv class.csv")),
    "train": (
        ("100 steps of the recipe: loss on the answers only",
         "course train --steps 100 --out runs/masked"),
        ("your own data, loss on every token",
         "course train --data my.jsonl --masking none --out runs/mine")),
    "ask": (
        ("the embedded base model", 'course ask "What is 2+2?"'),
        ("a fine-tuned run, two questions", 'course ask --model runs/masked "What is 2+2?" '
                                            '"What is 5+5?"')),
    "compare": (("two runs in one figure",
                 "course compare runs/masked runs/unmasked --out compare.png"),),
    "eval": (
        ("the base model against a run", "course eval tiny runs/masked --json r.json"),
        ("50 of your own questions, greedy answers only",
         "course eval runs/masked --data my-questions.jsonl --limit 50 --samples 0")),
    "review": (("20 answers of a run, then how the metrics agree with you",
                "course review runs/masked --out ratings.jsonl"),),
    "experiment": (
        ("every experiment and its hypothesis", "course experiment --list"),
        ("one experiment, three seeds per arm", "course experiment prompt-variability --seeds 3"),
    ),
    "demo": (
        ("the whole story into a fresh course-demo folder", "course demo"),
        ("a quicker one", "course demo --steps 30 --out demo-quick")),
    "build-base-model": (("a quick smoke build", "course build-base-model --quick --out base"),),
    "build-tuning-data": (("the data sets with another seed",
                           "course build-tuning-data --seed 1 --out data-seed1"),),
}
