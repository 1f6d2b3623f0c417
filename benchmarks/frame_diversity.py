"""Round 7 of the recipe search (benchmarks/recipe_results.md): more kinds of frame, and the
data draw. Writes three tuning sets beside the committed `course:train_varied`, for
`benchmarks.recipe --data FILE`:

    python -m benchmarks.frame_diversity --out runs/frames
    python -m benchmarks.recipe --on dev --data runs/frames/frames10_draw0.jsonl

* frames5_draw1: the committed frames, another random pick of frames and cores (the control);
* frames10_draw0, frames10_draw1: 5 more train frames per style (NEW), two picks.
The same train facts are held out for the dev set in all three, so dev stays unseen.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from course_lib.formatting.records import EMBEDDED_DATA_DIR
from course_lib.world import paraphrases
from course_lib.world.tuning_data import train_with_facts

# Written apart from the eval phrasings' words and from the dev frames (checked below).
NEW = {
    "casual": ["btw, {q}", "hey there, {q}", "lol ok {q}", "real quick: {q}", "{q} pls"],
    "polite": ["Pardon me, {q}", "I'd love to learn {iq}, if that's ok.", "Kindly tell me {np}.",
               "Is it possible to tell me {np}? Cheers!", "Might you say {iq}? Ta."],
    "imperative": ["Provide {np}.", "Quick, name {np}.", "Tell me {np}, then.", "Show me {np}.",
                   "Just answer: {q}"],
    "filler": ["Uh, {q}", "Er, {q} I guess?", "Well, er, {q}", "Oh, uh, {q}", "Okay, right, {q}"],
    "embedded": ["I can't remember {iq}.", "The homework asks {iq}.", "Nobody here is sure {iq}.",
                 "I am curious {iq}.", "The worksheet wants {iq}. Any idea?"],
}


def check_new_frames() -> None:
    """The rules tests/world/test_paraphrases.py holds the committed frames to."""
    banned = paraphrases.eval_only_words()
    dev = {f for style in paraphrases.FRAMES.values() for f in style["dev"]}
    for style, frames in NEW.items():
        for frame in frames:
            words = paraphrases.template_words(frame)
            assert not words & banned, f"{frame!r} uses eval words {words & banned}"
            assert frame not in dev and frame not in paraphrases.FRAMES[style]["train"], frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    check_new_frames()
    pairs, _ = train_with_facts(0)
    # Draw 0 of the committed frames must be the committed set, or the comparison is off.
    committed = (EMBEDDED_DATA_DIR / "train_varied.jsonl").read_text().splitlines()
    varied = paraphrases.make_train_varied
    assert varied(pairs) == [json.loads(line) for line in committed], "not the committed set"
    sets = {"frames5_draw1": varied(pairs, draw=1)}
    for style, frames in NEW.items():
        paraphrases.FRAMES[style]["train"] = paraphrases.FRAMES[style]["train"] + frames
    sets |= {f"frames10_draw{d}": varied(pairs, draw=d) for d in (0, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in sets.items():
        path = args.out / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        print(f"{path}: {len(rows)} rows")


if __name__ == "__main__":
    main()
