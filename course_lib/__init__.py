"""course_lib: the helper library of the instruction-tuning course.

The folders are the course's story, in order; each one's __init__.py says which lesson it
serves and what to read first. A stage imports only from itself and the stages above it
(tests/test_layout.py checks it).

    set-up       errors (one exception type), files (a file written whole or not at all),
                 env (device, dtype, Hub, `evaluating`),
                 cgroups (a container's CPU quota and memory limit),
                 display (figures shown as images, tokens with visible spaces),
                 loading (model and tokenizer: preset, folder or Hub id)
    1 formatting records become prompt and response text: templates, schemas, chat, records
                 (loading data; its readers rows, file_bytes, json_files, table_files,
                 via_datasets), stats (what a data set is made of)            lesson 02
    world        the embedded base model and data (kept in assets/), made from nothing:
                 facts, corpus, tokenizer, pretraining, the tuning and evaluation sets,
                 variants (lesson 07's data), and a toy model for tests    lessons 01, 07
    2 masking    every token's label, -100 on the prompt: labels, loss (by hand), the old
                 template search, the standard collator, TRL's labels, audit, view,
                 strategies (every way to label, the mask explorer's menu), packing
                 (lesson 08)                                                  lesson 03
    3 training   fine-tunes: loop_by_hand (the step written out), runner (`train()` on
                 transformers' Trainer), weights (what trains), run_folder (checkpoints,
                 resume), data (what train() is given, checked), settings,
                 trainer, callbacks, held_out, history, plots, with_trl (lesson 05);
                 fast_loss is optional reading; memory (estimated before a run); run_cache
                 (train once, load after)                         lessons 04, 05, 06, 08
    4 evaluation did it work? report (`evaluate()`: eval_data in, report_view out),
                 generation, metrics, adherence, uncertainty, agreement, review and
                 review_sheet (rating answers), compare, inspect_model, base_model
                                                                         lessons 01, 04, 06
    5 experiments common mistakes and good practices, measured: design, catalogue,
                 runner (seeds, an on-disk cache), result, view; ways_to_train
                 (every weight, LoRA or frozen parts); side_by_side and helper are optional
                 reading (runs in helper processes, one per core)      lessons 07, 08
    6 grading    exercises from solutions, checks, the isolated grader     every lesson
    tools        cli (the `course` command: a module per command, its options and handler;
                 commands.py lists them),
                 demo (`course demo`), colab (a lesson's first cell), notebook_runner (run a
                 notebook headless)
"""

__version__ = "0.1.0"
