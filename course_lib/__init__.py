"""course_lib: the helper library of the instruction-tuning course.

Read it in the order of the course's story:

    env, loading, data   where we run, what model and data we load
    formatting           records -> prompt and response text
    labels, collators    tokens and labels (-100 on the prompt); the old ways and TRL's
    loss                 the masked cross-entropy, written out by hand
    diagnostics          audit labels before training
    mask_view            see every token's label
    training, plots      short fine-tunes and their loss curves
    generation           answers before and after
    grading              check the exercises
    world                how the embedded base model and data are made
    toy                  a toy tokenizer and model for tests and quick demos
"""

__version__ = "0.1.0"
