"""Checks for lesson 05, TRL 1.x: an SFTConfig for a CPU, the old collator by hand, and its fix."""

from __future__ import annotations

import contextlib
import copy
import inspect
import numbers
import tempfile
import warnings
from unittest import mock

from course_lib.grading.checks import int_list
from course_lib.grading.registry import exercise
from course_lib.world.toy import make_smollm2_like_tokenizer, make_toy_tokenizer

IGNORE = -100  # masking.labels.IGNORE_INDEX, repeated: importing it would load torch in the grader
MAX_STEPS = 7  # not the notebook's 30: the config must take the number it is given
TRACKER = "tensorboard"  # installed on Colab: there report_to="all" sends the run to it


@exercise(
    "ex05_1",
    title="An SFTConfig for a tiny model on a CPU",
    hints=[
        "SFTConfig(output_dir=output_dir, max_steps=max_steps, ...) with "
        "completion_only_loss=True.",
        "On a CPU: use_cpu=True and bf16=False (TRL turns bf16 on by default).",
        "Turn gradient checkpointing off (**checkpointing_off() from "
        "course_lib.masking.trl_labels, or activation_checkpointing=False), learning_rate=1e-3, "
        "report_to='none'.",
    ],
)
def check_tiny_cpu_config(tiny_cpu_config):
    from trl import SFTConfig

    out = tempfile.mkdtemp()
    written: dict[int, tuple] = {}  # report_to as the learner wrote it and as made, by config
    with _a_tracker_installed(), _keeping_report_to(written):
        config = tiny_cpu_config(out, MAX_STEPS)
    assert isinstance(config, SFTConfig), (
        f"tiny_cpu_config should return an SFTConfig, not {type(config).__name__}.")
    assert config.output_dir == out, "pass output_dir through to the SFTConfig."
    assert config.max_steps == MAX_STEPS, (
        f"tiny_cpu_config(output_dir, {MAX_STEPS}) gave max_steps={config.max_steps}: pass "
        f"max_steps=max_steps, the number given (the notebook's 30 is only an example).")
    assert config.completion_only_loss is True, (
        f"completion_only_loss is {config.completion_only_loss!r}; set it to True so only the "
        f"completion is graded (None would do the same for prompt/completion data only, and "
        f"False trains on the prompt too).")
    assert config.use_cpu is True, "use_cpu should be True: the tiny model trains on the CPU."
    assert config.bf16 is False, (
        "bf16 is on: TRL turns it on by default, but a CPU has no fast bf16; set bf16=False.")
    assert not config.fp16, "fp16 should stay off on a CPU."
    checkpointing = getattr(config, "activation_checkpointing", config.gradient_checkpointing)
    assert not checkpointing, (
        "gradient checkpointing is on (TRL's default): it only makes a tiny model slower; turn "
        "it off with activation_checkpointing=False (or **checkpointing_off()).")
    # A string such as "1e-3" (as a YAML file would hold it) reaches the optimizer as is.
    assert isinstance(config.learning_rate, numbers.Real), (
        f"learning_rate is {config.learning_rate!r}: write a number such as 1e-3 (not a string).")
    # 30 steps of the tiny model: 1e-3 reaches 68% held-out accuracy, 1e-4 only 5.5% (audit).
    assert config.learning_rate >= 3e-4, (
        f"learning_rate is {config.learning_rate:g}: a tiny model barely moves below about "
        f"3e-4 in a short run (TRL's default is 2e-5); use about 1e-3.")
    assert config.learning_rate <= 1e-2, (
        f"learning_rate is {config.learning_rate:g}: steps that large make the loss jump "
        f"about instead of falling; use about 1e-3.")
    # transformers 5 makes report_to a list: None becomes [None], which the Trainer refuses.
    assert config.report_to != [None], (
        "report_to=None does not turn reporting off: transformers 5 turns it into the list "
        "[None], and the Trainer then stops with 'None is not supported'; use "
        "report_to='none' (a string) for no experiment tracker.")
    # SFTConfig(report_to='none') holds []; the strings only when set after it was made.
    raw, made = written.get(id(config), (None, None))
    assert config.report_to in ([], ["none"], "none"), _report_to_message(
        raw if made == config.report_to else config.report_to)  # unless set after it was made


def _report_to_message(said) -> str:
    """Why report_to={said!r}, as the learner wrote it, is wrong here, and the fix."""
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    names = said if isinstance(said, list) else [said]
    unknown = [n for n in names if not (isinstance(n, str) and n in INTEGRATION_TO_CALLBACK)]
    if "all" in names:
        return (f"report_to={said!r} reports to every installed tracker ({TRACKER} on Colab, "
                f"so the run would log there), and this course uses no tracker; use "
                f"report_to='none'.")
    if unknown:
        listed = ", ".join(map(repr, unknown))
        return (f"report_to={said!r}: {listed} is no tracker transformers knows, so the Trainer "
                f"would stop at it; for no tracker, use report_to='none' (a lower-case string).")
    one = len(names) == 1
    return (f"report_to={said!r} sends the run to {' and '.join(names)}, "
            f"{'an experiment tracker' if one else 'experiment trackers'} this course does not "
            f"use (the Trainer stops unless {'it is' if one else 'they are'} installed, and an "
            f"online one needs an account and the internet); use report_to='none'.")


@contextlib.contextmanager
def _a_tracker_installed():
    """Pretend TRACKER is installed while the config is made, so report_to='all' shows."""
    from transformers import integrations

    name = "get_available_reporting_integrations"  # what report_to="all" becomes
    with (mock.patch.object(integrations, name, lambda: [TRACKER])
          if hasattr(integrations, name) else contextlib.nullcontext()):
        yield


@contextlib.contextmanager
def _keeping_report_to(written: dict[int, tuple]):
    """Keep each SFTConfig's report_to as it was written and as transformers made it (a
    list), by the config's id in `written`: the message quotes what the learner wrote."""
    from trl import SFTConfig

    post_init = SFTConfig.__post_init__

    def keep(self):
        said = self.report_to
        post_init(self)
        written[id(self)] = (said, self.report_to)

    with mock.patch.object(SFTConfig, "__post_init__", keep):
        yield


def _rows():
    # template = [7, 8]; pad id 2 is also the EOS (the last token of every row)
    return [
        [1, 5, 6, 7, 8, 9, 2],          # template at 3..4, response 9 + EOS
        [1, 7, 8, 4, 4, 2],             # template at 1..2
        [1, 5, 6, 9, 2],                # no template: nothing to train
        [1, 7, 5, 7, 8, 3, 7, 8, 6, 2],  # a lone 7 first, then the template twice
        [1, 8, 5, 7, 8, 9, 2],          # a lone 8 (the template's last id) first
    ]


def _want():
    return [
        [IGNORE] * 5 + [9, 2] + [IGNORE] * 3,
        [IGNORE] * 3 + [4, 4, 2] + [IGNORE] * 4,
        [IGNORE] * 10,
        [IGNORE] * 5 + [3, 7, 8, 6, 2],
        [IGNORE] * 5 + [9, 2] + [IGNORE] * 3,
    ]


@exercise(
    "ex05_2",
    title="The completion-only collator, from scratch",
    hints=[
        "Pad every row on the right to the longest with pad_id; attention_mask is 1 on real "
        "tokens and 0 on padding; labels start as a copy of the ids.",
        "Set the padding's labels to -100 *by position* (after each row's length), never by "
        "id: here the pad id is also the EOS, which must stay trained.",
        "Find the first place where response_ids occur in the row; labels up to and including "
        "the template are -100. No match: the whole row is -100.",
    ],
)
def check_completion_only_collate(completion_only_collate):
    rows = _rows()
    given = [list(r) for r in rows]
    out = completion_only_collate(given, [7, 8], 2)
    assert given == rows, (
        "completion_only_collate changed the rows it was given (padded them in place?): build "
        "new lists, so that the data set's own rows stay as they are.")
    got = _as_lists(out)
    _check_ids_and_mask(rows, got)
    if got["labels"] != _want():
        _label_mistake(rows, got["labels"], _want())
    _check_other_arguments(completion_only_collate)


def _as_lists(out) -> dict:
    """The learner's batch as lists of lists (from lists, tensors or NumPy arrays)."""
    assert isinstance(out, dict) and {"input_ids", "attention_mask", "labels"} <= set(out), (
        "completion_only_collate should return a dict with input_ids, attention_mask and "
        "labels.")
    for key in ("input_ids", "labels"):  # the embedding and the loss take int64 ids only
        dtype = str(getattr(out[key], "dtype", "int64")).removeprefix("torch.")
        assert dtype == "int64", (
            f"{key} is a tensor of {dtype}, but the model and its loss need int64 ids: build "
            f"it with torch.tensor(...) (torch.Tensor(...) makes floats).")
    got = {k: (v.tolist() if hasattr(v, "tolist") else [list(x) for x in v])
           for k, v in out.items()}
    assert not any(isinstance(t, float) for key in ("input_ids", "labels")
                   for row in got[key] for t in row), (
        "input_ids and labels should hold ints (token ids and -100), not floats: the model "
        "and its loss need whole numbers.")
    return got


def _label_mistake(rows: list[list[int]], labels: list[list[int]], want: list[list[int]]):
    """Raise what is wrong with the labels of _rows(), in the learner's terms."""
    padding = {t for row, r in zip(labels, rows, strict=True) for t in row[len(r):]}
    if padding - {IGNORE}:
        raise AssertionError(f"the labels of the padding are {sorted(padding - {IGNORE})}, "
                             f"not -100: set every label after a row's own length to -100.")
    if labels[0][:10] == [IGNORE] * 3 + [7, 8, 9, 2] + [IGNORE] * 3:
        raise AssertionError("the response template's own tokens (7, 8) are trained: mask "
                             "everything up to *and including* the template.")
    if labels[0][6] == IGNORE:
        raise AssertionError("the EOS at the end of row 0 is -100, but it must be trained (it "
                             "teaches the model to stop); padding masked by id hides it too, "
                             "since here the pad id is also the EOS: mask padding by position.")
    if labels[0][3:6] == [IGNORE, 8, 9]:
        raise AssertionError("the template's last id (8, in row 0) is trained: the labels start "
                             "right after the whole template [7, 8], one position later.")
    if labels[0][5:7] == [IGNORE, 2]:
        raise AssertionError("the answer's first token (9, in row 0) is -100: mask up to and "
                             "including the template, not one position past it.")
    if labels[2] != [IGNORE] * 10:
        raise AssertionError("row 2 has no response template, so the whole row must be -100 "
                             "(the old collator warned and ignored it); you trained some of it.")
    if labels[3] == [IGNORE] * 8 + [6, 2]:
        raise AssertionError("row 3 holds the template twice: mask up to the *first* one only.")
    if labels[3][:3] == [IGNORE, IGNORE, 5]:
        raise AssertionError("row 3 starts with a lone 7: the template is the whole sequence "
                             "[7, 8], not just its first id.")
    if labels[4][2:5] == [5, 7, 8]:
        raise AssertionError("row 4 [1, 8, 5, 7, 8, 9, 2] starts with a lone 8, the template's "
                             "last id: find where the whole sequence [7, 8] occurs, not where "
                             "its last id does, and mask up to the end of that.")
    for i, (a, b) in enumerate(zip(labels, want, strict=False)):
        if a != b:
            raise AssertionError(f"labels of row {i} should be {b}, not {a}.")
    raise AssertionError(f"labels should be {want}, not {labels}.")


# Another template and pad id than the notebook's [7, 8] and 2 (here the EOS is 4), and a
# template of 3 ids: a tokenizer makes 3 or more of '### Response:', not always the example's 2;
# the ids 15, 3, 6 in row 0 are no template, though their digits read "5, 3, 6"; row 1 holds
# the template's first 2 ids alone before the whole of it.
OTHER_TEMPLATE = [5, 3, 6]
OTHER_ROWS = [[1, 15, 3, 6, 5, 3, 6, 9, 4], [1, 5, 3, 5, 3, 6, 8, 4]]
OTHER_IDS = [OTHER_ROWS[0], OTHER_ROWS[1] + [0]]
OTHER_LABELS = [[IGNORE] * 7 + [9, 4], [IGNORE] * 6 + [8, 4, IGNORE]]


def _labels_after(rows: list[list[int]], template: list[int]) -> list[list[int]]:
    """Each row's labels, -100 up to the end of the first `template` (all, if none), padded."""
    longest, n = max(map(len, rows)), len(template)
    starts = [next((s + n for s in range(len(r)) if r[s:s + n] == template), len(r))
              for r in rows]
    return [[IGNORE] * s + r[s:] + [IGNORE] * (longest - len(r)) for r, s in zip(rows, starts,
                                                                             strict=True)]


def _check_other_arguments(completion_only_collate) -> None:
    """The same collator with response_ids [5, 3, 6] and pad_id 0: it uses the arguments given."""
    got = _as_lists(completion_only_collate([list(r) for r in OTHER_ROWS], OTHER_TEMPLATE, 0))
    call = f"completion_only_collate({OTHER_ROWS}, response_ids={OTHER_TEMPLATE}, pad_id=0)"
    assert got["input_ids"] == OTHER_IDS, (
        f"{call} should pad with pad_id, the argument given: input_ids {OTHER_IDS}, not "
        f"{got['input_ids']}.")
    assert got["labels"] != [[IGNORE] * 9] * 2, (
        f"{call} masks every label: search for response_ids, the argument given, all "
        f"{len(OTHER_TEMPLATE)} of its ids (the notebook's [7, 8] is only an example; other "
        f"tokenizers make longer templates).")
    assert got["labels"] != _labels_after(OTHER_ROWS, OTHER_TEMPLATE[:2]), (
        f"{call} masks up to the end of the template's first 2 ids: response_ids has "
        f"{len(OTHER_TEMPLATE)} ids here, so compare row[i:i + len(response_ids)] with all of "
        f"them (the notebook's template has 2; other tokenizers make more).")
    assert got["labels"] == OTHER_LABELS, (
        f"{call} should give the labels {OTHER_LABELS}, not {got['labels']}: search for the "
        f"ids of response_ids in the row, not for its digits (15, 3, 6 is not the template).")


def _check_ids_and_mask(rows: list[list[int]], got: dict) -> None:
    """Rows padded on the right with pad_id 2; the mask 1 on each row's own tokens, by position."""
    longest = max(map(len, rows))
    want_ids = [r + [2] * (longest - len(r)) for r in rows]
    want_mask = [[1] * len(r) + [0] * (longest - len(r)) for r in rows]
    for key in ("input_ids", "attention_mask", "labels"):
        assert len(got[key]) == len(rows) and all(len(r) == longest for r in got[key]), (
            f"{key} should have one row per row given ({len(rows)}), each padded to the longest "
            f"row's length ({longest}); got rows of lengths {[len(r) for r in got[key]]}.")
    ids, mask = got["input_ids"], got["attention_mask"]
    wrong = next((i for i, (a, b) in enumerate(zip(ids, want_ids, strict=True)) if a != b), None)
    assert wrong is None, (
        f"input_ids should be the rows padded on the right with pad_id to the longest row's "
        f"length ({longest}): row {wrong} should be {want_ids[wrong]}, not {ids[wrong]}.")
    wrong = next((i for i, (a, b) in enumerate(zip(mask, want_mask, strict=True)) if a != b), None)
    if wrong is None:
        return
    by_id = [[int(t != 2) for t in r] for r in want_ids]
    why = (": the pad id 2 is also the EOS, so a mask made by id hides each row's EOS; set it "
           "by position, 1 for the row's own tokens" if mask == by_id else "")
    raise AssertionError(
        f"attention_mask of row {wrong} should be {want_mask[wrong]} (1 on the row's own "
        f"{len(rows[wrong])} tokens, 0 on the padding), not {mask[wrong]}{why}.")


ONE_LINE_RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola mundo"},
    {"instruction": "What is the capital of france?", "response": "Paris"},
]


@exercise(
    "ex05_3",
    title="Fix a response template that is never found",
    hints=[
        "Compare tokenizer.tokenize('### Response:') with the tokens of a whole formatted "
        "example: in context the space before '###' is glued onto it.",
        "Format one record with the one-line template, tokenize it, and keep the tokens that "
        "cover the characters of '### Response:' (return_offsets_mapping=True gives each "
        "token's characters).",
        "Or encode ' ### Response:' (with the space in front) and check the ids occur in the "
        "tokenized example.",
    ],
)
def check_template_ids(response_template_ids):
    # deferred: torch and matplotlib stay out of every grading process's start
    from course_lib.display import token_texts
    from course_lib.masking.labels import prepare_examples
    from course_lib.masking.template_search import CompletionOnlyCollator, tokenize_texts

    first = None  # the ids for the notebook's tokenizer
    # glued: in context the space before '###' is glued onto it, so the template's ids alone
    # are wrong. With few merges (vocab_size=280) it is not, and '### Response:' is 7 tokens,
    # not 3; SmolLM2's set-up puts no BOS in front.
    for tokenizer, glued in [
        (make_toy_tokenizer(), True), (make_toy_tokenizer(vocab_size=300), True),
        (_renumbered(), True), (make_toy_tokenizer(vocab_size=280), False),
        (make_smollm2_like_tokenizer(), True),
    ]:
        ids = _ids(response_template_ids(tokenizer))
        assert ids != first or tokenizer.decode(ids).strip() == "### Response:", (
            f"you return {ids} whatever the tokenizer: those are the notebook's tokenizer's "
            f"ids; take them from the tokenizer given (another one numbers its tokens "
            f"differently).")
        first = first or ids
        alone = tokenizer.encode("### Response:", add_special_tokens=False)
        assert ids != alone or not glued, (
            f"{ids} are the ids of '### Response:' tokenized alone: that is exactly what the "
            f"old collator searched for, and inside the one-line template's text the tokens "
            f"differ.")
        decoded = tokenizer.decode(ids)
        assert decoded.strip() == "### Response:", (
            f"your ids decode to {decoded!r}: return the tokens of exactly '### Response:' as "
            f"it appears in context, no more, no less (the answer after it must stay trained)"
            f"{_why_not(ids, first, tokenizer)}.")
        texts = tokenize_texts(ONE_LINE_RECORDS, tokenizer)
        collator = CompletionOnlyCollator(ids, tokenizer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch = collator(texts)
        missing = [i for i, ok in enumerate(collator.found) if not ok]
        if missing:
            _not_found(ids, token_texts(tokenizer, ids), missing, tokenizer)
        want = prepare_examples(ONE_LINE_RECORDS, tokenizer).examples
        for i, example in enumerate(want):
            n = len(example["input_ids"])
            got = batch["labels"][i, :n].tolist()
            assert got == example["labels"], (
                f"with your ids {token_texts(tokenizer, ids)} the collator's labels of "
                f"example {i} are {got}, but the response starts right after '### Response:': "
                f"{example['labels']}. Return the ids of exactly '### Response:' as it appears "
                f"in context, no more, no less.")


def _why_not(ids: list[int], first: list[int] | None, tokenizer) -> str:
    """What in the learner's ids holds only for the notebook's tokenizer: a BOS dropped from
    a tokenizer that adds none, or the notebook's count of tokens."""
    if tokenizer("###")["input_ids"][:1] != [tokenizer.bos_token_id] and \
            ids == tokenizer(" ### Response:")["input_ids"][1:]:
        return ("; this tokenizer, like SmolLM2's, puts no BOS in front: there is nothing to "
                "drop from its ids")
    if first and len(ids) == len(first):
        return (f"; this tokenizer splits it into another number of tokens than the notebook's "
                f"{len(first)}: don't type in how many")
    return ""


def _renumbered():
    """The toy tokenizer with 8 more special tokens first: the same tokens, each id 8 higher."""
    return make_toy_tokenizer(vocab_size=608, extra_specials=[f"<extra_{i}>" for i in range(8)])


def _ids(ids) -> list[int]:
    """The learner's ids as a list of ints (from a list, tuple, tensor or numpy ints)."""
    wrong = (f"response_template_ids should return a non-empty list of token ids (ints, such "
             f"as tokenizer.encode gives), not {ids!r}.")
    ids = int_list(ids, wrong)
    assert ids, wrong
    return ids


def _not_found(ids: list[int], tokens: list[str], missing: list[int], tokenizer) -> None:
    """Why the collator found the learner's ids (shown as `tokens`) in no example: a bare space
    token, or else."""
    spaces = [k for k in (0, -1) if len(ids) > 1 and not tokenizer.decode([ids[k]]).strip()]
    if -1 in spaces:
        raise AssertionError(
            f"your ids {ids} ({tokens}) end with a token that is only a space ({tokens[-1]!r}): "
            f"in the formatted text that space is glued to the first token of the answer "
            f"(' 4' is one token), so this sequence occurs in no example. Leave the trailing "
            f"space out.")
    if 0 in spaces:
        raise AssertionError(
            f"your ids {ids} ({tokens}) start with a token that is only a space "
            f"({tokens[0]!r}): in the formatted text that space is glued onto '###', so this "
            f"sequence occurs in no example. Drop the lone space token.")
    raise AssertionError(
        f"with your ids {ids} ({tokens}) the template is not found in example(s) {missing}: "
        f"the rows stay fully masked. Take the ids from a formatted example, not from the "
        f"template alone.")


# One turn; a system message (the course's template writes none of it); two turns, the second
# answer several tokens long: an answer that keeps only the first or the last span fails.
CHATS = [
    [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}],
    [{"role": "system", "content": "Answer briefly."},
     {"role": "user", "content": "What is the capital of France?"},
     {"role": "assistant", "content": "Paris"}],
    [{"role": "user", "content": "What is 3+4?"}, {"role": "assistant", "content": "7"},
     {"role": "user", "content": "And the capital of Italy?"},
     {"role": "assistant", "content": "The capital of Italy is Rome."}],
]


@exercise(
    "ex05_4",
    title="Labels from the assistant mask, and a template that trains nothing",
    hints=[
        "out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, "
        "return_assistant_tokens_mask=True) gives out['input_ids'] and out['assistant_masks'], "
        "one entry per token.",
        "A label is the token's own id where the mask is 1 and -100 where it is 0: "
        "[t if m else -100 for t, m in zip(ids, mask)]. No shift: the model shifts labels itself.",
        "Before building the labels, test the mask: if not any(mask), raise ValueError('the "
        "chat template has no {% generation %} markers ...').",
    ],
)
def check_assistant_labels(assistant_labels):
    # deferred: torch and transformers stay out of every grading process's start
    from course_lib.formatting.chat import CHAT_TEMPLATE_WITHOUT_MARKERS, attach_chat_template
    from course_lib.masking.trl_labels import chat_example

    # The notebook's tokenizer, one that numbers its tokens otherwise, and one set up as
    # SmolLM2's (no BOS in front, so the course's template writes none).
    for tokenizer in (make_toy_tokenizer(), _renumbered(), make_smollm2_like_tokenizer()):
        marked = attach_chat_template(tokenizer)
        for messages in CHATS:
            want = chat_example(messages, marked)
            got = int_list(_labels_or_why(assistant_labels, messages, marked),
                           "assistant_labels should return a list of ints, one per token.")
            if got != want["labels"]:
                _diagnose_assistant_labels(got, want, messages, marked)
        bare = attach_chat_template(copy.deepcopy(tokenizer), CHAT_TEMPLATE_WITHOUT_MARKERS)
        _check_refuses_a_template_without_markers(assistant_labels, bare)
    # The markers as many models' templates write them, '{%- generation %}': the same mask.
    spaced = copy.deepcopy(marked)
    spaced.chat_template = marked.chat_template.replace("{% generation %}", "{%- generation %}")
    got = _labels_or_why(assistant_labels, CHATS[0], spaced)
    assert int_list(got, "assistant_labels should return a list of ints, one per token.") == \
        chat_example(CHATS[0], spaced)["labels"], (
        "with a chat template that writes its markers '{%- generation %}', your labels differ: "
        "read the assistant mask that apply_chat_template returns, not the template's text.")


def _labels_or_why(assistant_labels, messages, tokenizer):
    """The learner's labels with the course's template, which has the markers: no error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return assistant_labels(copy.deepcopy(messages), tokenizer)
    except ValueError as error:
        raise AssertionError(f"with a chat template that has the {{% generation %}} markers "
                             f"(the course's, or one that writes them '{{%- generation %}}'), "
                             f"you raised ValueError({str(error)!r}) for {messages}: raise only "
                             f"when the mask has no 1 at all.") from None


def _diagnose_assistant_labels(got: list[int], want: dict, messages, tokenizer) -> None:
    """Name the mistake: the mask itself, every token, the mask inverted, a shift, a length."""
    from course_lib.display import token_texts  # deferred: display imports matplotlib

    ids, labels = want["input_ids"], want["labels"]
    mask = [int(x != IGNORE) for x in labels]
    case = f"for the conversation {messages}"
    assert len(got) == len(ids), (
        f"{case} your labels have {len(got)} entries for {len(ids)} tokens: give one label per "
        f"token of input_ids, from the same apply_chat_template call.")
    assert got != mask, (
        f"{case} your labels are the mask's 0s and 1s: a label is the token's own id where the "
        f"mask is 1, and -100 where it is 0.")
    assert got != ids, (
        f"{case} you train every token, the user's turns too: set -100 where the assistant mask "
        f"is 0.")
    assert got != [t if not m else IGNORE for t, m in zip(ids, mask, strict=True)], (
        f"{case} you kept the prompt's ids and masked the answers: the mask is 1 on the "
        f"assistant's tokens, and those are the ones to keep.")
    assert got not in (labels[1:] + [IGNORE], [IGNORE] + labels[:-1]), (
        f"{case} your labels are shifted by one: keep them aligned with input_ids (the model "
        f"shifts them itself).")
    others = {g for g, m in zip(got, mask, strict=True) if not m}
    assert others in ({IGNORE}, set()) or len(others) > 1, (
        f"{case} the tokens that are not trained get {others.pop()}: give them -100, the index "
        f"the loss ignores.")
    dropped = [i for i, (g, m) in enumerate(zip(got, mask, strict=True)) if m and g == IGNORE]
    assert not dropped, (
        f"{case} the assistant's tokens {token_texts(tokenizer, [ids[i] for i in dropped])} are "
        f"in the mask (1) but you gave them -100: keep every token where the mask is 1, in every "
        f"assistant turn.")
    raise AssertionError(f"{case} the labels should be {labels}, but you returned {got}.")


def _check_refuses_a_template_without_markers(assistant_labels, bare) -> None:
    """The pitfall: a template without {% generation %} gives an all-zero mask. Refuse it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = assistant_labels(CHATS[0], bare)
    except ValueError as error:
        assert "generation" in str(error), (
            f"right to raise a ValueError, but say why, so that whoever reads it knows what to "
            f"fix: name the missing {{% generation %}} markers (your message: {str(error)!r}).")
        return
    except Exception as error:  # noqa: BLE001 - any other kind is the learner's to change
        raise AssertionError(f"with a chat template without {{% generation %}} markers, raise a "
                             f"ValueError, not {type(error).__name__}.") from None
    raise AssertionError(f"with a chat template without {{% generation %}} markers, your "
                         f"function returned {got}: every label -100 trains nothing, silently. "
                         f"Raise a ValueError when the assistant mask has no 1.")


def _ask(prompt, *, max_new_tokens=8, do_sample=False):
    """A stand-in API call: keyword-only parameters, and a local variable that is not one."""
    answer = prompt[:max_new_tokens]
    return answer if do_sample else answer.strip()


class _Collator:
    """A stand-in class: called to build one, its parameters are its __init__'s, minus self."""

    def __init__(self, tokenizer, mlm=True, *, pad_to_multiple_of=None):
        self.tokenizer, self.mlm, self.pad_to_multiple_of = tokenizer, mlm, pad_to_multiple_of


@exercise(
    "ex05_5",
    title="A guard against the next API change",
    hints=[
        "inspect.signature(function).parameters is a mapping from each parameter's name to "
        "its description; `name in parameters` says whether a call can pass it.",
        "It works for classes too (inspect.signature(SFTConfig)): the parameters of building "
        "one, without self. Keyword-only parameters (after a *) are in it as well.",
        "Return [name for name in keywords if name not in parameters]: a list, in the order "
        "the keywords were given.",
    ],
)
def check_missing_keywords(missing_keywords):
    from trl import SFTConfig  # deferred: TRL stays out of every grading process's start

    cases = [
        (SFTConfig, ["output_dir", "max_seq_length", "max_length", "completion_only_loss",
                     "dataset_text_field"], "SFTConfig"),
        (_ask, ["prompt", "temperature", "max_new_tokens", "answer", "do_sample"],
         "ask(prompt, *, max_new_tokens=8, do_sample=False), whose body sets a variable answer"),
        (_Collator, ["tokenizer", "mlm_probability", "mlm", "pad_to_multiple_of"],
         "Collator, built as Collator(tokenizer, mlm=True, *, pad_to_multiple_of=None)"),
    ]
    for function, keywords, named in cases:
        taken = inspect.signature(function).parameters
        want = [k for k in keywords if k not in taken]
        given = list(keywords)
        got = missing_keywords(function, given)
        call = f"for {named} and keywords {keywords}"
        assert given == keywords, (
            f"{call} missing_keywords changed the keywords list it was given (now {given}): "
            f"build a new list of the missing ones and leave `keywords` as it is.")
        assert isinstance(got, list | tuple), (
            f"{call} return a list of the missing keywords, in the order given, not "
            f"{type(got).__name__}.")
        got = list(got)
        if got != want:
            _diagnose_missing(got, want, keywords, function, call)


def _diagnose_missing(got: list, want: list[str], keywords: list[str], function,
                      call: str) -> None:
    """Name the mistake: order, the taken ones, keyword-only ones, a local variable."""
    taken = inspect.signature(function).parameters
    said = f"{call} the missing ones are {want}, but you returned {got}"
    if sorted(map(str, got)) == sorted(want):
        raise AssertionError(f"{said}: keep them in the order of keywords.")
    if got == [k for k in keywords if k in taken]:
        raise AssertionError(f"{said}: those are the ones it takes; return those it does not.")
    plain = [k for k in got if k in taken
             and taken[k].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    if plain:  # e.g. hasattr(function, name): an attribute is not a parameter
        raise AssertionError(f"{said}: {plain} are its parameters; a keyword is missing when "
                             f"inspect.signature(function).parameters has no parameter of its "
                             f"name.")
    kw_only = [k for k in got if k in taken and taken[k].kind is inspect.Parameter.KEYWORD_ONLY]
    if kw_only:
        raise AssertionError(f"{said}: {kw_only} are keyword-only parameters (after the *), so a "
                             f"call can pass them; inspect.signature(...).parameters has them, "
                             f"getfullargspec(...).args does not.")
    names = getattr(getattr(function, "__code__", None), "co_varnames", ())
    local = [k for k in want if k not in got and k in names]
    if local:
        raise AssertionError(f"{said}: {local} are variables inside the function, not "
                             f"parameters (__code__.co_varnames lists both); read the "
                             f"parameters with inspect.signature(function).parameters.")
    raise AssertionError(f"{said}: a keyword is missing when "
                         f"inspect.signature(function).parameters has no parameter of its name.")
