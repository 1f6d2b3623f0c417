"""What an experiment measured: per arm and metric, one value per seed; medians, spreads, verdicts.

    >>> from course_lib.experiments.design import EXACT_MATCH, Arm, ArmRun
    >>> from course_lib.experiments.catalogue import EXPERIMENTS
    >>> def run(*right):
    ...     return ArmRun([{"reference": "4", "exact_match": r} for r in right])
    >>> runs = {"response only": [run(1, 1, 0, 0), run(1, 1, 1, 0)],
    ...         "every token": [run(0, 0, 1, 0), run(1, 0, 0, 0)]}
    >>> experiment = EXPERIMENTS["wrong-collator"]
    >>> result = ExperimentResult(experiment, list(experiment.arms), [0, 1], 40, "tiny", runs)
    >>> result.values(EXACT_MATCH)
    {'response only': [0.5, 0.75], 'every token': [0.25, 0.25]}
    >>> print(result.verdict("every token", EXACT_MATCH))  # doctest: +NORMALIZE_WHITESPACE
    every token vs response only, exact match: 0.62 -> 0.25 (-0.38, 1.5 of 4):
    worse, beyond the spread over seeds

A difference is called real only when the two arms' ranges over the seeds do not overlap
(uncertainty.within_seed_spread); with three seeds that is a hint, not a proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from course_lib.errors import CourseError, is_whole, shown
from course_lib.evaluation.generation import AnswerTable, chosen_rows
from course_lib.evaluation.uncertainty import Rate, Spread, median_spread, within_seed_spread
from course_lib.experiments.design import Arm, ArmRun, Experiment, Metric
from course_lib.experiments.view import (
    count_range,
    result_figure,
    result_html,
    result_table,
)


def value_of(measured: Rate | float) -> float:
    return measured.value if isinstance(measured, Rate) else float(measured)


@dataclass(frozen=True)
class Verdict:
    """One variant against the baseline on one metric.

    `counts`: how many answers each seed's value counts, (the baseline's, the variant's); None
    for a time. `n` is their one count when every run of both arms counts the same.
    """

    arm: str
    baseline_arm: str
    metric: Metric
    baseline: Spread
    variant: Spread
    counts: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    @property
    def n(self) -> int | None:
        """The answers every value of both arms counts; None for a time, or counts that differ."""
        every = {n for arm in self.counts or () for n in arm}
        return every.pop() if len(every) == 1 else None

    @property
    def difference(self) -> float:
        return self.variant.median - self.baseline.median

    @property
    def within_spread(self) -> bool:
        return within_seed_spread([self.baseline.low, self.baseline.high],
                                  [self.variant.low, self.variant.high])

    @property
    def better(self) -> bool | None:
        """True/False when the ranges do not overlap (in the metric's good direction); else None.

        None too with a single seed: one run per arm has no spread to compare with.
        """
        if self.within_spread or min(self.baseline.n, self.variant.n) < 2:
            return None
        return (self.difference > 0) == self.metric.higher_is_better

    def in_answers(self) -> str:
        """', 13 of 216': the difference in answers, when both arms count the same answers;
        '; n=216 -> 180' when they count different ones (a share of 180 is no count of 216);
        '' for a time."""
        if self.counts is None:
            return ""
        if self.n is not None:  # +0.02 of 56 is one answer, which a narrow spread calls real
            return f", {round(abs(self.difference) * self.n, 1):g} of {self.n}"
        return f"; n={count_range(self.counts[0])} -> {count_range(self.counts[1])}"

    def __str__(self) -> str:
        if min(self.baseline.n, self.variant.n) < 2:
            outcome = "one seed only: no spread to compare with; run more seeds"
        elif self.within_spread:
            outcome = "within the spread over seeds: no difference measured"
        else:
            outcome = f"{'better' if self.better else 'worse'}, beyond the spread over seeds"
            if self.metric.timed:  # seconds on a machine that runs other things too
                outcome += " (a time: it moves with the machine's load; time it alone)"
        # Medians that differ but round alike (1 answer of 298) get a third decimal: the line
        # must not read "0.00 -> 0.00 (+0.00): worse".
        places = 3 if self.difference and (
            f"{self.baseline.median:.2f}" == f"{self.variant.median:.2f}") else 2
        return (f"{self.arm} vs {self.baseline_arm}, {self.metric.label}: "
                f"{self.baseline.median:.{places}f} -> {self.variant.median:.{places}f} "
                f"({self.difference:+.{places}f}{self.in_answers()}): {outcome}")


@dataclass
class ExperimentResult:
    """Every arm's runs (one per seed) and what the table, the figure and the JSON show."""

    experiment: Experiment
    arms: list[Arm]
    seeds: list[int]
    steps: int
    model: str
    runs: dict[str, list[ArmRun]]  # arm name -> one run per seed, in seed order
    base_statements: list[bool] = field(default_factory=list)

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return self.experiment.metrics

    def metric(self, metric: Metric | str) -> Metric:
        """A Metric as given, or this experiment's metric with that key ("exact_match")."""
        if isinstance(metric, Metric):  # any metric: cached answers can be measured anew
            return metric
        keys = {m.key: m for m in self.metrics}
        if isinstance(metric, str) and metric in keys:
            return keys[metric]
        raise CourseError(f"metric must be a Metric (course_lib.experiments.design) or the key "
                          f"of one of this experiment's: {', '.join(keys)}; not {shown(metric)}.")

    def arm_named(self, arm: str) -> str:
        """`arm`, if this experiment has an arm of that name (was a KeyError)."""
        if arm not in self.runs:
            raise CourseError(f"This experiment has no arm called {arm!r}; its arms: "
                              f"{', '.join(map(repr, self.runs))}.")
        return arm

    def measured(self, metric: Metric | str) -> dict[str, list[Rate | float]]:
        """{arm: what the metric measured in each seed's run}: a Rate (k/n), or a time."""
        metric = self.metric(metric)
        return {arm.name: [self._measure(metric, arm.name, i)
                           for i in range(len(self.runs[arm.name]))] for arm in self.arms}

    def _measure(self, metric: Metric, arm: str, i: int) -> Rate | float:
        """One run measured; a metric's error names the run (a rate over the answers an arm
        gave at all, when that arm gave none, said only 'got k=0, n=0')."""
        try:
            return metric.measure(self.runs[arm][i])
        except CourseError as err:
            raise CourseError(f"Metric {metric.key!r}, arm {arm!r}, seed {self.seeds[i]}: "
                              f"{err}") from None

    def values(self, metric: Metric | str) -> dict[str, list[float]]:
        """{arm: the metric's value for each seed}."""
        return {arm: list(map(value_of, measured))
                for arm, measured in self.measured(metric).items()}

    def spread(self, arm: str, metric: Metric | str) -> Spread:
        return median_spread(self.values(metric)[self.arm_named(arm)])

    def counts(self, metric: Metric | str) -> dict[str, list[int]] | None:
        """{arm: how many answers each seed's value counts}; None for a time (no answers).

        The course's metrics count the same questions in every run; a metric of your own may
        not (a rate over the answers an arm gave at all), and a share of 180 is no share of 216.
        """
        measured = self.measured(metric)
        if not all(isinstance(m, Rate) for runs in measured.values() for m in runs):
            return None
        return {arm: [m.n for m in runs] for arm, runs in measured.items()}

    def counted(self, metric: Metric | str) -> int | None:
        """How many answers one value counts, when every seed of every arm counts the same;
        None for a time, and for counts that differ (counts() has each of them)."""
        every = {n for runs in (self.counts(metric) or {}).values() for n in runs}
        return every.pop() if len(every) == 1 else None

    def verdict(self, arm: str, metric: Metric | str) -> Verdict:
        base, metric = self.arms[0].name, self.metric(metric)
        counts = self.counts(metric)
        return Verdict(arm, base, metric, self.spread(base, metric), self.spread(arm, metric),
                       None if counts is None else (tuple(counts[base]), tuple(counts[arm])))

    def verdicts(self) -> list[Verdict]:
        """Every variant against the baseline, on every metric."""
        return [self.verdict(arm.name, metric) for arm in self.arms[1:] for metric in self.metrics]

    @property
    def base_knowledge(self) -> Rate | None:
        """The untuned model's statement-form knowledge (what tuning may keep or lose)."""
        return Rate.of(self.base_statements) if self.base_statements else None

    @property
    def cached_runs(self) -> int:
        return sum(run.cached for runs in self.runs.values() for run in runs)

    def answers(self, keep=None, arm: str | None = None, seed_index: int = 0,
                limit: int | None = 8, template: str | None = None) -> AnswerTable:
        """Each arm's answers (one seed) to the questions `keep(row)` selects, side by side.

        `keep` sees the rows of `arm` (default: the baseline), so it can pick questions by
        that arm's answers: keep=lambda r: r["response"].startswith("Well"), arm="50% poor".
        """
        template = template or self.experiment.templates[0]
        if arm is not None:
            self.arm_named(arm)
        if not is_whole(seed_index) or not 0 <= seed_index < len(self.seeds):  # an IndexError
            raise CourseError(f"seed_index is the position of a seed in {self.seeds}: 0 to "
                              f"{len(self.seeds) - 1}, not {shown(seed_index)}.")
        first = self.runs[self.arms[0].name][seed_index].rows
        judged = self.runs[arm or self.arms[0].name][seed_index].rows
        chosen = chosen_rows(judged, keep, template, limit)
        prompts = [f"[{first[i]['style']}] {first[i]['instruction']}" if first[i].get("style")
                   else first[i]["instruction"] for i in chosen]
        columns = {arm.name: [self.runs[arm.name][seed_index].rows[i]["response"]
                              for i in chosen] for arm in self.arms}
        columns["reference"] = [first[i]["reference"] or "-" for i in chosen]
        inputs = [first[i]["input"] for i in chosen]
        return AnswerTable(prompts, columns, None, inputs if any(inputs) else None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the experiment's texts, settings, every seed's value, the verdicts.

        metrics[key]["n"] is how many answers one value counts (0.5 of 4 and 0.5 of 400 are
        different claims), when every seed of every arm counts the same; null for a time, and
        null when the counts differ: then each arm's "n" lists its seeds' counts, in the order
        of its "values" (an arm has no "n" otherwise).
        """
        e = self.experiment
        metrics = {}
        for metric in self.metrics:
            # Every seed's value, not just the median: a reader can redo the verdicts from the JSON.
            values, counts, n = self.values(metric), self.counts(metric), self.counted(metric)
            metrics[metric.key] = {
                "label": metric.label, "higher_is_better": metric.higher_is_better, "n": n,
                "arms": {arm: _arm_summary(v) | ({"n": counts[arm]} if counts and n is None
                                                 else {}) for arm, v in values.items()}}
        return {
            # The texts and settings travel with the numbers, so the file makes sense on its own.
            "experiment": e.name, "title": e.title, "claim": e.claim,
            "hypothesis": e.hypothesis, "note": e.note, "model": self.model,
            "seeds": self.seeds, "steps": self.steps, "questions": e.eval_data,
            "templates": list(e.templates),
            "arms": [{"name": a.name, "change": a.change, "settings": a.train_settings()}
                     for a in self.arms],
            "metrics": metrics,
            # The verdicts as the table words them, so the JSON and the printout never disagree.
            "verdicts": [str(v) for v in self.verdicts()],
            "base_statement_knowledge": self.base_knowledge.value if self.base_statements
            else None,
            # Times of the original runs; cached_runs says how many were read back, not rerun.
            "train_seconds": {a.name: [r.train_seconds for r in self.runs[a.name]]
                              for a in self.arms},
            "cached_runs": self.cached_runs,
        }

    def __repr__(self) -> str:
        return (f"ExperimentResult({self.experiment.name!r}, arms={[a.name for a in self.arms]}, "
                f"seeds={self.seeds}, steps={self.steps}, model={self.model!r})")

    def table(self) -> str:
        return result_table(self)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        return result_html(self)

    def to_figure(self):
        """One panel per metric: each arm's median (a bar) and every seed (a dot)."""
        return result_figure(self)


def _arm_summary(values: list[float]) -> dict[str, Any]:
    """One arm's values over seeds with their median and range; "seeds", not "n", counts them
    (the metric's "n", or the arm's when the counts differ, is how many answers a value counts)."""
    spread = median_spread(values)
    return {"values": values, "median": spread.median, "low": spread.low, "high": spread.high,
            "seeds": spread.n}
