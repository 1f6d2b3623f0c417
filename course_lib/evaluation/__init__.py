"""Stage 4, evaluation: did the tuning work? (lessons 01, 04 and 06).

Read first: generation.py (asking a model, raw or in the template), then metrics.py (exact
match after a stated normalisation; ROUGE, BLEU and chrF, and when each misleads).
Then: adherence.py (did the response follow the format? named checks), uncertainty.py (k/n
with an interval, seed spreads, breakdowns), agreement.py (consistency across paraphrases and
samples; human ratings against metrics), compare.py (a masked and an unmasked run side by
side), inspect_model.py (next-token probabilities). base_model.py measures the embedded model
before and after a masked fine-tune.
All of it in one call (lesson 06, `course eval`): report.py (`evaluate`: a data set through
models, every answer scored, summaries with k/n; eval_data.py reads the rows, report_view.py
draws the table and figure); review.py and review_sheet.py (human ratings, in a terminal or
an ipywidgets sheet, against the metrics).
"""
