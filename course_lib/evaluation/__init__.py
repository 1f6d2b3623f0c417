"""Stage 4, evaluation: did the tuning work? (lessons 01, 04 and 06).

Read first: generation.py (asking a model, raw or in the template), then metrics.py (exact
match after a stated normalisation; ROUGE, BLEU and chrF, and when each misleads).
Then: adherence.py (did the response follow the format? named checks), uncertainty.py (k/n
with an interval, seed spreads, breakdowns), agreement.py (consistency across paraphrases and
samples; human ratings against metrics), compare.py (a masked and an unmasked run side by
side), inspect_model.py (next-token probabilities). base_model.py measures the embedded model
before and after a masked fine-tune.
"""
