"""Turn whatever a lesson hands to `train()` into labelled examples, and say what looks odd.

`data` may be a source name ('course:train', a data file or folder, a Hub id), a list of
records ({'instruction', 'response', ...} in any schema the loader knows) or a pandas
DataFrame of them, or examples that already carry `input_ids` and `labels` (e.g. built by a
lesson's own, possibly wrong, code):

    >>> records = [{"instruction": "Hi", "response": "hi"}]     # doctest: +SKIP
    >>> print(prepare_training_data(records, tok).report())    # doctest: +SKIP
    1 of 1 example from 1 given record ready for training.

Usable but suspicious rows (empty response, cut by max_length, a second template mixed in,
a template already inside the prompt, rows that look poor by their form) are trained on, but
counted and reported *before* training starts. `hold_out` sets a seeded slice of a user's
data aside for the held-out score, and `far_from_world` says when the data is beyond what a
toy-sized model knows.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from course_lib.env import evaluating
from course_lib.errors import CourseError, advice
from course_lib.formatting.records import (
    conversion_notes,
    embedded_sets,
    load_raw_rows,
    load_records,
    looks_like_path,
    normalize_rows,
    refuse_non_records,
)
from course_lib.formatting.rows import RowErrors, Split, is_table, table_rows
from course_lib.formatting.stats import check_consistent_templates, check_poor_rows
from course_lib.formatting.templates import DEFAULT_TEMPLATE, Template
from course_lib.masking.labels import (
    IGNORE_INDEX,
    PROGRESS_ABOVE,
    Masking,
    PreparedData,
    pad_batch,
    prepare_examples,
)
from course_lib.masking.loss import masked_cross_entropy
from course_lib.training.settings import is_no_eval


@dataclass
class Records:
    """Normalized records, where each came from ('line 3'), and their raw rows."""

    source: str
    records: list[dict[str, str]]
    where: list[str] = field(default_factory=list)  # "line 3", "row 7", "record 2" (a list's)
    raw: list[Any] = field(default_factory=list)
    # The records hold_out took this part of: the notes on the file count all its rows.
    whole: Records | None = field(default=None, repr=False, compare=False)
    # The rows skip_bad_rows left out (RowErrors names them), for the notes on the file.
    bad_rows: RowErrors | None = field(default=None, repr=False, compare=False)
    listed: bool = False  # a list given in Python: scored on course:eval, not a slice of it


DataSource = str | Path | Sequence[dict[str, Any]] | PreparedData | Records


def is_tokenized(data: Any) -> bool:
    """Examples that arrive labelled already (a lesson's own), used as they are; anything
    else is records (or a name of them) for load_data."""
    return isinstance(data, PreparedData) or (
        not isinstance(data, str | Path | Records | dict)  # a name, or one record
        and not is_table(data)  # a DataFrame holds records; and `bool(df)` raises
        and hasattr(data, "__getitem__")  # a generator holds records, read once by load_data
        and bool(data) and isinstance(data[0], dict) and "input_ids" in data[0]
        and "labels" in data[0]
    )


def load_data(data: str | Path | Sequence[dict[str, Any]] | Records,
              split: Split = "train", what: str = "data",
              skip_bad_rows: bool | None = None) -> Records:
    """Load and normalize a source, a list of records or a DataFrame; every unusable row in one
    error. `split`: which split of a saved DatasetDict or Hub set (held-out: HELD_OUT_SPLITS).
    `skip_bad_rows`: leave such rows out, kept in `bad_rows` for file_notes to say, instead
    (see RowErrors; None: the error names no such choice)."""
    if isinstance(data, Records):
        return data
    if is_table(data) or not isinstance(data, str | Path):
        return _given_records(data, what, skip_bad_rows)
    source = str(data)
    errors = RowErrors(source, skip=skip_bad_rows)
    usable = normalize_rows(load_raw_rows(data, split, errors=errors), errors)
    errors.check(len(usable))  # with skip_bad_rows, only when none is usable
    if not usable:
        raise CourseError(f"{source} holds no examples; give a file with at least one record.")
    where = [w.removeprefix(source).strip() for w, _, _ in usable]  # "line 3", "row 7"
    return Records(source, [record for _, _, record in usable], where,
                   [row for _, row, _ in usable], bad_rows=errors if errors.messages else None)


def check_named_source(source: Any) -> None:
    """A name of data that names nothing here (a mistyped file or folder, an unknown course:
    set), said in the time a stat takes, before a model loads; a file or folder that is there,
    an embedded set, a Hub id (owner/name) or data in memory is read later, as before."""
    if not isinstance(source, str | Path) or Path(source).expanduser().exists():
        return
    name = str(source)
    # "course" alone means the first split the course ships (load_raw_rows picks it).
    if name == "course" or name in embedded_sets():
        return
    if name.startswith("course:") or looks_like_path(name):
        load_raw_rows(name)  # raises the loader's own sentence, with the nearest name


def check_sources(data: DataSource, eval_data: DataSource | None) -> None:
    """A data or held-out file that is not there, said by its argument before the model loads
    (seconds), not after it; eval_data "auto" and "none" name no source."""
    for name, flag, source in (("data", "--data", data), ("eval_data", "--eval-data", eval_data)):
        if isinstance(source, str) and (source == "auto" or is_no_eval(source)):
            continue
        try:
            check_named_source(source)
        except CourseError as err:  # the loader's sentence does not know which argument it read
            raise CourseError(f"{name}: {err}", cli=f"{flag}: {err.cli}") from None


def _given_records(data: Any, what: str, skip: bool | None) -> Records:
    """A DataFrame's rows, named from 1 as the course counts lines and rows (and by their
    index label too, when the frame has its own), or a list's records, from 0 as Python
    indexes them: every unusable one in one error, as for a file,
    or left out with `skip` (kept in `bad_rows`, for file_notes to say)."""
    if is_table(data):
        rows = table_rows(data)
        source = f"a {type(data).__name__} of {len(rows)} row{'s' if len(rows) != 1 else ''}"
        labels = list(getattr(data, "index", []))  # a DataFrame's own row labels
        own = labels and labels != list(range(len(rows)))  # df.loc[105] is no 'row 6'
        named = [(f"row {i} (index {labels[i - 1]})" if own else f"row {i}", row)
                 for i, row in enumerate(rows, 1)]
    else:
        refuse_non_records(data, what=what)  # what: the argument's name, data or eval_data
        rows = list(data)
        source = f"{len(rows)} given record{'s' if len(rows) != 1 else ''}"
        named = [(f"record {i}", row) for i, row in enumerate(rows)]
    errors = RowErrors(source, skip=skip)
    usable = normalize_rows(named, errors)
    errors.check(len(usable))  # with skip, only when none is usable
    return Records(source, [record for _, _, record in usable], [w for w, _, _ in usable],
                   [row for _, row, _ in usable], listed=not is_table(data),
                   bad_rows=errors if errors.messages else None)


def prepare_training_data(
    data: DataSource,
    tokenizer,
    masking: Masking = "response",
    max_length: int | None = None,
    template: str | Template = DEFAULT_TEMPLATE,
    progress: bool = True,
) -> PreparedData:
    """Load, normalise, check and label `data` (see the module docstring for what it takes)."""
    if isinstance(data, PreparedData):
        return data
    if is_tokenized(data):
        # Given as is: a lesson's own labels. Only the no-trained-token case is filtered here;
        # the trainer would skip such batches anyway, but reporting them up front is clearer.
        ready = PreparedData(examples=[], source="tokenized examples", total=len(data))
        # labels[0] never counts: no position predicts the first token (the loss shifts by one).
        for i, ex in enumerate(data):
            if all(label == IGNORE_INDEX for label in ex["labels"][1:]):
                ready.skipped.append((i, "no trained token"))
            else:
                ready.examples.append(ex)
                ready.kept.append(i)
        return ready
    loaded = load_data(data)
    if not loaded.records:
        raise CourseError(f"{loaded.source} holds no examples; give at least one record.")
    prepared = prepare_examples(loaded.records, tokenizer, template, masking, max_length,
                                progress=progress)
    # Bad rows are kept on the whole file read, also when `loaded` is one part of it.
    read = loaded.whole or loaded
    return replace(prepared, source=loaded.source, where=loaded.where,
                   warnings=prepared.warnings + data_checks(loaded, progress),
                   left_out=list(read.bad_rows.messages) if read.bad_rows else [])


def data_checks(loaded: Records, progress: bool = True) -> list[str]:
    """The notes on the rows: mixed templates, repeats, poor rows (they still train: usable),
    and how the file was read. A bar for a large file, where they take seconds."""
    rows, where = loaded.records, loaded.where
    dicts = [i for i, row in enumerate(loaded.raw) if isinstance(row, dict)]  # raw, as written
    checks = [partial(check_consistent_templates, [loaded.raw[i] for i in dicts],
                      [where[i] for i in dicts] if where else ()),
              partial(templated_twice, rows, where), partial(repeated_rows, rows, where),
              partial(check_poor_rows, rows, where), partial(file_notes, loaded)]
    bar = tqdm(checks, desc="checking the rows", unit="check", leave=False,
               disable=not progress or len(rows) <= PROGRESS_ABOVE)
    return [note for check in bar for note in check()]


def file_notes(loaded: Records) -> list[str]:
    """The rows left out (skip_bad_rows), then conversion_notes on the rows read: every row of
    the file, held-out ones too, since the notes describe the file ("30 rows read as
    ShareGPT", not the 27 left to train)."""
    read = loaded.whole or loaded
    places = read.where or [f"record {i}" for i in range(len(read.raw))]
    return left_out_note(read) + conversion_notes(list(zip(places, read.raw, strict=False)))


def left_out_note(read: Records) -> list[str]:
    """The note on the rows that skip_bad_rows left out of `read`, counted against all its
    rows; [] when none was."""
    return [read.bad_rows.left_out_note(len(read.records))] if read.bad_rows else []


def prepare_eval_examples(
    data: DataSource,
    tokenizer,
    max_length: int | None = None,
    template: str | Template = DEFAULT_TEMPLATE,
    limit: int | None = None,
) -> PreparedData:
    """Held-out examples labelled on the response only, whatever masking the run trains with.
    `total` counts the rows given, so `held_out_note` can say what was not scored."""
    if isinstance(data, PreparedData):
        return replace(data, examples=data.examples[:limit] if limit else data.examples)
    if is_tokenized(data):
        return PreparedData(list(data)[:limit] if limit else list(data), "given examples",
                            total=len(data))
    loaded = load_data(data, what="eval_data")
    records = loaded.records[:limit] if limit else loaded.records
    prepared = prepare_examples(records, tokenizer, template, "response", max_length,
                                progress=False)
    return replace(prepared, source=loaded.source, where=loaded.where,
                   total=len(loaded.records))


def held_out_note(held: PreparedData, limit: int | None) -> str:
    """What of the held-out rows is not scored, or scored oddly: '' when every row is."""
    parts = []
    if limit and held.total is not None and held.total > limit:
        parts.append(f"only the first {limit} of its {held.total} rows are scored "
                     f"(raise {advice('eval_limit', '--eval-limit')} to score more)")
    if held.skipped:
        parts.append(f"{len(held.skipped)} not scored: no response token left after "
                     f"{held.max_length} tokens ({held.names([i for i, _ in held.skipped])}; "
                     f"{held.raise_or(advice('max_length', '--max-length'))}shorten "
                     f"{'its prompt' if len(held.skipped) == 1 else 'their prompts'})")
    if held.empty_response:
        parts.append(f"{len(held.empty_response)} with an empty response, scored on the EOS "
                     f"alone ({held.names(held.empty_response)})")
    return f"Held-out set {held.source}: {'; '.join(parts)}." if parts else ""


def row_key(r: dict[str, str]) -> tuple[str, str, str]:
    """What makes two rows the same row: instruction, input and response, spaces aside."""
    return r["instruction"].strip(), r.get("input", "").strip(), r["response"].strip()


def also_in_training(train: Records, held: Records) -> str:
    """A warning when held-out rows are also training rows: their score measures memory."""
    seen = {row_key(r) for r in train.records}
    both = [i for i, r in enumerate(held.records) if row_key(r) in seen]
    if not both:
        return ""
    names = PreparedData(examples=[], where=list(held.where)).names(both)
    verb = "is" if len(both) == 1 else "are"  # "1 of the 2 rows is", as one row is meant
    return (f"{len(both)} of the {len(held.records)} held-out rows of {held.source} {verb} also in "
            f"the training data ({names}), so the held-out score partly measures what the model "
            f"memorised; remove them from one of the two sets.")


# --- A held-out slice of the user's own data ------------------------------------------------
HOLD_OUT_FRACTION = 0.1
HOLD_OUT_SEED = 0  # fixed, not the run's seed: runs with different seeds share one held-out set
HOLD_OUT_MIN_ROWS = 10  # fewer rows than this: nothing to spare


def different_prompts(records: Sequence[dict[str, str]]) -> int:
    """How many different prompts (instruction and input, spaces aside) the records hold: what
    hold_out draws from, so what a note on too few of them counts.

        >>> different_prompts([{"instruction": "Hi"}, {"instruction": " Hi", "input": ""}])
        1
    """
    return len({prompt_key(r) for r in records})


def prompt_key(record: dict[str, str]) -> tuple[str, str]:
    """A record's prompt, spaces aside: rows with the same key are copies of one prompt."""
    return record["instruction"].strip(), record.get("input", "").strip()


def hold_out(data: Records, fraction: float = HOLD_OUT_FRACTION, seed: int = HOLD_OUT_SEED,
             most: int | None = 128) -> tuple[Records, Records | None]:
    """(rows to train on, a seeded random slice held out), or (all, None) if too few rows.

        >>> rows = Records("d.jsonl", [{"instruction": str(i)} for i in range(30)],
        ...                [f"line {i + 1}" for i in range(30)], list(range(30)))
        >>> train, held = hold_out(rows)
        >>> len(train.records), len(held.records), held.source
        (27, 3, '3 rows held out of d.jsonl (seed 0)')
        >>> hold_out(Records("d.jsonl", [{"instruction": str(i)} for i in range(12)]))[1].source
        '1 row held out of d.jsonl (seed 0)'
    """
    # Draw prompts, not rows: a prompt's copies go to one side together, so a data set with
    # duplicates does not score the model on rows it trained on (no duplicates: one per row).
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(data.records):
        groups.setdefault(prompt_key(r), []).append(i)
    prompts = list(groups.values())
    if len(prompts) < HOLD_OUT_MIN_ROWS:
        return data, None
    # Capped at train()'s eval_limit: rows held out beyond those scored would only be lost.
    size = max(1, round(len(prompts) * fraction))
    size = min(size, most) if most else size
    # Seeded: the same data and seed hold out the same rows, so reruns compare like with like.
    chosen = {i for g in random.Random(seed).sample(range(len(prompts)), size) for i in prompts[g]}
    n = len(data.records)

    # Both sides keep their rows' file places and raw rows, so a later error still names a line.
    def part(keep: bool, source: str) -> Records:
        idx = [i for i in range(n) if (i in chosen) == keep]
        return Records(source, [data.records[i] for i in idx],
                       [data.where[i] for i in idx] if data.where else [],
                       [data.raw[i] for i in idx] if data.raw else [], data.whole or data,
                       listed=data.listed)

    rows = "1 row" if len(chosen) == 1 else f"{len(chosen)} rows"
    held_name = f"{rows} held out of {Path(data.source).name} (seed {seed})"
    return part(False, data.source), part(True, held_name)


# --- Checks that need the tokenizer or the model ---------------------------------------------
TEMPLATE_MARK = re.compile(r"###\s*(?:Instruction|Input|Response)\s*:")


def templated_twice(records: Sequence[dict[str, str]], where: Sequence[str] = ()) -> list[str]:
    """A warning when instructions or inputs already hold template markers ('### Response:').

        >>> templated_twice([{"instruction": "### Instruction: Hi ### Response:", "input": ""}])
        ["1 prompt already holds template markers such as '### Response:' (example 0), ...]
    """
    found = [i for i, r in enumerate(records)
             if TEMPLATE_MARK.search(r["instruction"]) or TEMPLATE_MARK.search(r.get("input", ""))]
    if not found:
        return []
    names = PreparedData(examples=[], where=list(where)).names(found)
    one = len(found) == 1
    which = advice("template='one_line' or 'alpaca'", "--template one_line or alpaca")
    return [f"{len(found)} {'prompt already holds' if one else 'prompts already hold'} "
            f"template markers such as '### Response:' ({names}), so the template is added a "
            f"second time around {'it' if one else 'them'}; give the bare instruction, input and "
            f"output fields, or 'text' / prompt-completion rows written with a template the "
            f"course reads back ({which})."]


def repeated_rows(records: Sequence[dict[str, str]], where: Sequence[str] = ()) -> list[str]:
    """A note when rows repeat an earlier row word for word: each copy trains again.

        >>> repeated_rows([{"instruction": "Hi", "response": "Yo"}] * 3)
        ['2 rows repeat an earlier row word for word (examples 1, 2): each copy trains ...']
    """
    seen: set[tuple[str, str, str]] = set()
    copies = []
    for i, key in enumerate(map(row_key, records)):
        if key in seen:
            copies.append(i)
        seen.add(key)
    if not copies:
        return []
    names = PreparedData(examples=[], where=list(where)).names(copies)
    one = len(copies) == 1
    return [f"{len(copies)} {'row repeats' if one else 'rows repeat'} an earlier row word for "
            f"word ({names}): each copy trains again, so a row with copies weighs as much as "
            f"all of them together; remove the copies you did not mean."]


WORLD_RATIO = 1.6  # tokens per word, relative to the course's data; see far_from_world
TOY_SIZED = 20_000_000  # parameters: below this a model knows only the world it was built for


def tokens_per_word(records: Sequence[dict[str, str]], tokenizer, sample: int = 2000) -> float:
    """Tokens per whitespace-separated word of the records' text (the first `sample`)."""
    texts = [" ".join(r.get(k, "") for k in ("instruction", "input", "response")).strip()
             for r in records[:sample]]
    words = sum(len(t.split()) for t in texts)
    ids = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"] if texts else []
    return sum(map(len, ids)) / max(words, 1)


def base_loss(model, examples: Sequence[dict[str, list[int]]], pad_token_id: int) -> float:
    """The model's mean next-token loss over every token of a few examples, before training."""
    everything = [{**ex, "labels": list(ex["input_ids"])} for ex in examples]
    batch = pad_batch(everything, pad_token_id)
    with evaluating(model) as device:
        logits = model(input_ids=batch["input_ids"].to(device),
                       attention_mask=batch["attention_mask"].to(device)).logits
    return float(masked_cross_entropy(logits.cpu(), batch["labels"]))


def far_from_world(records: Sequence[dict[str, str]], ready: PreparedData, tokenizer,
                   model) -> str | None:
    """One warning, in numbers, when a toy-sized model meets data far beyond its world.

    Measured with the embedded tiny model: the course's data takes 1.33
    tokens per word and a base loss of 2.6 over all tokens; English prose takes 3.4 tokens per
    word and a base loss of 13.3, far above a uniform guess over 2,048 tokens (ln 2048 = 7.6).
    """
    # Only toy-sized models: a real one is expected to know real text, so it gets no warning.
    n_params = sum(p.numel() for p in model.parameters())
    if n_params >= TOY_SIZED or not records or not ready.examples:
        return None
    # Tokens per word against the course's own data: many more means words the tokenizer never saw.
    ours = tokens_per_word(records, tokenizer)
    course = tokens_per_word(load_records("course:train"), tokenizer)
    # Eight examples are enough to see a loss far above chance, and cost a single forward pass.
    loss = base_loss(model, ready.examples[:8], tokenizer.pad_token_id)
    uniform = math.log(model.config.vocab_size)
    # Either sign alone is enough to warn, and only the signs seen are named: a loss below a
    # uniform guess is no sign, and was once quoted as if it were.
    signs = []
    if ours >= WORLD_RATIO * course:
        signs.append(f"{ours:.1f} tokens per word (the course's data: {course:.1f} with this "
                     f"tokenizer)")
    if loss > uniform + 0.5:
        signs.append(f"a loss of {loss:.1f} before training, above {uniform:.1f} for a "
                     f"uniform guess over {model.config.vocab_size:,} tokens")
    if not signs:
        return None
    smollm2 = advice("model='smollm2-135m'", "--model smollm2-135m")
    return (f"This data looks far outside what the model knows: {' and '.join(signs)}. "
            f"A {n_params / 1e6:.1f}M-parameter model knows a small world at most (the "
            f"embedded one, the course's); for real text use a real model on a GPU: {smollm2} "
            f"or a local model folder.")
