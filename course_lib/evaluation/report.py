"""Did it work? Ask every model every question of a set, score each answer, summarise: `evaluate`.

One call serves lesson 06, `course eval` and lesson 07's experiments:

    >>> report = evaluate({"base": "tiny", "masked": "runs/masked"})     # doctest: +SKIP
    >>> print(report)     # models as columns; metrics and breakdowns as rows # doctest: +SKIP
    >>> report.to_dict()["models"]["masked"]["exact_match"]               # doctest: +SKIP
    {'k': 185, 'n': 298, 'value': 0.62, 'low': 0.56, 'high': 0.67}

Steps, one function each: load the rows (eval_data.py), generate every answer in batches
(`answer_all`: greedy, left padding, each row stops at EOS), score each answer (`score_row`:
exact match, first answer, ROUGE-L, BLEU, chrF, adherence and its checks), sample a few
more answers per question for consistency (`sampled_answers`), and summarise with counts
and intervals (`summarize`). How the report shows itself is in report_view.py.
"""

from __future__ import annotations

import time
from collections.abc import (
    Callable,
    Collection,
    ItemsView,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from tqdm.auto import tqdm

from course_lib.errors import CourseError, advice, is_number, is_whole, shown
from course_lib.evaluation.adherence import adherence
from course_lib.evaluation.agreement import paraphrase_agreement, sampling_agreement
from course_lib.evaluation.eval_data import EvalData, eval_rows
from course_lib.evaluation.generation import (
    AnswerTable,
    GenerationSettings,
    chosen_rows,
    generate_ids,
    prompts_for,
)
from course_lib.evaluation.metrics import (
    bleu,
    chrf,
    corpus_bleu,
    corpus_chrf,
    exact_match,
    first_answer_correct,
    rouge_l,
)
from course_lib.evaluation.report_view import report_figure, report_html, report_table
from course_lib.evaluation.uncertainty import Rate
from course_lib.formatting.records import kind_of_records
from course_lib.formatting.rows import listed, places
from course_lib.formatting.templates import Template, get_template
from course_lib.loading import MODEL_PRESETS, load_model_and_tokenizer
from course_lib.training.data import Records, load_data, prompt_key
from course_lib.training.history import RunHistory, asked_template, history_of_run

CHECKS = ("answered", "stopped", "no_template_leak", "length_ok", "language_ok")


@dataclass(frozen=True)
class Mean:
    """The mean of a score over n rows (ROUGE-L, the adherence score)."""

    value: float
    n: int

    def __str__(self) -> str:
        return f"{self.value:.2f} (n={self.n})"


@dataclass(frozen=True)
class EvalOptions:
    """How answers are generated: greedy for scoring; `samples` draws at `temperature` each."""

    max_new_tokens: int = 16
    batch_size: int = 256
    samples: int = 3
    temperature: float = 0.7

    def greedy(self) -> GenerationSettings:
        return GenerationSettings(max_new_tokens=self.max_new_tokens)

    def sampling(self, seed: int) -> GenerationSettings:
        # top_p=1: the temperature alone says how random the draws are.
        return GenerationSettings(max_new_tokens=self.max_new_tokens, do_sample=True,
                                  temperature=self.temperature, top_p=1.0, seed=seed)


@dataclass
class EvalReport:
    """Every model's scored rows and summary; prints as a table, shows as HTML, draws a figure."""

    data: EvalData
    templates: list[str]
    options: EvalOptions
    rows: dict[str, list[dict[str, Any]]]  # model -> one scored row per (template, question)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    given: dict[str, str] = field(default_factory=dict)  # model -> the folder or name given

    @property
    def models(self) -> list[str]:
        return list(self.rows)

    def to_dict(self, answers: bool = False) -> dict[str, Any]:
        """JSON-ready: settings, counts, and per model every summary number with its k/n.

        `answers=True` adds every scored row (the responses, samples and scores).
        """
        out = {
            "data": self.data.source, "split": self.data.split, "rows": len(self.data.rows),
            "without_reference": self.data.without_reference, "templates": self.templates,
            "settings": vars(self.options) | {"top_p": 1.0,
                                              "sample_seeds": list(range(self.options.samples))},
            "seconds": {m: round(s, 2) for m, s in self.seconds.items()},
            "models": {m: _jsonable(s) for m, s in self.summaries.items()},
            "given": self.given,  # "masked #2" is which folder
        }
        if answers:
            out["answers"] = {m: rows for m, rows in self.rows.items()}
        return out

    def __repr__(self) -> str:
        return (f"EvalReport(models={self.models}, data={self.data.source!r}, "
                f"rows={len(self.data.rows)}, templates={self.templates})")

    def table(self) -> str:
        return report_table(self)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        return report_html(self)

    def answers(self, keep: Callable[[dict], bool] | None = None, limit: int | None = 10,
                template: str | None = None) -> AnswerTable:
        """Every model's response to the questions `keep(row)` selects, side by side.

        Each instruction is shown with its style in brackets, e.g. "[casual] yo, 2 plus 2...".
        """
        first = self.rows[self.models[0]]
        template = template or first[0]["template"]  # each model's first (or own) template
        chosen = chosen_rows(first, keep, template, limit)
        if not chosen:
            raise CourseError("No question matches; loosen `keep` (rows have kind, group, "
                              "style, seen, reference, response, checks).")
        prompts = [f"[{first[i]['style']}] {first[i]['instruction']}" if first[i]["style"]
                   else first[i]["instruction"] for i in chosen]
        columns = {m: [self.rows[m][i]["response"] for i in chosen] for m in self.models}
        # The reference as a plain column: AnswerTable's own exact-match line compares
        # without this course's normalisation, so it is not asked for.
        columns["reference"] = [first[i]["reference"] or "-" for i in chosen]
        inputs = [first[i]["input"] for i in chosen]
        return AnswerTable(prompts, columns, None, inputs if any(inputs) else None)

    def to_figure(self):
        """A matplotlib Figure: every metric per model, and exact match by style and by kind."""
        return report_figure(self)


ModelSpec = Any  # a preset, folder or Hub id; a model object; (model, tokenizer); a TrainResult


def evaluate(models: ModelSpec | Sequence[ModelSpec] | Mapping[str, ModelSpec],
             data: str | Path | Sequence[dict] | EvalData = "course:eval_styles", *,
             tokenizer: Any = None, templates: Sequence[str | Template] | None = None,
             samples: int = 3, temperature: float = 0.7, max_new_tokens: int = 16,
             batch_size: int = 256, limit: int | None = None, progress: bool = True,
             skip_bad_rows: bool = False) -> EvalReport:
    """Answer every row of `data` with every model (in every template) and score the answers.

    models:     "tiny", a run folder, a Hub id, a model object (pass tokenizer=), a
                (model, tokenizer) pair or a TrainResult; several as a list or {name: model}.
    data:       any file `course train` reads, an embedded set, or rows; rows without a
                reference are scored on adherence only (counted in the report).
    templates:  the prompt template(s) every model is asked in; None: each model its own,
                the one a run was trained with (its history.json), else the default.
    samples:    extra answers drawn per question at `temperature` (seeds 0..samples-1),
                compared with the greedy answer; 0 turns the sampling consistency off.
    limit:      only the first `limit` rows (None: every row).
    progress:   a bar that counts the passes over the data (greedy, then each sample).
    skip_bad_rows: leave out the rows of `data` that cannot be used (counted and named in a
                note) instead of refusing it; a file with no usable row is still refused.
    """
    check_options(limit, samples, temperature, max_new_tokens, batch_size)
    rows = eval_rows(data, limit, skip_bad_rows)  # a missing file fails before any model loads
    if not isinstance(data, EvalData):  # what reading it changed, as train() says of its data
        for note in rows.notes:
            print(f"note: {note}")
    templates = templates_asked(templates)
    loaded = resolve_models(models, tokenizer)
    # A run is asked in the template it was trained with, unless templates= says otherwise:
    # in another one it sees a prompt it never learnt to answer.
    asked = {name: [get_template(t) for t in templates] if templates is not None else
             [get_template(asked_template(one.run)[0])] for name, one in loaded.items()}
    # The report's templates: each once, in the order first asked, however many models ask it.
    names = list(dict.fromkeys(t.name for used in asked.values() for t in used))
    options = EvalOptions(max_new_tokens, batch_size, samples, temperature)
    report = EvalReport(rows, names, options, rows={},
                        given={name: one.given for name, one in loaded.items()})
    passes = sum(map(len, asked.values())) * (1 + samples)  # one greedy, then each sample
    with tqdm(total=passes, desc="evaluating", unit="pass", disable=not progress) as bar:
        for name, (model, tok, run, _) in loaded.items():
            for note in (trained_on(run, rows), too_long(model, tok, rows, asked[name],
                                                          max_new_tokens)):
                if note:  # said before the answers, not found later in a table
                    tqdm.write(f"note: {name}: {note}")
            bar.set_description(f"evaluating {name}")
            # Timed per model: the saved report (to_dict) keeps each model's seconds.
            start = time.perf_counter()
            report.rows[name] = [
                scored for template in asked[name]
                for scored in evaluate_one(model, tok, rows, template, options, bar.update)]
            report.summaries[name] = summarize(report.rows[name], options,
                                               several=len(asked[name]) > 1)
            report.seconds[name] = time.perf_counter() - start
    return report


# evaluate()'s counts: the least each may be, and what to do instead of a smaller one.
COUNTS = (("limit", 1, "; leave it out (limit=None) to evaluate every row"),
          ("samples", 0, "; samples=0 turns the sampled answers off"),
          ("max_new_tokens", 1, ""), ("batch_size", 1, ""))


def check_options(limit: int | None, samples: int, temperature: float, max_new_tokens: int,
                  batch_size: int) -> None:
    """One-sentence errors, in evaluate()'s argument names, for options no evaluation can use.

    Unchecked, limit=0 said the data held no rows, samples=-1 ended in a TypeError and
    batch_size=0 in a ZeroDivisionError. (`course eval` checks its flags as it reads them.)
    """
    values = {"limit": limit, "samples": samples, "max_new_tokens": max_new_tokens,
              "batch_size": batch_size}
    for name, least, why in COUNTS:
        value = values[name]
        if value is None and name == "limit":
            continue  # every row
        # The type first: "3" or 2.5 cannot be compared with `least`, or counted.
        if not is_whole(value):
            raise CourseError(f"{name} must be a whole number, not {shown(value)}.")
        if value < least:
            raise CourseError(f"{name} must be at least {least}, not {value}{why}.")
    # Sampling divides the logits by the temperature; refused as the CLI's --temperature is.
    if not (is_number(temperature) and temperature > 0):
        raise CourseError(f"temperature must be a number above 0, not {shown(temperature)}; "
                          f"the greedy answer is always measured, and samples=0 turns the "
                          f"sampled answers off.")


def templates_asked(templates: Any) -> list[str | Template] | None:
    """evaluate()'s templates as a list (one name is one template), or None: each model its
    own. An empty list is refused: it was a ZeroDivisionError after the models loaded."""
    if templates is None:
        return None
    templates = [templates] if isinstance(templates, str | Template) else list(templates)
    if not templates:
        raise CourseError("templates=[] names no template to ask in; give one or more, e.g. "
                          "templates=['one_line'], or leave it out to ask each model in its own.")
    return templates


def evaluate_one(model, tokenizer, data: EvalData, template: Template, options: EvalOptions,
                 done: Callable[[], Any] = lambda: None) -> list[dict[str, Any]]:
    """Every row answered greedily in one template, scored, with its sampled answers;
    `done()` is called after each pass over the rows (a progress bar's update)."""
    prompts = prompts_for([r["instruction"] for r in data.rows],
                          [r["input"] for r in data.rows], template)
    greedy = answer_all(model, tokenizer, prompts, options.greedy(), options.batch_size)
    done()
    scored = [score_row(row, text, stopped) | {"template": template.name}
              for row, (text, stopped) in zip(data.rows, greedy, strict=True)]
    for row, draws in zip(scored, sampled_answers(model, tokenizer, prompts, options, done),
                          strict=True):
        row["samples"] = draws
        row["sampling_agreement"] = (
            sampling_agreement(row["response"], draws).k if draws else None)
    return scored


def answer_all(model, tokenizer, prompts: Sequence[str], settings: GenerationSettings,
               batch_size: int = 256) -> list[tuple[str, bool]]:
    """(response, stopped) for each prompt, generated in batches of similar length.

    `stopped` is True when the row ended with the tokenizer's EOS before the token limit.
    """
    lengths = [len(ids) for ids in tokenizer(list(prompts))["input_ids"]]
    # Similar lengths share a batch: less left padding to compute, the same answers.
    order = sorted(range(len(prompts)), key=lambda i: lengths[i])
    # Batches of equal size (300 rows at most 256: two of 150, not 256 and 44).
    size = -(-len(order) // -(-len(order) // batch_size)) if order else 1
    out: list[tuple[str, bool]] = [("", False)] * len(prompts)
    for start in range(0, len(order), size):
        chunk = order[start:start + size]
        ids = generate_ids(model, tokenizer, [prompts[i] for i in chunk], settings)
        for i, row in zip(chunk, ids, strict=True):
            stopped = bool(row) and row[-1] == tokenizer.eos_token_id
            out[i] = (tokenizer.decode(row, skip_special_tokens=True).strip(), stopped)
    return out


def sampled_answers(model, tokenizer, prompts: Sequence[str], options: EvalOptions,
                    done: Callable[[], Any] = lambda: None) -> list[list[str]]:
    """`options.samples` sampled responses per prompt (seed s for draw s); [] when samples=0."""
    draws = []
    for seed in range(options.samples):
        draws.append(answer_all(model, tokenizer, prompts, options.sampling(seed),
                                options.batch_size))
        done()
    return [[d[i][0] for d in draws] for i in range(len(prompts))]


def score_row(row: dict[str, Any], response: str, stopped: bool) -> dict[str, Any]:
    """One answer scored: correctness against the reference (None without one) and adherence.

    >>> scored = score_row({"reference": "4", "kind": "add"}, "4. What is 3+3?", stopped=False)
    >>> scored["exact_match"], scored["first_answer_correct"], scored["checks"]["answered"]
    (False, True, False)
    """
    ref = row.get("reference")
    checks = adherence(response, stopped=stopped, kind=row.get("kind"))
    scores = {"exact_match": None, "first_answer_correct": None, "rouge_l": None,
              "bleu": None, "chrf": None}
    if ref is not None:
        scores = {"exact_match": exact_match(response, ref),
                  "first_answer_correct": first_answer_correct(response, ref),
                  "rouge_l": rouge_l(response, ref), "bleu": bleu(response, ref),
                  "chrf": chrf(response, ref)}
    return {**row, "response": response, "stopped": stopped, **scores,
            "adherence": checks.score, "checks": checks.checks()}


def summarize(rows: Sequence[dict[str, Any]], options: EvalOptions,
              several: bool = False) -> dict[str, Any]:
    """The summary of one model's scored rows: every rate with k/n, and the breakdowns."""
    scored = [r for r in rows if r["reference"] is not None]
    summary: dict[str, Any] = {
        "rows": len(rows), "with_reference": len(scored),
        "without_reference": len(rows) - len(scored),
        "exact_match": _rate(scored, "exact_match"),
        "first_answer_correct": _rate(scored, "first_answer_correct"),
        "rouge_l": Mean(sum(r["rouge_l"] for r in scored) / len(scored), len(scored))
        if scored else None,
        # BLEU and chrF pool their n-gram counts over the whole set: the unit they are made for.
        "bleu": corpus_bleu([r["response"] for r in scored], [r["reference"] for r in scored])
        if scored else None,
        "chrf": corpus_chrf([r["response"] for r in scored], [r["reference"] for r in scored])
        if scored else None,
        "adherence": Mean(sum(r["adherence"] for r in rows) / len(rows), len(rows)),
        "adherence_all": Rate.of(all(r["checks"].values()) for r in rows),
        "checks": {name: Rate.of(r["checks"][name] for r in rows if name in r["checks"])
                   for name in CHECKS if any(name in r["checks"] for r in rows)},
        "consistency_paraphrase": paraphrase_consistency(rows),
        "consistency_sampling": sampling_consistency(rows, options),
    }
    return summary | breakdowns(rows, several)


def _rate(rows: Sequence[dict[str, Any]], key: str) -> Rate | None:
    return Rate.of(r[key] for r in rows) if rows else None


def paraphrase_consistency(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Within each paraphrase group (and template): do the normalised responses agree?

    Returns the mean share of answers equal to the group's most common answer, and the
    groups whose answers are all the same as a Rate; None when no row has a group.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.get("group") is not None:
            groups.setdefault((r["template"], r["group"]), []).append(r["response"])
    if not groups:
        return None
    result = paraphrase_agreement(groups)
    return {"mean": result.mean, "consistent": result.consistent}


def sampling_consistency(rows: Sequence[dict[str, Any]], options: EvalOptions) -> Rate | None:
    """Sampled answers equal to the greedy answer, over every row and draw (None: no samples)."""
    if not options.samples:
        return None
    return Rate(sum(r["sampling_agreement"] for r in rows), options.samples * len(rows))


def breakdowns(rows: Sequence[dict[str, Any]], several_templates: bool) -> dict[str, Any]:
    """Exact match and 'every adherence check passed' per kind, style, seen/unseen, template.

    Seen styles come first; groups keep the order they first appear in. A row without the
    label counts in no group (say so by giving the label: `None` rows are not invented).
    """
    seen_first = sorted(rows, key=lambda r: r.get("seen") is False)
    out = {
        "by_kind": _slices(rows, lambda r: r.get("kind")),
        "by_phrasing_style": _slices(seen_first, lambda r: r.get("style")),
        "by_seen": _slices(seen_first, lambda r: None if r.get("seen") is None
                           else ("seen" if r["seen"] else "unseen")),
    }
    if several_templates:
        out["by_template"] = _slices(rows, lambda r: r["template"])
    return out


def _slices(rows: Sequence[dict[str, Any]], key) -> dict[str, dict[str, Rate | None]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if key(r) is not None:
            groups.setdefault(str(key(r)), []).append(r)
    return {name: {"exact_match": _rate([r for r in mine if r["reference"] is not None],
                                        "exact_match"),
                   "adherence_all": Rate.of(all(r["checks"].values()) for r in mine)}
            for name, mine in groups.items()}


class Loaded(NamedTuple):
    """A model as evaluate() holds it: loaded, with its run's history (None for a model that
    is not a `course train` run) and what it was given as (a folder, a name, an object)."""

    model: Any
    tokenizer: Any
    run: RunHistory | None
    given: str


def resolve_models(models, tokenizer=None) -> dict[str, Loaded]:
    """{name: Loaded} from the forms `evaluate` accepts, loading names and folders.

    Names: the dict's keys; else a preset's name ("tiny"), a folder's last part
    ("runs/masked" -> "masked"), a train() result's name (its label, else "masked" or
    "unmasked"), or "model" for an object; repeats get " #2", " #3".
    """
    models = _listed_models(models)
    check_not_data(models)
    # Every accepted form becomes (name or None, model) pairs; names are given out below.
    if isinstance(models, Mapping):
        pairs = list(models.items())
    else:
        # A (model, tokenizer) tuple is one model given with its tokenizer, not two models.
        many = isinstance(models, list | tuple) and not _is_pair(models)
        pairs = [(None, m) for m in (models if many else [models])]
    if not pairs:
        # An empty report would look like a model that answered nothing: refuse it instead.
        raise CourseError("evaluate() got no model; pass a name such as 'tiny', a run folder, "
                          "or a model with tokenizer=.")
    if tokenizer is not None and all(isinstance(m, str | Path) for _, m in pairs):
        # Ignored, as train() refuses it: each named model loads its own tokenizer.
        raise CourseError("tokenizer= goes with a model object; a model given by name or "
                          "folder loads its own tokenizer, so leave it out.")
    out: dict[str, Loaded] = {}
    for name, spec in pairs:
        name = name or _default_name(spec)
        # Two models under one name would overwrite each other's column: the repeat gets " #2".
        unique, n = name, 1
        while unique in out:
            n += 1
            unique = f"{name} #{n}"
        given = str(spec) if isinstance(spec, str | Path) else "a model object"
        # The run's history goes along: it names the template to ask in and the data it saw.
        out[unique] = Loaded(*_load(spec, tokenizer, unique), history_of_run(spec), given)
    return out


def _listed_models(models: Any) -> Any:
    """Several models in another container than a list, as a list (read once): a generator,
    a dict's values or keys, a set, a pandas Series or a numpy array of names; a dict's
    items() as the dict. Each was taken for one model object and told to "pass its tokenizer"."""
    if isinstance(models, ItemsView):
        return dict(models)
    # A Series or an array of names by its tolist (a DataFrame, which has none, is data).
    if isinstance(models, Iterator | KeysView | ValuesView | AbstractSet) or (
            hasattr(models, "tolist") and hasattr(models, "ndim")):
        return listed(models)
    return models


def check_not_data(models: Any) -> None:
    """Records given where the models belong, evaluate(rows): each row was taken for a model
    object and told to "pass its tokenizer", which it did not have."""
    if kind := kind_of_records(models, one_record=False):  # a dict of models is no record
        raise CourseError(f"models is data ({kind}), not a model; give the model first and "
                          f"the data second: evaluate('tiny', data).")


def trained_on(run: RunHistory | None, data: EvalData) -> str:
    """A warning when questions are prompts the run was trained on: its score on them partly
    measures memory. Checked when the run's training data is a course set or a file here."""
    source = run.data if run is not None else ""
    if not source or not (source.startswith("course:") or Path(source).expanduser().exists()):
        return ""  # a DataFrame, a Hub id, or a file moved since: nothing to compare with
    # Its rows but those it held out or skipped (places as the run recorded them).
    # Rows a run left out with skip_bad_rows never trained: left out here too, not refused.
    return prompts_trained_on(load_data(source, skip_bad_rows=True), data, source,
                              untrained=set(run.not_trained))


def prompts_trained_on(rows: Records, data: EvalData, source: str,
                       untrained: Collection[str] = ()) -> str:
    """trained_on's sentence for training records read already (in memory, say), but for the
    rows at the places in `untrained`; '' when no question is one of their prompts."""
    seen = {prompt_key(r) for r, where in zip(rows.records, rows.where or [""] * len(rows.records),
                                              strict=True) if where not in untrained}
    both = [r["where"] for r in data.rows if prompt_key(r) in seen]
    if not both:
        return ""
    are = "is a prompt" if len(both) == 1 else "are prompts"
    return (f"{len(both)} of the {len(data.rows)} questions ({places(both)}) {are} it was "
            f"trained on ({source}), so its score on them partly measures what it memorised.")


def too_long(model, tokenizer, data: EvalData, templates: Sequence[Template],
             max_new_tokens: int) -> str:
    """What the token limits cut: references longer than max_new_tokens (an answer that long is
    cut before it can match), prompts that leave no room in the model's context."""
    # Tokenized as the answer is generated: no BOS, since a reference never starts a sequence.
    refs = [r["reference"] for r in data.rows if r["reference"]]
    ref_lengths = [len(ids) for ids in tokenizer(refs, add_special_tokens=False)["input_ids"]
                   ] if refs else []
    parts = []
    # A reference longer than the limit can never be matched: its row scores 0 whatever the model.
    if longer := [n for n in ref_lengths if n > max_new_tokens]:
        parts.append(f"{len(longer)} of {len(refs)} reference answers are longer than "
                     f"max_new_tokens={max_new_tokens} tokens (up to {max(longer)}), so answers "
                     f"are cut before they can match; raise "
                     f"{advice('max_new_tokens', '--max-new-tokens')}")
    # Without a known context (a model object without a config) there is no limit to check.
    context = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    # Per template: the same question is longer in a chat template than in the one-line one.
    for template in templates if context else ():
        prompts = prompts_for([r["instruction"] for r in data.rows],
                              [r["input"] for r in data.rows], template)
        # With BOS, as generate feeds them; room for the whole answer must be left after the prompt.
        lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
        over = [r["where"] for r, n in zip(data.rows, lengths, strict=True)
                if n + max_new_tokens > context]
        if over:
            one = len(over) == 1
            parts.append(f"{len(over)} prompt{'' if one else 's'} ({places(over)}) with "
                         f"{'its' if one else 'their'} answer{'' if one else 's'} "
                         f"{'does' if one else 'do'} not fit the model's context of {context} "
                         f"tokens in the {template.name} template, so "
                         f"{'it is' if one else 'they are'} cut from the left to fit and what "
                         f"it answers means little; shorten {'it' if one else 'them'}")
    # One sentence, "" when nothing is cut, so a caller can print it only when it says something.
    return "; ".join(parts)


def _is_pair(value) -> bool:
    return (isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], str | Path)
            and hasattr(value[1], "decode"))


def _default_name(spec) -> str:
    if isinstance(spec, str | Path):
        return str(spec) if str(spec) in MODEL_PRESETS else Path(spec).name or str(spec)
    if isinstance(getattr(spec, "history", None), RunHistory):  # a TrainResult: its label,
        return spec.history.name  # or its masking, as its summary and compare_runs name it
    return "model"


def _load(spec, tokenizer, name: str = "model") -> tuple[Any, Any]:
    if isinstance(spec, str | Path):
        return load_model_and_tokenizer(spec)
    if _is_pair(spec):
        return spec
    if hasattr(spec, "model") and hasattr(spec, "tokenizer"):  # a TrainResult
        return spec.model, spec.tokenizer
    _check_object(spec, tokenizer, name)
    if tokenizer is None:
        raise CourseError("A model object needs its tokenizer: evaluate(model, tokenizer=tok), "
                          "or pass (model, tokenizer).")
    return spec, tokenizer


def _check_object(spec, tokenizer, name: str) -> None:
    """A model object and its tokenizer, each in its place: a tokenizer given as a model was
    told to pass the tokenizer it had, then failed as an AttributeError; tokenizer='tiny'
    failed as "'str' object is not callable" once generating."""
    if spec is None:
        raise CourseError(f"The model '{name}' is None; give a preset name such as 'tiny', a run "
                          f"folder, a model with tokenizer=, or a TrainResult.")
    if hasattr(spec, "decode") and not hasattr(spec, "generate"):
        raise CourseError(f"The model '{name}' is a tokenizer, not a model; give the model, "
                          f"and its tokenizer as tokenizer=.")
    if tokenizer is not None and not hasattr(tokenizer, "decode"):
        raise CourseError(f"tokenizer must be a tokenizer object, not {shown(tokenizer)}; a "
                          f"model given by name brings its own.")


def _jsonable(value: Any) -> Any:
    """Rates become {k, n, value, low, high}; means {value, n}; everything else as is."""
    if isinstance(value, Rate):
        low, high = value.interval
        return {"k": value.k, "n": value.n, "value": value.value, "low": low, "high": high}
    if isinstance(value, Mean):
        return {"value": value.value, "n": value.n}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
