"""How the course's embedded base model and instruction data are made, from nothing.

No lesson needs to read it: lesson 01 describes the model it makes, and lesson 07 trains on
variants.py's data sets. The files it made are kept in course_lib/assets/ (tiny-base/, and
data/ with its data card, README.md); `course build-base-model` and `course build-tuning-data`
make them again. Read first: facts.py (what the model knows), then phrasings.py, corpus.py and
build.py.

    facts        the small world as data (arithmetic, capitals, sounds, colours, ...)
    phrasings    how facts are stated and asked
    corpus       the pretraining documents (seeded, deterministic)
    tokenizer    byte-level BPE trained on the corpus plus the course templates
    model        the tiny Llama's shape
    pretrain     packing and the Trainer run
    build        corpus -> tokenizer -> model -> folder (`course build-base-model`)
    tuning_data  train/eval/mixed/poor JSONL (`course build-tuning-data`)
    eval_styles  the held-out set of paraphrases (eval_styles.jsonl)
    variants     training-set variants for the data experiments (variant_*.jsonl)
    stand_in     random models of the real presets' shapes and tokenizer types (tests)
    paraphrases  train_varied.jsonl (train + paraphrases) and the dev_styles.jsonl dev set
    toy          a toy tokenizer and model, built offline in a second (tests, exercises)
"""
