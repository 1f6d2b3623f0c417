"""The token-by-token mask view: chips, HTML, ANSI, figure, loss overlay, explorer."""

import math
import re

import pytest
import torch
from wcag import contrast

import course_lib.masking.view as view_module
from course_lib.display import visible
from course_lib.errors import CourseError
from course_lib.masking.audit import audit_labels
from course_lib.masking.labels import IGNORE_INDEX, pad_batch, prepare_examples
from course_lib.masking.strategies import label_examples
from course_lib.masking.view import (
    MASKED_HATCH,
    THEME_TEXT,
    THEME_TEXT2,
    TRAINED_BG,
    _explorer_html,
    loss_colour,
    mask_explorer,
    mask_view,
    show_mask,
)

RECORDS = [
    {"instruction": "What is 2+2?", "response": "4"},
    {"instruction": "Translate this to Spanish", "input": "Hello world", "response": "Hola\nmundo"},
]
ANSI = re.compile(r"\033\[[0-9;]*m")


def test_visible_whitespace():
    assert visible(" a\nb\t") == "·a↵b→"


def test_chips_match_tokens_and_labels(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    view = mask_view([ex], toy_tokenizer)
    chips = view.examples[0].chips
    assert [c.token_id for c in chips] == ex["input_ids"]
    assert [c.label for c in chips] == ex["labels"]
    assert [c.text for c in chips][-2:] == ["·4", "</s>"]
    assert chips[0].special and chips[-1].special and not chips[1].special
    assert [c.trained for c in chips] == [lab != IGNORE_INDEX for lab in ex["labels"]]


def test_ansi_like_axolotl_with_totals(toy_tokenizer):
    view = show_mask(RECORDS[0], toy_tokenizer)
    text = view.to_ansi(color=False)
    four = toy_tokenizer.convert_tokens_to_ids("Ġ4")
    assert f"·4({four}, {four})" in text
    assert "[</s>](1, 1)" in text and "###(-100, " in text
    assert text.rstrip().endswith(
        "Total input len: 15  Count of labels: 2  (2 of 14 predictions trained, 14%)")
    assert not ANSI.search(text)


def test_counts_trained_predictions_and_says_the_first_label_is_never_used(toy_tokenizer):
    # masking="none" labels every token, the first too; nothing predicts it, so the loss and
    # audit_labels count one fewer ("15 tokens trained, 100%" said one more than trained).
    text = show_mask(RECORDS[0], toy_tokenizer, masking="none").to_ansi(color=False)
    assert text.rstrip().endswith(
        "Total input len: 15  Count of labels: 15  (14 of 14 predictions trained, 100%; the "
        "first token's label is never used: no token before it predicts it)")
    audit = audit_labels(prepare_examples(RECORDS[:1], toy_tokenizer, masking="none").examples,
                         toy_tokenizer)
    assert (audit.n_trained, audit.n_predictions) == (14, 14)


def test_ansi_starts_with_a_key_to_its_numbers_and_marks(toy_tokenizer):
    text = show_mask(RECORDS[0], toy_tokenizer).to_ansi(color=False)
    key = text.splitlines()[0]  # once, before the examples: which number is which, what · is
    assert key.startswith("Key: text(label, token id); label -100: masked, not trained; ")
    assert "label = id: trained" in key and "· is a space, ↵ a newline" in key
    assert text.count("Key: ") == 1
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    losses = [float("nan")] * (len(ex["input_ids"]) - 1) + [0.5]
    assert "Key: text(label, token id, loss)" in mask_view(ex, toy_tokenizer,
                                                           losses=losses).to_ansi(color=False)
    one = mask_view({**ex, "labels": [IGNORE_INDEX] * (len(ex["labels"]) - 1) + [1]},
                    toy_tokenizer)
    assert "(1 of 14 predictions trained, " in one.to_ansi(color=False)


def test_ansi_colours_and_no_color(toy_tokenizer, monkeypatch):
    view = show_mask(RECORDS[0], toy_tokenizer)
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = view.to_ansi()
    assert "\033[32m·4(" in coloured  # trained: green
    assert "\033[90m###(" in coloured  # masked: grey
    assert "\033[32;1m[</s>]" in coloured  # special: bold
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(view.to_ansi())
    assert ANSI.sub("", coloured) == view.to_ansi()


def test_html_is_inline_css_without_script(toy_tokenizer):
    html = show_mask(RECORDS, toy_tokenizer)._repr_html_()
    assert "<script" not in html and "<style" not in html
    assert html.count('title="id ') == sum(
        len(e["input_ids"]) for e in prepare_examples(RECORDS, toy_tokenizer).examples)
    assert "Hola" in html and "↵" in html
    assert TRAINED_BG in html and MASKED_HATCH in html  # trained and masked chips
    # The same words as to_ansi:
    assert "Count of labels: 2  (2 of 14 predictions trained, 14%)" in html


def chip_styles(html: str) -> list[str]:
    """The style attribute of every token chip (the spans with a tooltip)."""
    return re.findall(r'<span title="id [^"]*" style="([^"]*)"', html)


def test_masked_and_trained_differ_by_more_than_colour(toy_tokenizer):
    view = show_mask(RECORDS[0], toy_tokenizer)
    chips = view.examples[0].chips
    styles = chip_styles(view._repr_html_())
    assert len(styles) == len(chips)
    for chip, style in zip(chips, styles, strict=True):
        # A reader who cannot tell the colours apart still sees hatching and a dashed
        # border on masked tokens, and a solid underline on trained ones.
        assert ("dashed" in style and "repeating-linear-gradient" in style) == (not chip.trained)
        assert ("border-bottom:3px solid" in style) == chip.trained
        assert ("outline:2px solid" in style) == chip.special


def test_text_around_the_chips_follows_the_theme(toy_tokenizer):
    html = show_mask(RECORDS, toy_tokenizer)._repr_html_()
    # The summary line, titles and legend use JupyterLab's theme colours (light or dark),
    # and special tokens are outlined in the theme's text colour, never in a fixed dark grey.
    assert html.count(f"color:{THEME_TEXT2}") == 2  # one summary line per example
    assert f'font-weight:bold;color:{THEME_TEXT}' in html
    assert "var(--jp-content-font-color1" in THEME_TEXT and THEME_TEXT.endswith(")))")
    for special in [s for s in chip_styles(html) if "outline" in s]:
        assert f"outline:2px solid {THEME_TEXT}" in special
    small = [float(x) for x in re.findall(r"font-size:([0-9.]+)px", html)]
    assert min(small) >= 11  # ids and labels are no longer ~9 px

def test_chip_text_meets_wcag_aa_on_every_chip_background(toy_tokenizer):
    # Computed from the HTML, not by eye: each chip's text colour against its background and
    # each stripe of the masked hatching, trained chips along the whole loss scale (AA: 4.5).
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    n = len(ex["input_ids"])
    view = mask_view(ex, toy_tokenizer, losses=[i * 6.0 / n for i in range(n)], loss_high=5.0)
    html = view._repr_html_() + show_mask(RECORDS, toy_tokenizer)._repr_html_()
    styles = re.findall(r'style="(display:inline-block[^"]*)"', html)  # chips and legend keys
    assert len(styles) > n
    for style in styles:
        text = re.search(r";color:(#[0-9a-f]{6})", style)[1]
        behind = re.findall(r"#[0-9a-f]{6}", style.split(";color:")[0])
        assert behind and min(contrast(text, b) for b in behind) >= 4.5, style


def test_padding_is_shown_as_padding(toy_tokenizer_pad_is_eos):
    tok = toy_tokenizer_pad_is_eos
    batch = pad_batch(prepare_examples(RECORDS, tok).examples, tok.pad_token_id)
    view = mask_view(batch, tok)
    assert len(view.examples) == 2
    short = min(view.examples, key=lambda e: e.n_tokens)
    pads = [c for c in short.chips if c.padding]
    assert pads and all(not c.trained for c in pads)
    real_eos = short.chips[short.n_tokens - 1]
    assert real_eos.trained and not real_eos.padding  # pad == eos, yet trained
    assert "pad)" in view.to_ansi(color=False)
    assert "; pad: padding (attention_mask 0); " in view.to_ansi(color=False).splitlines()[0]
    # In the notebook: dotted and marked "pad", never faded (faded text is unreadable).
    styles = chip_styles(view._repr_html_())
    chips = [c for e in view.examples for c in e.chips]
    assert [("dotted" in st) for st in styles] == [c.padding for c in chips]
    assert not any("opacity" in st for st in styles)
    assert view._repr_html_().count("<br>pad</span>") == len(pads)


def test_loss_overlay(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    losses = [float("nan")] * (len(ex["input_ids"]) - 2) + [0.1, 4.9]
    view = mask_view(ex, toy_tokenizer, losses=losses)
    assert view.examples[0].chips[-1].loss == pytest.approx(4.9)
    assert math.isnan(view.examples[0].chips[0].loss)
    text = view.to_ansi(color=False)
    assert "loss 0.10" in text and "loss 4.90" in text
    html = view._repr_html_()
    assert "loss 4.900" in html  # the tooltip
    assert "<br>loss 0.10" in html and "<br>loss 4.90" in html  # printed under the chip
    assert "38;2;" in view.to_ansi(color=True)  # truecolour by loss
    # A CourseError (was a ValueError): the losses are the learner's own.
    with pytest.raises(CourseError, match="give one entry per token in each"):
        mask_view(ex, toy_tokenizer, losses=[0.0])


def test_losses_of_two_examples_as_a_list_of_tensors(toy_tokenizer):
    examples = prepare_examples(RECORDS[:2], toy_tokenizer).examples
    losses = [torch.full((len(ex["input_ids"]),), 0.5) for ex in examples]  # one per example
    view = mask_view(examples, toy_tokenizer, losses=losses)  # was "losses for 1 examples"
    assert [c.loss for ex in view.examples for c in ex.chips] == [0.5] * sum(
        len(ex["input_ids"]) for ex in examples)
    with pytest.raises(CourseError, match="losses holds 1 sequences for 2 examples; give one"):
        mask_view(examples, toy_tokenizer, losses=losses[:1])


def test_loss_colours_match_the_legend_and_avoid_red_green(toy_tokenizer):
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    losses = [float("nan")] * (len(ex["input_ids"]) - 2) + [0.0, 9.0]
    view = mask_view(ex, toy_tokenizer, losses=losses, loss_high=5.0)
    styles = chip_styles(view._repr_html_())
    low, high = loss_colour(0.0, 5.0), loss_colour(5.0, 5.0)
    assert f"background:{low};" in styles[-2] and f"background:{high};" in styles[-1]
    legend = view.legend_html()
    for x in (0.0, 2.5, 5.0):  # the legend's scale uses the chips' own colours
        assert f"background:{loss_colour(x, 5.0)};" in legend
    assert "≥ 5" in legend
    # Blue for learned, orange for not yet: the low end is blue, the high end is not green.
    r, g, b = (int(low[k:k + 2], 16) for k in (1, 3, 5))
    assert b > r and b > g
    r, g, b = (int(high[k:k + 2], 16) for k in (1, 3, 5))
    assert r > g > b
    no_losses = show_mask(RECORDS[0], toy_tokenizer).legend_html()
    assert "Loss scale" not in no_losses


def test_figure_has_a_patch_per_token_and_hatches_masked_ones(toy_tokenizer):
    view = show_mask(RECORDS, toy_tokenizer)
    fig = view.to_figure()
    chips = [c for e in view.examples for c in e.chips]
    patches = fig.axes[0].patches
    assert len(patches) == len(chips)
    assert [p.get_hatch() is not None for p in patches] == [not c.trained for c in chips]



def test_the_figure_says_what_its_marks_and_colours_mean(toy_tokenizer):
    # A saved PNG has no HTML legend beside it: the key is the figure's own title.
    key = show_mask(RECORDS, toy_tokenizer).to_figure().axes[0].get_title(loc="left")
    assert key.startswith("Key: hatched grey = masked (label -100, not trained); ")
    assert "plain = trained" in key and "loss" not in key
    ex = prepare_examples(RECORDS[:1], toy_tokenizer).examples[0]
    losses = [float("nan")] * (len(ex["input_ids"]) - 1) + [4.9]
    coloured = mask_view(ex, toy_tokenizer, losses=losses).to_figure()
    assert "colour is its loss: blue 0, yellow 2.5, orange 5 nats" in " ".join(
        coloured.axes[0].get_title(loc="left").split())

def test_explorer_captions_tell_examples_apart(toy_tokenizer):
    # Same instruction, different inputs: the captions must differ within what is shown.
    same = [{"instruction": "Translate to Spanish", "input": word, "response": answer}
            for word, answer in (("school", "escuela"), ("Good luck", "Buena suerte"))]
    box = mask_explorer(same, toy_tokenizer, maskings=("response",))
    picker, _, _, out = box.children
    captions = [label for label, _ in picker.options]
    assert captions == ["0: Translate to Spanish | school → escuela",
                        "1: Translate to Spanish | Good luck → Buena suerte"]
    assert picker.layout.width == "100%"  # not cut at the dropdown's default width
    picker.value = 1
    assert "Good luck" in out.value and "Buena suerte" in out.value  # the example in full


def test_explorer_updates_with_example_and_strategy(toy_tokenizer):
    box = mask_explorer(RECORDS, toy_tokenizer, maskings=("none", "response", "template"))
    picker, _, strategy, out = box.children
    assert strategy.value == "response" and "Example 0: response only" in out.value
    before = out.value
    strategy.value = "template"
    assert out.value != before
    assert "Example 0 has no trained token" in out.value  # the seed template is never found
    picker.value = 1
    assert "Example 1 has no trained token" in out.value
    strategy.value = "none"
    assert "Example 1 trains on its prompt" in out.value


def test_explorer_example_can_be_picked_with_the_keyboard(toy_tokenizer):
    # A closed dropdown's arrow and letter keys are JupyterLab's notebook shortcuts
    # (ipywidgets#3912): in the browser, ↓ on it moved to the next cell and left the example
    # as it was. A number box keeps its keys: ↑/↓ or a typed number pick the example.
    picker, number, _, out = mask_explorer(RECORDS, toy_tokenizer).children
    assert number.description and (number.min, number.max) == (0, len(RECORDS) - 1)
    number.value = 1
    assert picker.value == 1 and "Example 1:" in out.value
    picker.value = 0  # the mouse's choice shows in the box too
    assert number.value == 0


def test_explorer_labels_only_the_example_shown(toy_tokenizer, monkeypatch):
    # A practitioner's 10k records took 27 s, silent, to show one example: every record was
    # labelled for each strategy picked. Now one record per (strategy, example), once.
    many = [{**r, "instruction": f"{r['instruction']} ({i})"}
            for i, r in enumerate(RECORDS * 100)]
    labelled = []

    def counting(records, *args, **kwargs):
        labelled.append(len(records))
        return label_examples(records, *args, **kwargs)

    monkeypatch.setattr(view_module, "label_examples", counting)
    box = mask_explorer(many, toy_tokenizer, maskings=("none", "response", "template"))
    picker, _, strategy, out = box.children
    for masking, i in (("response", 7), ("template", 7), ("none", 0), ("response", 7)):
        strategy.value, picker.value = masking, i
        whole = label_examples(many, toy_tokenizer, masking)[i]  # as labelled with all
        assert out.value == _explorer_html(many, i, whole, masking, toy_tokenizer, "one_line")
    # (response, 0) when opened, (response, 7), (template, 7), (none, 7), (none, 0); the
    # last two shown again from the cache.
    assert labelled == [1] * 5


def test_show_mask_with_a_model_overlays_its_losses(toy_model_dir, toy_tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(toy_model_dir)
    view = show_mask(RECORDS[0], toy_tokenizer, model=model)
    chips = view.examples[0].chips
    with_loss = [c.trained for c in chips if c.loss is not None and not math.isnan(c.loss)]
    assert with_loss == [True, True]  # " 4" and EOS, the trained tokens, have a loss
    assert all(c.loss > 0 for c in chips if c.trained)


RECORD = {"instruction": "What is 2+2?", "response": "4"}


@pytest.mark.parametrize("call", [show_mask, mask_explorer])
def test_swapped_records_and_tokenizer_say_the_order(toy_tokenizer, call):
    # Each was "'...Tokenizer' object is not iterable" from inside the labelling.
    with pytest.raises(CourseError, match=rf"Give {call.__name__} the records, then the "
                                          rf"tokenizer; got \w+ and list\."):
        call(toy_tokenizer, [RECORD])


@pytest.mark.parametrize("call", [show_mask, mask_explorer])
def test_a_data_set_name_is_not_read_letter_by_letter(toy_tokenizer, call):
    # Was "example 0: expected a JSON object, got str" (show_mask) or an AttributeError.
    with pytest.raises(CourseError, match=r"not the string 'course:train'; load a file or a set "
                                          r"such as 'course:train' first"):
        call("course:train", toy_tokenizer)


@pytest.mark.parametrize("call", [show_mask, mask_explorer])
def test_a_dataframe_shows_its_rows(toy_tokenizer, call):
    import pandas as pd

    # A DataFrame iterated over its column names: "expected a JSON object, got str".
    call(pd.DataFrame([RECORD, RECORD]), toy_tokenizer)


def test_mask_explorer_takes_one_record_as_show_mask_does(toy_tokenizer):
    box = mask_explorer(RECORD, toy_tokenizer)  # was list(dict): its keys, then "no .get"
    assert box.children[0].options[0][1] == 0 and len(box.children[0].options) == 1


@pytest.mark.parametrize("masking", ["prompt", True])
def test_an_unknown_masking_lists_the_strategies(toy_tokenizer, masking):
    with pytest.raises(CourseError, match=r"masking must be one of none, response, template, "
                                          r"trl, not "):
        show_mask(RECORD, toy_tokenizer, masking=masking)


@pytest.mark.parametrize(("model", "named"), [("tiny", "the string 'tiny'"),
                                              (None, "TokenizersBackend")])
def test_show_mask_model_must_be_a_model_object(toy_tokenizer, model, named):
    model = model or toy_tokenizer  # the tokenizer given as model=
    with pytest.raises(CourseError, match=rf"model must be the model object .*not {named}"):
        show_mask(RECORD, toy_tokenizer, model=model)


def test_mask_view_of_records_points_to_show_mask(toy_tokenizer):
    with pytest.raises(CourseError, match=r"for records, call show_mask\(records, tokenizer\)"):
        mask_view([RECORD], toy_tokenizer)  # was KeyError: 'input_ids'


@pytest.mark.parametrize(("titles", "said"), [(["a"], "1 titles"), ("ab", "one string")])
def test_mask_view_needs_one_title_per_example(toy_tokenizer, titles, said):
    examples = prepare_examples([RECORD, RECORD], toy_tokenizer).examples
    with pytest.raises(CourseError, match=f"titles holds {said} for 2 examples"):
        mask_view(examples, toy_tokenizer, titles=titles)  # was IndexError
