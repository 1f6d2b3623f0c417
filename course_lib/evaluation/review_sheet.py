"""The review sheet: one answer at a time, a 1-5 rating, problem flags, saved after each rating.

    >>> sheet = ReviewSheet(items, "runs/ratings.jsonl")    # doctest: +SKIP
    >>> sheet               # shows the sheet in a notebook  # doctest: +SKIP

Keyboard first: click the key box once, then type `4` or `2 w` and Enter for each item
(the box keeps the focus). What the box holds is saved as you type, once it is a rating:
closing the tab or running the next cell before Enter loses nothing; Enter goes on to the
next item. The buttons and tick boxes do the same with the mouse. The progress bar counts
rated items; reopening the sheet on the same file resumes where you stopped.
`sheet.rate(4, ["wrong"])` rates from code (what the tests do).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from course_lib.errors import CourseError
from course_lib.evaluation.review import (
    FLAGS,
    KEY_HELP,
    SHOWN,
    first_unrated,
    load_ratings,
    parse_keys,
    save_rating,
)
from course_lib.evaluation.uncertainty import items_given


class ReviewSheet:
    """Rate `items` (from review_items) into the JSONL file at `path`."""

    def __init__(self, items: Sequence[dict[str, Any]], path: str | Path, rater: str = "you"):
        items = items_given(items, "ReviewSheet(items, path)")  # `if not` of a DataFrame raised
        if not items:
            raise CourseError("Nothing to review; pass items from review_items(report).")
        self.items, self.path, self.rater = items, Path(path), rater
        self.ratings = load_ratings(self.path)
        self.position = first_unrated(self.items, self.ratings)
        self._build()
        self._show()

    # --- what the learner does ------------------------------------------------------------
    def rate(self, rating: int, flags: Sequence[str] = ()) -> None:
        """Save a rating of the current item at once, then move to the next unrated one."""
        self._save(rating, flags)
        self._next(f"saved: {rating} {', '.join(flags)}")

    def submit_keys(self, text: str) -> None:
        """What Enter in the key box does: '4', '2 w', ...; a typo is explained, not saved."""
        try:
            rating, flags = parse_keys(text)
            if not self._saved_as(rating, flags):  # typing saved it already: not twice
                self._save(rating, flags)
            self._next(f"saved: {rating} {', '.join(flags)}")
        except CourseError as err:
            self._show(str(err))

    def type_keys(self, text: str) -> None:
        """What typing in the key box does: once the text is a rating it is saved, and the
        sheet stays on the item (Enter moves on); half-typed keys wait for Enter."""
        try:
            rating, flags = parse_keys(text)
        except CourseError:
            return  # '2 x' on its way to '2 wx'? Enter says what is wrong
        if self._saved_as(rating, flags):  # '2 ' after '2': nothing new
            return
        try:
            self._save(rating, flags)
        except CourseError as err:  # could not be saved: said on the sheet
            self._show(str(err))
            return
        self._show(f"saved: {rating} {', '.join(flags)}; Enter for the next item")

    def move(self, step: int) -> None:
        """Go back or skip ahead without rating (`step` -1 or +1)."""
        self.position = max(0, min(len(self.items) - 1, self.position + step))
        self._show()

    @property
    def rated(self) -> int:
        return sum(item["key"] in self.ratings for item in self.items)

    def _save(self, rating: int, flags: Sequence[str]) -> None:
        """Append a rating of the current item to the file (the last one of an item wins)."""
        if self.position >= len(self.items):
            raise CourseError("Every item is rated; open a new sheet to review more.")
        item = self.items[self.position]
        self.ratings[item["key"]] = save_rating(self.path, item, rating, flags, self.rater)

    def _saved_as(self, rating: int, flags: Sequence[str]) -> bool:
        """Whether the current item's saved rating is this one."""
        if self.position >= len(self.items):
            return False
        old = self.ratings.get(self.items[self.position]["key"])
        return bool(old) and (old["rating"], old["flags"]) == (rating, list(flags))

    def _next(self, message: str) -> None:
        # The next unrated item after this one, else the first unrated one before it.
        order = [*range(self.position + 1, len(self.items)), *range(self.position)]
        self.position = next((i for i in order if self.items[i]["key"] not in self.ratings),
                             len(self.items))
        self._show(message)

    # --- the widgets --------------------------------------------------------------------
    def _build(self) -> None:
        """Make the sheet's widgets and connect them to its handlers."""
        self.progress = widgets.IntProgress(min=0, max=len(self.items), description="rated")
        self.status = widgets.HTML()
        self.card = widgets.HTML()
        # No star chosen at first: an item is never saved with a rating nobody gave.
        self.stars = widgets.ToggleButtons(options=[(str(i), i) for i in range(1, 6)],
                                           value=None, description="rating",
                                           style={"button_width": "40px"})
        self.flags = {name: widgets.Checkbox(description=f"{name} ({key})", indent=False,
                                             layout=widgets.Layout(width="auto"))
                      for key, name in FLAGS.items()}
        # As wide as the output, up to the usual 300 px: a fixed width ran past a zoomed page.
        # Every keystroke reaches the kernel (a rating is saved before Enter, so closing the
        # tab loses nothing); Enter comes as the box's 'submit' message.
        self.keys = widgets.Text(placeholder="e.g. 4 or 2 w, then Enter",
                                 description="keys", continuous_update=True,
                                 layout=widgets.Layout(width="100%", max_width="300px"))
        self.keys.observe(self._on_keys, "value")
        self.keys.on_msg(self._on_enter)
        save = widgets.Button(description="Save and next", button_style="primary")
        save.on_click(lambda _: self._save_from_buttons())
        back, skip = widgets.Button(description="Back"), widgets.Button(description="Skip")
        back.on_click(lambda _: self.move(-1))
        skip.on_click(lambda _: self.move(+1))
        # Rows wrap: on a zoomed page (~270 px of output at 200%) a row that does not wrap hides
        # its last flags and buttons past the edge, where a keyboard user's focus goes too.
        def row(children):
            return widgets.HBox(children, layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([
            row([self.progress, self.status]), self.card, self.stars,
            row(list(self.flags.values())), self.keys, row([save, back, skip]),
            widgets.HTML(f"<small>{html.escape(KEY_HELP)}</small>")])

    def _on_keys(self, change) -> None:
        if change["new"].strip():
            self.type_keys(change["new"])

    def _on_enter(self, _widget, content, _buffers) -> None:
        # The message ipywidgets 7 and 8 send on Enter (Text.on_submit, deprecated in 8).
        if content.get("event") != "submit" or not self.keys.value.strip():
            return
        self.submit_keys(self.keys.value)
        self.keys.value = ""
        # Ready for the next item's keys. focus() is new in ipywidgets 8; Colab has 7.7.
        if hasattr(self.keys, "focus"):
            self.keys.focus()

    def _save_from_buttons(self) -> None:
        if self.stars.value is None:
            self._show("choose a rating 1-5 first")
            return
        try:  # a widget's callback error goes to the Log Console, unseen: shown here
            self.rate(self.stars.value, [name for name, box in self.flags.items() if box.value])
        except CourseError as err:
            self._show(str(err))

    def _show(self, message: str = "") -> None:
        self.progress.value = self.rated
        done = self.rated == len(self.items)
        where = "all rated" if done else f"item {self.position + 1} of {len(self.items)}"
        # A live region: a screen reader reads out "saved: 4" or what was wrong with the keys.
        self.status.value = (f'<div role="status" aria-live="polite">{where} &middot; '
                             f"{self.rated} rated, saved to "
                             f"<code>{html.escape(str(self.path))}</code>"
                             + (f" &middot; <i>{html.escape(message)}</i>" if message else "")
                             + "</div>")
        item = self.items[min(self.position, len(self.items) - 1)]
        rows = "".join(
            f"<tr><th style='text-align:right;vertical-align:top'>{name}</th><td><pre "
            f"style='margin:0;white-space:pre-wrap'>{html.escape(str(item.get(name) or '-'))}"
            f"</pre></td></tr>" for name in SHOWN if name != "input" or item.get("input"))
        self.card.value = f"<table>{rows}</table>"
        old = self.ratings.get(item["key"])
        self.stars.value = old["rating"] if old else None
        for name, box in self.flags.items():
            box.value = bool(old) and name in old["flags"]

    def _ipython_display_(self) -> None:
        # Not _repr_mimebundle_: ipywidgets 7 (Colab's) widgets have none; display() has both.
        display(self.widget)
