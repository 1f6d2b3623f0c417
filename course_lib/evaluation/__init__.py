"""Stage 4, evaluation: did the tuning work? (lessons 01, 04 and 06).

Read first: generation.py (asking a model, raw or in the template), then compare.py (a
masked and an unmasked run side by side) and inspect_model.py (next-token probabilities).
base_model.py measures the embedded model before and after a masked fine-tune.
"""
