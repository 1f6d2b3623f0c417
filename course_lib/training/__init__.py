"""Stage 3, training: short fine-tunes, masked and unmasked, measured fairly (lessons 04-06, 08).

Read first: loop_by_hand.py (the training step written out: loss, backward, optimizer step).
Then runner.py (`train()`, the same on transformers' Trainer, in five named steps), with
weights.py (which weights train: the recipe's frozen parts, LoRA), settings.py (every
TrainingArguments choice), trainer.py (the course's loss) and data.py. run_folder.py keeps a
run's folder: never overwritten, checkpoints, resume, what an interrupt kept.
callbacks.py, held_out.py, history.py and plots.py measure and draw a run; with_trl.py is
lesson 05's TRL helpers. fast_loss.py is optional reading: the speed tricks.
memory.py estimates a run's memory before it starts (lesson 08).
run_cache.py trains a run once and loads it after (lesson 06's runs; the experiments' cache).
"""
