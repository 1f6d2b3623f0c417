"""How the course shows things: figures as images, and tokens with their spaces visible.

Figures. A plain matplotlib `Figure` made without pyplot has no image form of its own: in a
fresh Jupyter kernel, where pyplot has not drawn yet, JupyterLab shows the text
`<Figure size 1100x420 with 2 Axes>` instead of the picture. Every figure the course returns
is a `CourseFigure`, which carries its own PNG, so the last line of a cell shows the image in
JupyterLab, Colab and nbclient alike. Nothing goes through pyplot, so nothing is drawn twice
and no figure leaks into the next cell. A notebook shows it with alt text that says in words
what it shows (`figure_alt`: titles, axes, legend, notes, and what the lines, bars and dots
say), for learners with a screen reader.

    >>> fig = new_figure(figsize=(4, 2))
    >>> ax = fig.subplots()
    >>> sorted(fig._repr_mimebundle_())
    ['text/html', 'text/plain']

Tokens. A byte-level BPE vocabulary stores a leading space as `Ġ` (`ĠParis`); the course
shows every token as the text it decodes to, with `·` for a space and `↵` for a newline:

    >>> visible(" Paris\\n")
    '·Paris↵'

Library warnings. `captured_logs` collects what a library logs (transformers' warnings) so
a lesson can print it as part of its output, with prose around it, instead of an
unexplained red block on stderr.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from matplotlib.category import StrCategoryLocator
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullFormatter,
    ScalarFormatter,
)

from course_lib.errors import CourseError, shown

VISIBLE_WHITESPACE = {" ": "·", "\n": "↵", "\t": "→", "\r": "␍"}


def visible(text: str) -> str:
    """Make whitespace visible: visible(" a\\n") == "·a↵". A character that prints as nothing
    else is written as Python writes it ('\\x17'): Llama's byte token '<0x17>' printed blank."""
    return "".join(VISIBLE_WHITESPACE.get(ch) or (ch if ch.isprintable() else repr(ch)[1:-1])
                   for ch in text)


CONTINUED = "⋯"  # the chip of a byte token that continues the character shown before it


def _token_ids(tokenizer, ids: Any) -> list[int]:
    """token_texts' ids as ints, or one sentence: a text, a BatchEncoding or a batch were
    "invalid literal for int()", swapped arguments "not iterable"."""
    if not hasattr(tokenizer, "convert_ids_to_tokens"):
        raise CourseError(f"Give the tokenizer, then the ids: token_texts(tokenizer, ids); got "
                          f"{type(tokenizer).__name__} and {type(ids).__name__}.")
    if isinstance(ids, str | Mapping):
        what = shown(ids) if isinstance(ids, str) else "the tokenizer's whole output"
        raise CourseError(f"ids must be token ids, not {what}; give "
                          f"tokenizer(text)['input_ids'].")
    ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)  # a tensor, an array, a list
    if any(isinstance(i, Iterable) for i in ids):
        raise CourseError("ids must be the token ids of one text, not a batch of them; give "
                          "one row, such as ids[0].")
    return [int(i) for i in ids]


def token_texts(tokenizer, ids: Sequence[int]) -> list[str]:
    """Each token as the text it decodes to, whitespace made visible.

    A character written in several byte tokens ('é' = 'Ã' + '©'; every Cyrillic or CJK
    character of a byte-level BPE trained on English) is shown on its first token and its
    other tokens as '⋯', so non-Latin text stays readable. A stray byte keeps the tokenizer's
    own piece (e.g. 'Ã'). A SentencePiece token keeps its space ('▁4' is '·4'), as it does
    in a byte-level BPE ('Ġ4').
    """
    ids = _token_ids(tokenizer, ids)
    raw = tokenizer.convert_ids_to_tokens(ids)
    texts: list[str] = []
    while len(texts) < len(ids):
        i = len(texts)
        text = tokenizer.decode([ids[i]], skip_special_tokens=False)
        # A SentencePiece token's "▁" is its space; decoded alone, Llama's drops it ("▁4": "4").
        if raw[i].startswith("\u2581") and not text.startswith(" "):
            text = " " + text
        if "\ufffd" not in text:
            texts.append(visible(text))
            continue
        # The shortest run of tokens from here that decodes whole (UTF-8: at most 4 bytes).
        for j in range(i + 2, min(i + 4, len(ids)) + 1):
            whole = tokenizer.decode(ids[i:j], skip_special_tokens=False)
            if "\ufffd" not in whole:
                texts += [visible(whole)] + [CONTINUED] * (j - i - 1)
                break
        else:
            texts.append(raw[i])
    return texts


class CourseFigure(Figure):
    """A matplotlib Figure that IPython displays as a PNG with alt text (a Picture)."""

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # No _repr_png_: IPython would add its PNG beside the <img>, saved twice.
        # bbox_inches="tight": the picture IPython's own inline backend would show.
        png = figure_png(self, dpi=100, tight=True)
        return Picture(png, figure_alt(self))._repr_mimebundle_()


@dataclass(frozen=True)
class Picture:
    """A PNG and what it shows in words, as an <img> with alt text (text/html) and the words
    alone (text/plain, for a terminal or a reader of the saved file).

    No image/png form: JupyterLab 4 draws one as an <img> with no alt text (its renderImage
    reads no alt from the output's metadata), and beside the <img> it saved every figure's
    bytes twice in the notebook. JupyterLab, Colab and VS Code show the text/html form."""

    png: bytes
    alt: str

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        data = base64.b64encode(self.png).decode("ascii")
        tag = f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}">'
        return {"text/html": tag, "text/plain": self.alt}


def figure_alt(fig: Figure) -> str:
    """The figure in words, for a screen reader: its title, each panel's title, axes and
    legend, what its data say (_data_said), and the notes written on it.

        >>> fig = new_figure()
        >>> ax = fig.subplots()
        >>> _ = ax.plot([0, 1], [2, 1], label="loss")
        >>> _ = ax.set(xlabel="step", ylabel="nats")
        >>> _ = ax.legend()
        >>> figure_alt(fig)
        'Figure. Panel 1: x: step; y: nats; legend: loss; loss: 2 at 0 to 1 at 1.'
    """
    said = [fig.get_suptitle()] if fig.get_suptitle() else []
    for i, ax in enumerate(fig.axes, 1):
        # A panel may title itself at the left or right (loc=), not only in the centre.
        parts = [ax.get_title(loc) for loc in ("left", "center", "right") if ax.get_title(loc)]
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.get_label_text():
                parts.append(f"{name}: {axis.get_label_text()}")
            # Tick labels the code gave (arms, metrics, tokens) say what each bar is; numbers
            # on a scale (a ScalarFormatter's) would only read out the axis.
            ticks = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
            if (ticks and isinstance(axis.get_major_locator(), FixedLocator | StrCategoryLocator)
                    and not isinstance(axis.get_major_formatter(), ScalarFormatter)):
                parts.append(f"{name} labels: {', '.join(ticks)}")
        legend = ax.get_legend()
        if legend is not None:
            parts.append("legend: " + ", ".join(t.get_text() for t in legend.get_texts()))
        parts += _data_said(ax)
        # Notes in the panel's own coordinates (say_empty's "no loss logged yet").
        parts += [t.get_text() for t in ax.texts if t.get_transform() == ax.transAxes]
        said.append(f"Panel {i}: " + "; ".join(p.replace("\n", " ") for p in parts) if parts
                    else f"Panel {i}")
    # Notes under the figure (fig.texts holds the title too: said once).
    said += [t.get_text() for t in fig.texts if t.get_text() != fig.get_suptitle()]
    return "Figure. " + " ".join(s.replace("\n", " ").rstrip(".") + "." for s in said)


def _data_said(ax) -> list[str]:
    """What a panel's data say, not only what its axes are: each line from its first point to
    its last (and its lowest between), each set of bars' heights and each set of dots' values,
    in the order drawn (bars and dots in the order of the x labels said before them)."""
    said = []
    # Not the caps of error bars: unlabelled markers with no line between them.
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) and not (
        line.get_label().startswith("_") and line.get_linestyle() == "None")]
    for i, line in enumerate(lines, 1):
        points = [(x, y) for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
                  if y == y]  # NaN: a step with nothing measured
        if not points:
            continue
        label = line.get_label().splitlines()[0]  # a legend entry's first line names it
        name = label if not label.startswith("_") else "line" if len(lines) == 1 else f"line {i}"
        (x0, y0), (x1, y1) = points[0], points[-1]
        if all(y == y0 for _, y in points):  # a level to compare with (axhline), not a curve
            said.append(f"{name}: {_num(y0)} across")
            continue
        low = min(points, key=lambda p: p[1])
        lowest = f", lowest {_num(low[1])} at {_num(low[0])}" if y0 > low[1] < y1 else ""
        said.append(f"{name}: {_num(y0)} at {_num(x0)} to {_num(y1)} at {_num(x1)}{lowest}")
    bars: dict[str, list[str]] = {}  # a set of bars per label; one bar per call is one set
    for drawn in ax.containers:
        label = str(drawn.get_label())
        values = getattr(drawn, "datavalues", ())
        bars.setdefault("" if label.startswith("_") else f" {label}", []).extend(map(_num, values))
    said += [f"bars{label}: {', '.join(values)}" for label, values in bars.items() if values]
    # Scatter dots (one per seed in an experiment's figure) are read by their y values.
    dots = [c.get_offsets() for c in ax.collections if type(c).__name__ == "PathCollection"]
    if dots:
        said.append("dots: " + "; ".join(" ".join(_num(y) for _, y in d) for d in dots))
    return said


def _num(value) -> str:
    """A number as a reader hears it: three significant digits; n/a for none."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "n/a" if number != number else f"{number:.3g}"


def new_figure(**kwargs) -> CourseFigure:
    """A CourseFigure (matplotlib's Figure keywords: figsize, layout, ...), no pyplot."""
    return CourseFigure(**kwargs)


def figure_png(fig: Figure, dpi: int = 80, tight: bool = False) -> bytes:
    """The figure as PNG bytes (for a live display, a file or a test)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buffer.getvalue()


# Okabe-Ito: told apart with every common colour-vision deficiency; series that colour alone
# would separate get a second cue too (a hatch, a line style or a marker).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")


# Text in an HTML output follows the notebook's theme (JupyterLab, then Colab, then VS Code):
# a fixed colour that reads on a light page can fall under 4.5:1 contrast on a dark one.
THEME_TEXT = ("var(--jp-content-font-color1, var(--colab-primary-text-color, "
              "var(--vscode-editor-foreground, #1f2937)))")
THEME_TEXT2 = ("var(--jp-content-font-color2, var(--colab-secondary-text-color, "
               "var(--vscode-descriptionForeground, #4b5563)))")
THEME_ERROR = "var(--jp-error-color1, #b91c1c)"


def say_empty(ax, text: str, keep_ticks: bool = False) -> None:
    """An axes with nothing to draw says why, in grey, instead of showing blank axes
    (keep_ticks: a live plot's step axis, which its points fill in later)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4",
            fontsize=9)
    if not keep_ticks:
        ax.set(xticks=[], yticks=[])


def log_loss_axis(ax, values: Iterable[float]) -> None:
    """A logarithmic loss axis with plain tick labels (0.2, 0.5, 1, 2, 5, 10).

    A loss falls from ~11 to below 1 within a few dozen steps: on a linear axis everything
    after the first step is a flat line near 0. Values <= 0 (none expected) keep it linear.
    """
    values = [v for v in values if v == v]  # NaN (a batch with nothing to grade) is no value
    if not values or min(values) <= 0:
        ax.set_ylabel("loss (nats)")
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("loss (nats, log scale)")  # cross-entropy with the natural log


def in_notebook() -> bool:
    """True inside a Jupyter or Colab kernel (HTML and display updates work there), False in
    a terminal, plain Python or IPython in a terminal (no kernel: text, like Python)."""
    try:
        from IPython import get_ipython  # deferred: IPython is not needed outside notebooks
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


@contextmanager
def captured_logs(name: str = "transformers") -> Iterator[list[str]]:
    """Collect the messages logged under `name` in the block, instead of printing them.

        >>> with captured_logs("demo") as messages:
        ...     logging.getLogger("demo.part").warning("careful")
        >>> messages
        ['careful']
    """
    logger = logging.getLogger(name)
    messages: list[str] = []
    collect = logging.Handler()
    collect.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    saved = logger.handlers[:]
    logger.handlers = [collect]  # the library's own stderr handler is off for the block
    try:
        yield messages
    finally:
        logger.handlers = saved
