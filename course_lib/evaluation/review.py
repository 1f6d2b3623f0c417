"""Human review: rate answers 1-5 with problem flags, then see which metric agrees with you.

In a notebook (ipywidgets), or in a terminal (`course review RUN_OR_MODEL --out FILE`):

    >>> items = review_items(report, per_model=8)                          # doctest: +SKIP
    >>> ReviewSheet(items, "runs/ratings.jsonl")                           # doctest: +SKIP
    >>> metric_agreement(load_ratings("runs/ratings.jsonl"), items)        # doctest: +SKIP

Every rating is appended to a JSONL file the moment it is given, so closing the notebook
loses nothing and the next sheet on the same file starts at the first unrated item. Keys:
type the rating and the flags' letters, then Enter: `4`, `2 w`, `1 ws`.

    >>> parse_keys("2 ws")
    (2, ['wrong', "didn't stop"])
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from course_lib.errors import CourseError, shell_word, with_advice
from course_lib.evaluation.agreement import RankAgreement, most_disagreeing, rank_agreement
from course_lib.evaluation.uncertainty import items_given
from course_lib.formatting.rows import listed

# Problem flags, by the key that toggles them.
FLAGS = {"w": "wrong", "i": "incomplete", "o": "off-format", "s": "didn't stop", "u": "unsafe"}
KEY_HELP = ("type a rating 1-5 and any flag letters, then Enter: "
            + ", ".join(f"{k} = {name}" for k, name in FLAGS.items()) + " (e.g. '2 w')")
# The automatic scores compared with the ratings (names of a scored row's fields).
METRICS = ("exact_match", "first_answer_correct", "rouge_l", "bleu", "chrf", "adherence")
SHOWN = ("instruction", "input", "response", "reference")


def item_key(item: dict[str, Any]) -> str:
    """A stable id for one answer: the model, the question, the template and the response.

    A retrained model that answers differently gets new keys, so old ratings never stick to
    a new answer.
    """
    parts = [str(item.get(k)) for k in ("model", "where", "template", "response")]
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:12]


def review_items(report, models: Sequence[str] | None = None, per_model: int = 10,
                 seed: int = 0) -> list[dict[str, Any]]:
    """A shuffled sample of `per_model` scored answers of each model, ready to rate.

    The model's name stays in the item but the sheet does not show it: rate blind.
    """
    rng = random.Random(seed)
    items = []
    # One name is one model (its letters were looked up as models); any container, read once.
    models = [] if models is None else [models] if isinstance(models, str) else listed(models)
    for model in models or report.models:
        rows = report.rows[model]
        for row in rng.sample(rows, min(per_model, len(rows))):
            items.append({**row, "model": model})
    rng.shuffle(items)
    return [{**item, "key": item_key(item)} for item in items]


def parse_keys(text: str) -> tuple[int, list[str]]:
    """'4' -> (4, []); '2 wi' -> (2, ['wrong', 'incomplete']); anything else: CourseError."""
    keys = text.replace(" ", "").lower()
    if not keys or keys[0] not in "12345" or any(k not in FLAGS for k in keys[1:]):
        # What is wrong with it first ('z' is no flag), then the keys there are.
        odd = next((k for k in keys[1:] if k not in FLAGS), None)
        rated = keys[:1] in tuple("12345")  # "" is not
        what = f"'{odd}' is no flag" if rated and odd else "it must start with a rating 1-5"
        raise CourseError(f"'{text}' is not a rating ({what}); {KEY_HELP}.")
    return int(keys[0]), [FLAGS[k] for k in dict.fromkeys(keys[1:])]


def load_ratings(path: str | Path) -> dict[str, dict[str, Any]]:
    """{key: rating record} from a ratings file (the last rating of an item wins); {} if none.

    The file is only read: one that is not a ratings file (the questions given by mistake)
    is said to be so, and left as it is.
    """
    path = Path(path)
    # No file yet is a review not started, not an error.
    if not path.exists():
        return {}
    if path.is_dir():
        raise with_advice(f"'{path}' is a folder, not a ratings file; give a file in it, e.g. "
                          f"{{fix}}.", f"path={str(path / 'ratings.jsonl')!r}",
                          f"--out {shell_word(path / 'ratings.jsonl')}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise _not_ratings(path, "it is not text") from None
    out = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        # Later lines overwrite earlier ones: a re-rated item keeps its last rating.
        record = _rating_record(line)
        if record is None and not out:  # the first line: the whole file is something else
            raise _not_ratings(path, _first_line(line))
        if record is None:
            raise with_advice(f"{path} line {lineno} is not a rating record (a write cut "
                              f"short?); delete that line, or choose another {{fix}}.",
                              "path", "--out")
        out[record["key"]] = record
    return out


def _rating_record(line: str) -> dict[str, Any] | None:
    """One line of a ratings file as its record, or None when it is not one."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and {"key", "rating"} <= record.keys() else None


def _first_line(line: str) -> str:
    """What the first line of a file that holds no ratings is, in a few words."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return f"its first line is not JSON: {line.strip()[:30]!r}"
    if isinstance(value, dict):
        return f"its first line has the fields [{', '.join(list(value)[:8])}]"
    return "its first line is JSON but not a record"


def _not_ratings(path: Path, what: str):
    return with_advice(f"'{path}' is not a ratings file ({what}), so it is left as it is; "
                       f"choose another {{fix}} for the ratings.", "path", "--out")


def save_rating(path: str | Path, item: dict[str, Any], rating: int, flags: Sequence[str],
                rater: str = "you") -> dict[str, Any]:
    """Append one rating to the JSONL file at once (flushed), and return the record."""
    if rating not in range(1, 6) or any(f not in FLAGS.values() for f in flags):
        raise CourseError(f"Rate 1-5 with flags from {list(FLAGS.values())}; got {rating}, "
                          f"{list(flags)}.")
    record = {"key": item["key"], "rating": rating, "flags": list(flags), "rater": rater,
              "model": item.get("model"), **{k: item.get(k) for k in SHOWN},
              "time": datetime.now(UTC).isoformat(timespec="seconds")}
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError as err:  # a folder in the way, read-only, a full disk: said, not raised
        raise CourseError(f"The rating could not be saved to {path} ({err.strerror or err}); "
                          f"give the review a file in a folder you can write.") from None
    return record


def first_unrated(items: Sequence[dict[str, Any]], ratings: dict[str, Any]) -> int:
    """Index of the first item without a rating (len(items) when all are rated)."""
    return next((i for i, item in enumerate(items) if item["key"] not in ratings), len(items))


def item_text(item: dict[str, Any]) -> str:
    """The four things a rater reads, one per line (input only when there is one)."""
    lines = [f"{name:>11}: {item.get(name) if item.get(name) is not None else '(none)'}"
             for name in SHOWN if name != "input" or item.get("input")]
    return "\n".join(lines)


def review_in_terminal(items: Sequence[dict[str, Any]], path: str | Path,
                       stdin: IO[str] | None = None, stdout: IO[str] | None = None,
                       rater: str = "you") -> int:
    """Rate unrated items one by one, reading keys from `stdin`; returns how many were rated.

    `n` skips an item, `q` (or the end of the input) stops; every rating is saved at once.
    """
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    items = items_given(items, "review_in_terminal(items, path)")  # read once, counted after
    ratings = load_ratings(path)
    # Only unrated items are asked: a review stopped with q goes on where it stopped.
    todo = [i for i, item in enumerate(items) if item["key"] not in ratings]
    # Ratings of other answers (another model, other questions) stay in the file: said, so
    # that a sheet of two models' ratings is chosen, not stumbled into.
    others = len(set(ratings) - {item["key"] for item in items})
    also = f" (it also holds {others} rating{'s' if others != 1 else ''} of other answers)"
    print(f"{len(items) - len(todo)} of {len(items)} already rated in {path}"
          f"{also if others else ''}; {KEY_HELP}; n = next, q = quit.", file=stdout)
    rated = 0
    for done, i in enumerate(todo):
        print(f"\n[{len(items) - len(todo) + done + 1}/{len(items)}]\n{item_text(items[i])}",
              file=stdout)
        # Asked again until the keys parse: a typo costs one line, not the item.
        while True:
            print("rating> ", end="", file=stdout, flush=True)
            line = stdin.readline()
            keys = line.strip().lower()
            if not line or keys == "q":  # end of input or quit: what was rated is saved
                return rated
            if keys == "n":
                break
            try:
                rating, flags = parse_keys(keys)
            except CourseError as err:
                print(err, file=stdout)
                continue
            # Saved at once, so nothing rated is lost if the terminal is closed.
            save_rating(path, items[i], rating, flags, rater)
            rated += 1
            break
    return rated


# --- demo ratings: a written rubric, for a lesson that must run without a person -------------
def rubric_rating(item: dict[str, Any]) -> tuple[int, list[str]]:
    """What a strict rater following a fixed rubric would give. NOT a person's judgement.

    5 right and clean; 4 right, too long; 3 right first answer, then rambles or no stop;
    2 wrong but a clean answer of the right sort (a number for a sum); 1 anything else.

    >>> rubric_rating({"reference": "4", "response": "5", "kind": "add", "exact_match": False,
    ...                "first_answer_correct": False, "checks": {"answered": True,
    ...                "stopped": True, "no_template_leak": True, "length_ok": True}})
    (2, ['wrong'])
    """
    checks = item["checks"]
    flags = [] if checks["stopped"] else ["didn't stop"]
    if not (checks["answered"] and checks["no_template_leak"]) or checks.get("language_ok") \
            is False:
        flags.append("off-format")
    if item.get("reference") is None:
        return (4 if not flags else 2), flags
    if item["exact_match"]:
        return (5 if checks["length_ok"] and not flags else 4), flags
    if item["first_answer_correct"]:
        return 3, sorted(set(flags) | {"off-format"})
    right_sort = item["response"].strip().isdigit() == item["reference"].strip().isdigit()
    return (2 if right_sort and not flags else 1), ["wrong", *flags]


def rubric_ratings(items: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Demo ratings by `rubric_rating` for every item, keyed like `load_ratings`' result."""
    out = {}
    for item in items_given(items, "rubric_ratings(items)"):
        rating, flags = rubric_rating(item)
        out[item["key"]] = {"key": item["key"], "rating": rating, "flags": flags,
                            "rater": "demo rubric (not a person)"}
    return out


# --- do the metrics agree with the ratings? ----------------------------------------------
NOT_MEASURABLE = "not measurable: needs 3 rated items with a score, and scores that differ"

@dataclass(frozen=True)
class MetricAgreement:
    """Spearman's rho between the ratings and each metric, over the items both scored."""

    rater: str
    by_metric: dict[str, RankAgreement | None]  # None: fewer than 3 items, or a constant side

    def __str__(self) -> str:
        lines = [f"ratings by {self.rater}: rank agreement with each metric"]
        for metric, result in self.by_metric.items():
            lines.append(f"  {metric:22} {result or NOT_MEASURABLE}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{metric}</td><td>{'-' if r is None else f'{r.rho:.2f}'}</td>"
            f"<td>{'-' if r is None else r.n}</td>"
            f"<td>{'-' if r is None else f'{r.p_value:.2g}'}</td></tr>"
            for metric, r in self.by_metric.items())
        return (f"<p>Ratings by <b>{html.escape(self.rater)}</b></p><table><thead><tr>"
                f"<th>metric</th><th>Spearman rho</th><th>n</th><th>p</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def rated_pairs(ratings: dict[str, dict[str, Any]], items: Sequence[dict[str, Any]],
                metric: str) -> list[dict[str, Any]]:
    """The rated items that have a `metric` score, each with `human` and `metric` fields."""
    items = items_given(items, "rated_pairs(ratings, items, metric)")  # a DataFrame: its rows
    return [{**item, "human": ratings[item["key"]]["rating"], "metric": float(item[metric])}
            for item in items if item["key"] in ratings and item.get(metric) is not None]


def metric_agreement(ratings: dict[str, dict[str, Any]], items: Sequence[dict[str, Any]],
                     metrics: Sequence[str] = METRICS) -> MetricAgreement:
    """Rank agreement (scipy's Spearman) of the ratings with each metric.

    A metric that gives every rated item the same score (or fewer than 3 rated items with
    a score) cannot be ranked against: it gets None, not a made-up number.
    """
    if not ratings:
        raise CourseError("No ratings yet; rate a few items first (or use rubric_ratings).")
    raters = {r.get("rater", "you") for r in ratings.values()}
    # Read once: a generator gave the first metric every item and the others none ("not
    # measurable", without a word); one metric's name was read letter by letter.
    items = items_given(items, "metric_agreement(ratings, items)")
    metrics = [metrics] if isinstance(metrics, str) else listed(metrics)
    by_metric: dict[str, RankAgreement | None] = {}
    for metric in metrics:
        pairs = rated_pairs(ratings, items, metric)
        humans, scores = [p["human"] for p in pairs], [p["metric"] for p in pairs]
        constant = len(set(humans)) < 2 or len(set(scores)) < 2
        by_metric[metric] = None if len(pairs) < 3 or constant else rank_agreement(humans, scores)
    return MetricAgreement(", ".join(sorted(raters)), by_metric)


def disagreements(ratings: dict[str, dict[str, Any]], items: Sequence[dict[str, Any]],
                  metric: str, k: int = 5) -> list[dict[str, Any]]:
    """The k rated items where the rating and `metric` rank them most differently."""
    pairs = rated_pairs(ratings, items, metric)
    if not pairs:
        raise CourseError(f"No rated item has a '{metric}' score; rate items with a reference.")
    return most_disagreeing(pairs, k=k)
