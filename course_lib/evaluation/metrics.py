"""Is the answer right? Exact match after a stated normalisation, and the overlap metrics.

A tuned model's answer is compared with the reference answer of a held-out question:

    >>> exact_match("Four.", "4"), first_answer_correct("4. What is 3+3? 6", "4")
    (True, True)
    >>> round(rouge_l("The answer is 12", "The answer is 21"), 2)   # a wrong number, high credit
    0.75

ROUGE comes from Google's `rouge-score` package, BLEU and chrF from `sacrebleu`; this module
only calls them (argument order, scale, the one-reference case, and a ROUGE tokenizer that
reads every script, `WordTokenizer`) and shows where each misleads on short answers
(`metric_pitfalls`). Both libraries are imported when first used:
`rouge_score` pulls in nltk (about 1 s).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

# Text a response must not contain: the prompt layouts of the course's templates (one-line
# and Alpaca) and of the mixed formats learners meet (Human/Assistant, Q/A). Finding one
# in a response means the model went on to write the next prompt.
TEMPLATE_MARKERS: dict[str, str] = {
    "### Instruction:": r"### ?(?i:instruction):",
    "### Input:": r"### ?(?i:input):",
    "### Response:": r"### ?(?i:response):",
    "###": r"###(?! ?(?i:instruction|input|response):)",
    # The same words without "###" before them (the lookbehinds skip "### Response:").
    "Instruction:": r"(?<!#)(?<!# )\b(?i:instruction):",
    "Input:": r"(?<!#)(?<!# )\b(?i:input):",
    "Response:": r"(?<!#)(?<!# )\b(?i:response):",
    "Below is an instruction": r"\b(?i:below is an instruction)\b",
    "Human:": r"\bHuman:",
    "Assistant:": r"\bAssistant:",
    "Q:": r"(?<!\w)Q:",
    "A:": r"(?<!\w)A:",
}
TEMPLATE_MARKER_RE = re.compile("|".join(TEMPLATE_MARKERS.values()))


def template_markers_in(text: str) -> list[str]:
    """The names of the `TEMPLATE_MARKERS` found in `text`, in the table's order.

    >>> template_markers_in("4 ### Instruction: What is 3+3?"), template_markers_in("Q: 2+2")
    (['### Instruction:'], ['Q:'])
    """
    return [name for name, pattern in TEMPLATE_MARKERS.items() if re.search(pattern, text)]

# --- normalisation -----------------------------------------------------------------------
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_VALUE = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}


def _alternation(words: Sequence[str]) -> str:
    # Longest first, so "seventeen" is not read as "seven" + "teen".
    return "|".join(sorted(words, key=len, reverse=True))


_UPTO_99 = rf"(?:(?:{_alternation(_TENS)})(?:[- ](?:{_alternation(_UNITS[1:10])}))?" \
           rf"|{_alternation(_UNITS)})"
_NUMBER = re.compile(
    rf"\b(?:(?P<hundreds>{_alternation(_UNITS[1:10])}) hundred(?:(?: and)? (?P<rest>{_UPTO_99}))?"
    rf"|(?P<small>{_UPTO_99}))\b"
)
_SURROUNDING = " \"'`“”‘’.,;:!?¿¡"
_ARTICLE = re.compile(r"^(?:the|a|an) ")


def _upto_99(words: str) -> int:
    return sum(_VALUE[w] for w in re.split(r"[- ]", words))


def _number_to_digits(match: re.Match) -> str:
    if match["small"]:
        return str(_upto_99(match["small"]))
    rest = _upto_99(match["rest"]) if match["rest"] else 0
    return str(_VALUE[match["hundreds"]] * 100 + rest)


def normalize_answer(text: str) -> str:
    """The answer as compared, after exactly these steps, in this order:

    1. accents dropped (Unicode NFKD, combining marks removed): "días" -> "dias", because the
       course's answers are written without accents;
    2. lower case;
    3. every run of whitespace becomes one space;
    4. quotes, spaces and the punctuation . , ; : ! ? ¿ ¡ stripped from both ends;
    5. English number words 0-999 become digits: "four" -> "4", "twenty-one" and "twenty one"
       -> "21", "one hundred and five" -> "105" (also inside a phrase: "five plus two" ->
       "5 plus 2"; "the big one" becomes "big 1" too; "a hundred" is not read);
    6. one leading English article (the, a, an) dropped.

    Nothing else changes: inner punctuation stays ("2+2", "hee-haw"), digits stay digits.

    >>> normalize_answer('  "Twenty-one." ')
    '21'
    >>> normalize_answer("The  Eiffel Tower!"), normalize_answer("¿Buenos Días?")
    ('eiffel tower', 'buenos dias')
    >>> normalize_answer("nine hundred ninety-nine"), normalize_answer("one hundred")
    ('999', '100')
    """
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"\s+", " ", text.lower()).strip(_SURROUNDING)
    text = _NUMBER.sub(_number_to_digits, text)
    return _ARTICLE.sub("", text, count=1)


def exact_match(prediction: str, reference: str) -> bool:
    """The whole prediction equals the reference after `normalize_answer`.

    >>> exact_match(" Four", "4"), exact_match("4. What is 3+3?", "4")
    (True, False)
    """
    return normalize_answer(prediction) == normalize_answer(reference)


# A piece ends at a newline, a template marker, or a sentence end: . ! or ? followed by
# whitespace or the end of the text (so "3.5" and "2+2?3" are not cut).
_PIECE_END = re.compile(rf"\n|(?<=[.!?])(?=\s|$)|(?={TEMPLATE_MARKER_RE.pattern})")


def split_pieces(text: str) -> list[str]:
    """Cut a response where `first_answer` cuts it; empty pieces are left out.

    >>> split_pieces("4. What is 3+3? 6\\n### Instruction: x")
    ['4.', 'What is 3+3?', '6', '### Instruction: x']
    """
    pieces, start = [], 0
    text = text.strip()
    for end in _PIECE_END.finditer(text):
        pieces.append(text[start:end.start()].strip())
        start = end.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def first_answer(prediction: str) -> str:
    """The prediction up to its first newline, template marker or sentence end.

    A sentence end is ".", "!" or "?" followed by whitespace or the end of the text, and
    belongs to the answer. Leading whitespace is skipped. The rule knows no abbreviations:
    "Dr. No" gives "Dr.".

    >>> first_answer(" 4. What is 3+3? 6"), first_answer("Paris ### Instruction: ...")
    ('4.', 'Paris')
    >>> first_answer("3.5 is the answer"), first_answer("### Response: 4")
    ('3.5 is the answer', '')
    """
    text = prediction.lstrip()
    end = _PIECE_END.search(text)
    return (text[: end.start()] if end else text).strip()


def first_answer_correct(prediction: str, reference: str) -> bool:
    """The prediction's `first_answer` is an exact match for the reference.

    For base or half-tuned models that answer and then ramble on:

    >>> first_answer_correct("4. What is 3+3? 6", "4"), first_answer_correct("42", "4")
    (True, False)
    """
    return exact_match(first_answer(prediction), reference)


# --- overlap metrics: the libraries' numbers, unchanged ----------------------------------
# Scripts written without spaces between words (Chinese, Japanese): each character is a word.
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class WordTokenizer:
    """rouge-score's default tokenizer, extended from a-z and 0-9 to every script.

    That one lower-cases, then keeps runs of a-z and 0-9 only: "東京" and "Москва" have no
    word, and score 0 against themselves. This one keeps runs of letters, marks and digits
    of any script (Unicode categories L, M, N; text in NFC), with each Chinese or Japanese
    character a word of its own; on ASCII text its words, and so the scores, are the same.

    >>> WordTokenizer().tokenize("Buenos días, Москва! 東京は2+2")
    ['buenos', 'días', 'москва', '東', '京', 'は', '2', '2']
    """

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", text.lower())
        kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in text)
        return _UNSPACED.sub(r" \g<0> ", kept).split()


@cache
def _rouge_scorer(rouge_type: str):
    from rouge_score import rouge_scorer  # imports nltk: about 1 s, so only when needed

    return rouge_scorer.RougeScorer([rouge_type], tokenizer=WordTokenizer())


def rouge_n(prediction: str, reference: str, n: int = 1) -> float:
    """ROUGE-n F1 (0-1) from `rouge_score`: lower case, no stemming, `WordTokenizer`'s words.

    >>> rouge_n("the cat sat", "the cat", n=1), rouge_n("the cat sat", "the cat", n=2)
    (0.8, 0.6666666666666666)
    """
    # rouge_score takes the reference (target) first.
    return _rouge_scorer(f"rouge{n}").score(reference, prediction)[f"rouge{n}"].fmeasure


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (0-1, longest common subsequence) from `rouge_score`, as `rouge_n` counts.

    >>> rouge_l("mundo Hola", "Hola mundo"), rouge_l("東京", "東京")
    (0.5, 1.0)
    """
    return _rouge_scorer("rougeL").score(reference, prediction)["rougeL"].fmeasure


def bleu(prediction: str, reference: str) -> float:
    """Sentence BLEU (0-100) as `sacrebleu.sentence_bleu` gives it (exp smoothing, effective order).

    >>> round(bleu("4", "4"), 6), bleu("5", "4")
    (100.0, 0.0)
    """
    import sacrebleu

    return sacrebleu.sentence_bleu(prediction, [reference]).score


def corpus_bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0-100) of `sacrebleu.corpus_bleu`, one reference per prediction.

    Counts n-grams up to 4 over the whole corpus: with only one-word answers there are
    no 2-grams at all and BLEU is 0, even when every answer is right:

    >>> corpus_bleu(["4", "10", "Paris"], ["4", "10", "Paris"])
    0.0
    """
    import sacrebleu

    return sacrebleu.corpus_bleu(list(predictions), [list(references)]).score


def chrf(prediction: str, reference: str) -> float:
    """Sentence chrF (0-100, character n-grams) as `sacrebleu.sentence_chrf` gives it.

    >>> round(chrf("12", "21"), 2)
    50.0
    """
    import sacrebleu

    return sacrebleu.sentence_chrf(prediction, [reference]).score


def corpus_chrf(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (0-100) of `sacrebleu.corpus_chrf`, one reference per prediction.

    >>> corpus_chrf(["4", "10"], ["4", "10"])
    100.0
    """
    import sacrebleu

    return sacrebleu.corpus_chrf(list(predictions), [list(references)]).score


# --- where each metric is the wrong tool ----------------------------------------------------
# (case, prediction, reference, what it shows). The last is a corpus of three answers.
PITFALL_CASES = (
    ("one word, right", "4", "4", "BLEU is exact match on one word: it adds nothing"),
    ("one word, wrong", "5", "4", "no partial credit for a near miss either"),
    ("wrong number", "The answer is 12", "The answer is 21",
     "overlap metrics give a wrong answer most of the credit"),
    ("words swapped", "mundo Hola", "Hola mundo", "ROUGE-1 ignores word order"),
    ("accent only", "buenos días", "buenos dias",
     "to ROUGE and BLEU 'días' and 'dias' are different words; exact match drops the accent"),
    ("right, then rambles", "4. What is 3+3? 6", "4",
     "the first answer is right; every full-text metric punishes the ramble"),
    ("3 right one-word", ("4", "10", "Paris"), ("4", "10", "Paris"),
     "corpus BLEU needs 4-grams: all right, BLEU 0"),
)


def metric_pitfalls() -> list[dict]:
    """Every metric on `PITFALL_CASES`: one row each, for a lesson table.

    Exact match and ROUGE are 0-1; BLEU and chrF are sacrebleu's 0-100. The corpus row uses
    the corpus-level BLEU and chrF and the mean of the per-answer scores for the others.
    Measured (sacrebleu 2.6, rouge-score 0.1.2):

    >>> for row in metric_pitfalls():
    ...     print(f"{row['case']:19} EM {row['exact_match']:.0f} "
    ...           f"R1 {row['rouge_1']:.2f} RL {row['rouge_l']:.2f} "
    ...           f"BLEU {row['bleu']:5.1f} chrF {row['chrf']:5.1f}")
    one word, right     EM 1 R1 1.00 RL 1.00 BLEU 100.0 chrF 100.0
    one word, wrong     EM 0 R1 0.00 RL 0.00 BLEU   0.0 chrF   0.0
    wrong number        EM 0 R1 0.75 RL 0.75 BLEU  59.5 chrF  83.0
    words swapped       EM 0 R1 1.00 RL 0.50 BLEU  70.7 chrF  54.8
    accent only         EM 1 R1 0.50 RL 0.50 BLEU  50.0 chrF  62.9
    right, then rambles EM 0 R1 0.29 RL 0.29 BLEU   4.8 chrF  29.4
    3 right one-word    EM 1 R1 1.00 RL 1.00 BLEU   0.0 chrF 100.0
    """
    rows = []
    for case, prediction, reference, shows in PITFALL_CASES:
        # A case is one answer or several (the corpus row): both become lists.
        preds = [prediction] if isinstance(prediction, str) else list(prediction)
        refs = [reference] if isinstance(reference, str) else list(reference)

        # preds and refs bound as defaults: a closure would read the loop's later values.
        def mean(metric, preds=preds, refs=refs):
            return sum(metric(p, r) for p, r in zip(preds, refs, strict=True)) / len(preds)

        rows.append({
            "case": case, "prediction": " | ".join(preds), "reference": " | ".join(refs),
            "exact_match": mean(exact_match), "rouge_1": mean(rouge_n), "rouge_l": mean(rouge_l),
            # One answer: sentence-level (as reported per example); several: corpus-level.
            "bleu": bleu(preds[0], refs[0]) if len(preds) == 1 else corpus_bleu(preds, refs),
            "chrf": chrf(preds[0], refs[0]) if len(preds) == 1 else corpus_chrf(preds, refs),
            "shows": shows,
        })
    return rows
