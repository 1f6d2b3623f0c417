"""The stage after training: did the tuning work? Serves lesson 06. Read `metrics` first.

    metrics      normalised exact match, first answer, ROUGE, BLEU, chrF (and when each misleads)
    adherence    did the response follow the format? named checks, one score
    uncertainty  k/n with a Wilson interval, seed spreads, breakdowns by any field
    agreement    consistency across paraphrases and samples, human-vs-metric rank agreement
"""
