"""Every figure the library returns shows as an image, with alt text, in a fresh kernel.

JupyterLab shows a bare matplotlib Figure made without pyplot as the text
`<Figure size 1100x420 with 2 Axes>` until pyplot has drawn once in that kernel. IPython's
display formatter in a fresh InteractiveShell is what decides: it must produce the image.
"""

import base64
import html
import json
import re
import warnings

import matplotlib.pyplot as plt
import pytest
from IPython.core.interactiveshell import InteractiveShell

from course_lib.display import (
    captured_logs,
    figure_alt,
    figure_png,
    log_loss_axis,
    new_figure,
    say_empty,
    token_texts,
    visible,
)
from course_lib.errors import CourseError
from course_lib.evaluation.compare import compare_runs
from course_lib.evaluation.inspect_model import NextTokens, plot_next_tokens
from course_lib.formatting.stats import plot_data_mix
from course_lib.masking.view import show_mask
from course_lib.training.history import RunHistory
from course_lib.training.plots import plot_history
from course_lib.world.stand_in import sentencepiece_tokenizer

PNG = b"\x89PNG\r\n\x1a\n"


def history(masking: str) -> RunHistory:
    h = RunHistory(model="toy", masking=masking, max_steps=40)
    for step in range(1, 41):
        h.add_train_loss(step, 11.0 / step)
    for step in (0, 10, 20, 30, 40):
        h.add_eval(step, 11.0 / (step + 1), step / 40)
    return h


def figures(tokenizer):
    """Every figure-returning function of the library, called once."""
    top = NextTokens("2 + 2 =", [5, 6], ["·4", "·5"], [0.9, 0.05])
    records = [{"instruction": "What is 2+2?", "response": "4"}]
    return {
        "plot_history": plot_history(history("response")),
        "compare_runs": compare_runs([history("response"), history("none")]),
        "plot_next_tokens": plot_next_tokens([top, top]),
        "plot_data_mix": plot_data_mix(records),
        "MaskView.to_figure": show_mask(records, tokenizer).to_figure(),
    }


@pytest.fixture(scope="module")
def shell():
    return InteractiveShell.instance()


IMG = re.compile(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)">')


def stored(formats: dict) -> str:
    """A display's forms as a saved notebook holds them (bytes as base64, as the kernel sends)."""
    return json.dumps({k: base64.b64encode(v).decode() if isinstance(v, bytes) else v
                       for k, v in formats.items()})


def test_every_library_figure_displays_as_an_image_in_a_fresh_shell(shell, toy_tokenizer):
    for name, fig in figures(toy_tokenizer).items():
        formats, _ = shell.display_formatter.format(fig)
        assert not formats["text/plain"].startswith("<Figure"), f"{name} would show as text"
        found = IMG.fullmatch(formats.get("text/html", ""))
        assert found and base64.b64decode(found[1]).startswith(PNG), name


def test_every_library_figure_shows_with_alt_text_saying_what_it_shows(shell, toy_tokenizer):
    # JupyterLab 4 draws an image/png output as an <img> with no alt text (its renderImage
    # reads no alt from the metadata): a screen reader says nothing of it. The text/html form
    # (JupyterLab and Colab prefer it) is the PNG with its alt; text/plain says it in words.
    for name, fig in figures(toy_tokenizer).items():
        formats, _ = shell.display_formatter.format(fig)
        found = IMG.fullmatch(formats.get("text/html", ""))
        assert found, f"{name} shows as an image with no alt text"
        assert formats["text/plain"] == html.unescape(found[2]), name
        for ax in fig.axes:  # every panel's title is said
            title = ax.get_title() or ax.get_title("left")
            assert html.escape(title.replace("\n", " ")) in found[2], (name, title)


def test_a_saved_figure_holds_its_png_once(shell, toy_tokenizer):
    # An image/png form beside the <img> with alt text saved every figure's bytes twice.
    for name, fig in figures(toy_tokenizer).items():
        formats, _ = shell.display_formatter.format(fig)
        saved = stored(formats)
        assert saved.count(base64.b64encode(PNG[:6]).decode()) == 1, (name, list(formats))
        found = IMG.fullmatch(formats.get("text/html", ""))
        assert found and found[2].startswith("Figure. "), name  # the alt text stays


def test_figure_alt_says_titles_axes_legend_bar_labels_and_notes():
    fig = new_figure()
    fig.suptitle("Two runs")
    loss, arms, empty = fig.subplots(1, 3)
    loss.plot([0, 1], [2, 1], label="masked")
    loss.plot([0, 10, 20, 30], [3, float("nan"), 0.52, 2], "--", label="unmasked")
    loss.set(title="loss", xlabel="step", ylabel="nats")
    loss.legend()
    arms.bar([0, 1], [0.5, 0.7])
    arms.scatter([0, 0.1], [0.45, 0.55])  # one dot per seed
    arms.axhline(0.98, label="untuned model")
    arms.set_xticks([0, 1], ["arm A", "arm B"])  # what each bar is; numbered ticks are not
    say_empty(empty, "no held-out data given")
    fig.text(0.5, 0, "Compare the right panel.")
    assert figure_alt(fig) == (
        "Figure. Two runs. Panel 1: loss; x: step; y: nats; legend: masked, unmasked; "
        # What the data say too: where each line starts and ends, and its lowest between.
        "masked: 2 at 0 to 1 at 1; unmasked: 3 at 0 to 2 at 30, lowest 0.52 at 20. "
        "Panel 2: x labels: arm A, arm B; untuned model: 0.98 across; bars: 0.5, 0.7; "
        "dots: 0.45 0.55. Panel 3: no held-out data given. Compare the right panel.")


def test_library_figures_do_not_go_through_pyplot(toy_tokenizer):
    # pyplot would show each figure a second time at the end of the cell, and keep it alive.
    before = plt.get_fignums()
    figures(toy_tokenizer)
    assert plt.get_fignums() == before


def test_loss_axis_is_logarithmic_with_plain_labels():
    ax = new_figure().subplots()
    ax.plot([0, 40], [11.0, 0.3])
    log_loss_axis(ax, [11.0, 0.3])
    assert ax.get_yscale() == "log"
    ax.figure.canvas.draw()
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert {"0.5", "1", "2", "5", "10"} <= labels  # not 10^0, 10^1
    linear = new_figure().subplots()
    log_loss_axis(linear, [0.0, 1.0])  # a zero cannot go on a log axis
    assert linear.get_yscale() == "linear"


@pytest.mark.parametrize(("values", "scale"), [
    ([float("nan"), 0.0, 1.0], "linear"),  # a NaN first must not hide the zero
    ([float("nan")], "linear"),  # nothing measured: no log axis
    ([float("nan"), 2.0, 0.5], "log"),
])
def test_a_nan_loss_is_no_value_for_the_loss_axis(values, scale):
    ax = new_figure().subplots()
    log_loss_axis(ax, values)
    assert ax.get_yscale() == scale
    assert ax.get_ylabel() == ("loss (nats, log scale)" if scale == "log" else "loss (nats)")


def test_tokens_show_spaces_as_a_middle_dot(toy_tokenizer):
    ids = toy_tokenizer("What is 2+2?", add_special_tokens=False)["input_ids"]
    texts = token_texts(toy_tokenizer, ids)
    assert "".join(texts) == visible("What is 2+2?")
    assert not any("Ġ" in t for t in texts) and "·is" in texts


@pytest.mark.parametrize("style", ["llama-2", "gemma"])
def test_a_sentencepiece_token_keeps_its_space(style):
    # Llama's tokenizer drops the "▁" of a token decoded alone: "▁4" read "4", "▁" nothing.
    tok = sentencepiece_tokenizer(style)
    ids = tok("Response: 4  x", add_special_tokens=False)["input_ids"]
    assert "".join(token_texts(tok, ids)).lstrip("·") == visible("Response: 4  x")


@pytest.mark.parametrize("style", ["llama-2", "gemma"])
def test_a_control_byte_token_is_written_as_python_writes_it(style):
    # Llama's byte fallback '<0x17>' decodes to '\x17': lesson 01's table printed it blank.
    tok = sentencepiece_tokenizer(style)
    ids = tok.convert_tokens_to_ids(["<0x17>", "<0x7F>", "<0x41>"])
    assert token_texts(tok, ids) == ["\\x17", "\\x7f", "A"]
    top = NextTokens(text="x", token_ids=ids, tokens=token_texts(tok, ids), probs=[0.5, 0.3, 0.2])
    assert all(line.isprintable() for line in str(top).splitlines())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph the font lacks warns ("Glyph 9216 missing")
        ax = top.plot()
        figure_png(ax.figure)
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["A", "\\x17", "\\x7f"]


@pytest.mark.parametrize(("text", "shown"), [
    ("café", ["c", "a", "f", "é", "⋯"]),  # 'é' is 2 byte tokens, the last ones of the text
    ("日", ["日", "⋯", "⋯"]),  # 3 byte tokens: the whole text
    ("日 ok", ["日", "⋯", "⋯", "·", "o", "k"]),
])
def test_a_character_of_several_byte_tokens_is_shown_once_even_at_the_end(toy_tokenizer, text,
                                                                          shown):
    ids = toy_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(shown)  # the toy BPE has no merge for these bytes
    assert token_texts(toy_tokenizer, ids) == shown


@pytest.mark.parametrize(("ids", "says"), [
    ("What is 2+2?", r"ids must be token ids, not the string 'What is 2\+2\?'; give "
                     r"tokenizer\(text\)\['input_ids'\]"),
    ({"input_ids": [1, 2], "attention_mask": [1, 1]}, "not the tokenizer's whole output"),
    ([[1, 2], [3, 4]], r"not a batch of them; give one row, such as ids\[0\]"),
])
def test_token_texts_names_ids_of_the_wrong_shape(toy_tokenizer, ids, says):
    # Each was a raw "invalid literal for int()" or "not iterable" from inside the loop.
    with pytest.raises(CourseError, match=says):
        token_texts(toy_tokenizer, ids)


def test_token_texts_with_swapped_arguments_says_the_order(toy_tokenizer):
    with pytest.raises(CourseError, match=r"Give the tokenizer, then the ids"):
        token_texts([1, 2], toy_tokenizer)


def test_library_warnings_become_output_not_stderr():
    import io
    import logging

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_warning()  # a fresh kernel's level (the CLI tests lower it)
    log = hf_logging.get_logger("transformers.course_test")
    # transformers' own stderr handler (pytest adds capture handlers of its own beside it)
    [stderr_handler] = [h for h in logging.getLogger("transformers").handlers
                        if type(h) is logging.StreamHandler]
    shown = io.StringIO()
    old = stderr_handler.setStream(shown)  # what the notebook would print in red
    try:
        log.warning("shown in red")
        with captured_logs() as messages:
            log.warning("the point of the demo")
        log.warning("in red again")
    finally:
        stderr_handler.setStream(old)
    assert messages == ["the point of the demo"]
    assert "shown in red" in shown.getvalue() and "in red again" in shown.getvalue()
    assert "the point of the demo" not in shown.getvalue()


def test_figure_alt_says_each_models_bars_and_not_their_error_caps():
    ax = new_figure().subplots()
    for x, heights, model in ((0, [0.2, float("nan")], "base"), (0.3, [0.9, 0.5], "masked")):
        ax.bar([x, x + 1], heights, 0.3, yerr=[0.1, 0.1], capsize=2, label=model)
    assert figure_alt(ax.figure) == "Figure. Panel 1: bars base: 0.2, n/a; bars masked: 0.9, 0.5."
