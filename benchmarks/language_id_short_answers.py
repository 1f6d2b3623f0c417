"""Can a language-ID library tell a one-to-three-word Spanish answer from an English one?

    pip install langid lingua-language-detector langdetect   # not course dependencies
    python benchmarks/language_id_short_answers.py

Hypothesis (written before the run): libraries trained on sentences are unreliable on the
course's answers ("gato", "rojo", "buenos dias"): fewer than 90% of the Spanish answers come
out as Spanish with all languages allowed, and even restricted to {English, Spanish} some
English words (the untranslated input a failed model echoes) come out as Spanish.

Cases: every Spanish answer of the course's world (`SPANISH_WORDS`, `SPANISH_PHRASES`, 71),
plus "buenos días" with its accent, against their English inputs (the failure the
adherence check must catch). A library is *reliable* here if it gets at least 95% of both
right. Prints, per setting, Spanish recall (said "es" for Spanish) and English specificity
(did not say "es" for English), with the misses. Deterministic (langdetect is seeded).

Measured (langid 1.1.6, lingua-language-detector 2.1.1, langdetect 1.0.9):

    setting                     Spanish recall   English specificity
    langid, 97 languages        29/72 = 0.40     71/71 = 1.00   ("hola", "gato" -> en)
    langid, en+es only          34/72 = 0.47     71/71 = 1.00
    lingua, 75 languages        30/72 = 0.42     70/71 = 0.99   ("hola" -> st, "rojo" -> lt)
    lingua, en+es only          70/72 = 0.97     65/71 = 0.92   (hello, sun, car, blue, one,
                                                                  no -> es)
    langdetect, 55 languages    26/72 = 0.36     71/71 = 1.00

The hypothesis held: none is reliable. The course's adherence check uses a word list
(`course_lib.evaluation.adherence.LEXICONS`) instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course_lib.world.facts import SPANISH_PHRASES, SPANISH_WORDS  # noqa: E402

SPANISH = [*SPANISH_WORDS.values(), *SPANISH_PHRASES.values(), "buenos días"]
ENGLISH = [*SPANISH_WORDS, *SPANISH_PHRASES]


def detectors() -> dict:
    """name -> function(text) -> ISO 639-1 code, for each library and setting."""
    try:  # the three libraries measured, which the course does not depend on
        import langdetect
        import langid
        from langid.langid import LanguageIdentifier, model
        from lingua import Language, LanguageDetectorBuilder
    except ImportError as err:
        sys.exit(f"{err.name} is not installed; this benchmark measures three language-ID "
                 f"libraries the course does not use: pip install langid "
                 f"lingua-language-detector langdetect")

    langdetect.DetectorFactory.seed = 0
    two = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    two.set_languages(["en", "es"])
    lingua_all = LanguageDetectorBuilder.from_all_languages().build()
    lingua_two = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).build()

    def lingua_code(detector):
        def detect(text):
            found = detector.detect_language_of(text)
            return found.iso_code_639_1.name.lower() if found else "none"
        return detect

    return {
        "langid (97 languages)": lambda t: langid.classify(t)[0],
        "langid (en, es only)": lambda t: two.classify(t)[0],
        "lingua (75 languages)": lingua_code(lingua_all),
        "lingua (en, es only)": lingua_code(lingua_two),
        "langdetect (55 languages)": lambda t: langdetect.detect(t),
    }


def main() -> None:
    print(f"{len(SPANISH)} Spanish answers, {len(ENGLISH)} English inputs")
    for name, detect in detectors().items():
        es_said = {t: detect(t) for t in SPANISH}
        en_said = {t: detect(t) for t in ENGLISH}
        es_miss = [f"{t}->{c}" for t, c in es_said.items() if c != "es"]
        en_miss = [t for t, c in en_said.items() if c == "es"]
        recall = 1 - len(es_miss) / len(SPANISH)
        specificity = 1 - len(en_miss) / len(ENGLISH)
        print(f"\n{name}: Spanish recall {len(SPANISH) - len(es_miss)}/{len(SPANISH)} = "
              f"{recall:.2f}, English specificity {len(ENGLISH) - len(en_miss)}/{len(ENGLISH)}"
              f" = {specificity:.2f}")
        print("  Spanish missed:", ", ".join(es_miss) or "-")
        print("  English called Spanish:", ", ".join(en_miss) or "-")
        four = ("hola", "gato", "buenos días", "rojo")
        print("  four short answers:", {t: detect(t) for t in four})


if __name__ == "__main__":
    main()
