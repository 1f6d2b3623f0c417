"""course_lib: the helper library of the instruction-tuning course.

Read it in the order of the course's story (each module's first line says what it is for):

    0. set-up    env (device, dtype, Hub), colab (a lesson's first cell), errors,
                 loading (model and tokenizer: preset, folder or Hub id), data (records)
    1. problem   inspect_model (next-token probabilities), generation (raw and templated)
    2. format    formatting (templates, schemas, mixed formats), dataset_stats (mix, quality)
    3. mask      labels (-100 on the prompt), collators (the old template search, the wrong
                 collator, TRL's way), loss (masked cross-entropy by hand), diagnostics
                 (audit labels), mask_view (every token's label, the explorer widget)
    4. train     training_data, training (the runner on transformers' Trainer), kept_logits
                 (why a masked step computes less), history,
                 response_metrics (the fair yardstick), plots, compare (masked vs unmasked),
                 sft (the same with TRL's SFTTrainer), demo (`course demo`)
    5. grade     grading/ (exercises from solutions, checks, the isolated grader)
    behind it    world/ (how the embedded base model and data are made), toy (a toy
                 tokenizer and model for tests), notebook_runner, cli (the `course` command)
"""

__version__ = "0.1.0"
