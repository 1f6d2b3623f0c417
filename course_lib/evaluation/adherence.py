"""Did the response follow the instruction's format? Named checks, each reported, and a score.

Correctness asks "is the answer right?"; adherence asks "did the model behave like an
assistant?": answer, stop, no leftover template, a sensible length, the language asked for.

    >>> check = adherence("4. What is 3+3?", stopped=False, kind="add")
    >>> check.failed(), round(check.score, 2)
    (['answered', 'stopped', 'length_ok'], 0.25)
    >>> adherence("gato", stopped=True, kind="spanish").score
    1.0
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from course_lib.errors import CourseError
from course_lib.evaluation.metrics import TEMPLATE_MARKER_RE, split_pieces
from course_lib.world.facts import SPANISH_PHRASES, SPANISH_WORDS

# First words of a question or an instruction: the course's own instructions start with
# these ("What is 2+2?", "Kindly compute...", "hey what's...", "Translate to Spanish").
OPENERS = frozenset(
    "what what's how why who whom whose where when which is are do does can could would will "
    "should kindly please hey translate tell give name list write explain describe say "
    "calculate compute add subtract multiply divide".split()
)

# (fewest, most) words a good response of each kind has. The course data's longest
# reference answers: 1 word for arithmetic, sounds, colours and opposites, 2 for capitals
# ("Buenos Aires"), 4 for Spanish ("Donde esta la casa?"); the bound adds two words of
# slack ("It is 4."). Any other kind gets the generic bound (a paragraph).
LENGTH_BOUNDS: dict[str, tuple[int, int]] = {
    "add": (1, 3), "sub": (1, 3), "mul": (1, 3), "capital": (1, 4), "sound": (1, 3),
    "colour": (1, 3), "opposite": (1, 3), "spanish": (1, 6),
}
GENERIC_LENGTH = (1, 100)

# The kinds that ask for a translation, and into which language.
TRANSLATION_KINDS = {"spanish": "es"}

# Spanish words: every word of the course's Spanish answers plus common function words.
# Not a dictionary: a Spanish word outside it counts as not Spanish, and a word spelled the
# same in English ("no", "me", "pan") counts as Spanish. Measured first: language-ID
# libraries are unreliable on one-to-three-word answers (benchmarks/language_id_short_answers.py:
# langid calls 29 of the 72 course answers Spanish; lingua limited to English and Spanish
# gets 70 but calls "hello", "car", "blue" Spanish), so the course uses this list instead.
# On the course's own answers (in sample) it accepts all 72 and rejects 70 of their 71
# English inputs ("no" is the same word).
_COMMON_SPANISH = (
    "el la los las un una unos unas y o pero de del al a en con sin por para que como donde "
    "cuando quien es son esta estan estoy soy eres hay tengo tiene me te se le lo mi tu su yo "
    "muy mas bien mal aqui hoy si no gracias hola adios buenos buenas dias noches tardes"
)
LEXICONS: dict[str, frozenset[str]] = {
    "es": frozenset(
        re.findall(r"[a-z]+", " ".join([*SPANISH_WORDS.values(), *SPANISH_PHRASES.values(),
                                        _COMMON_SPANISH]).lower())
    ),
}


@dataclass(frozen=True)
class Adherence:
    """One bool per check; `language_ok` is None where the task asks for no language."""

    answered: bool  # answered instead of going on with another question or instruction
    stopped: bool  # ended with EOS within the token limit (the caller knows)
    no_template_leak: bool  # no "### Instruction:", "Human:", "Q:", ... in the response
    length_ok: bool  # within LENGTH_BOUNDS for the task kind
    language_ok: bool | None  # in the language asked for (translation kinds only)

    def checks(self) -> dict[str, bool]:
        """The checks that apply (None left out), by name."""
        return {name: ok for name, ok in asdict(self).items() if ok is not None}

    @property
    def score(self) -> float:
        """Share of the applicable checks passed; each check weighs the same."""
        checks = self.checks()
        return sum(checks.values()) / len(checks)

    def failed(self) -> list[str]:
        """Names of the failed checks, in field order."""
        return [name for name, ok in self.checks().items() if not ok]


def answered(response: str) -> bool:
    """True if the response has content and does not go on to ask or instruct.

    The response is cut into pieces as `first_answer` cuts it. It fails when the first
    piece has no letter or digit, or when any piece asks: its first word (digits skipped)
    is a question or instruction word (`OPENERS`), or it ends with "?" and holds such a
    word anywhere. A later piece also fails by ending with "?" alone. (The first piece may
    end with "?": the Spanish for "How are you?" is "Como estas?".)

    >>> answered("4"), answered("4. What is 3+3?"), answered("What is 2+2? 4"), answered("")
    (True, False, False, False)
    >>> answered("Paris, and what is the capital of Peru?"), answered("Como estas?")
    (False, True)
    """
    pieces = split_pieces(response)
    if not pieces or not re.search(r"\w", TEMPLATE_MARKER_RE.sub("", pieces[0])):
        return False
    return not _asks(pieces[0]) and not any(_asks(p) or p.endswith("?") for p in pieces[1:])


def _asks(piece: str) -> bool:
    words = re.findall(r"[a-z']+", TEMPLATE_MARKER_RE.sub(" ", piece).lower())
    if piece.endswith("?"):
        return not OPENERS.isdisjoint(words)
    return bool(words) and words[0] in OPENERS


def length_ok(response: str, kind: str | None) -> bool:
    """The response's word count lies within `LENGTH_BOUNDS[kind]` (else `GENERIC_LENGTH`).

    >>> length_ok("4", "add"), length_ok("4 4 4 4", "add"), length_ok("", None)
    (True, False, False)
    """
    fewest, most = LENGTH_BOUNDS.get(kind or "", GENERIC_LENGTH)
    return fewest <= len(response.split()) <= most


def in_language(response: str, language: str) -> bool:
    """More than half of the response's words are in `LEXICONS[language]`.

    Words are lower-cased letter runs with accents dropped ("días" -> "dias").

    >>> in_language("Buenos días", "es"), in_language("cat", "es"), in_language("hola world", "es")
    (True, False, False)
    """
    plain = unicodedata.normalize("NFKD", response.lower()).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z]+", plain)
    known = sum(w in LEXICONS[language] for w in words)
    return bool(words) and known > len(words) / 2


def adherence(response: str, *, stopped: bool, kind: str | None = None,
              language: str | None = None) -> Adherence:
    """Run every check on one response.

    `stopped`: the generation ended with EOS before the token limit. `kind`: the task kind
    (a record's "kind"), for the length bound and, for a translation kind, the language.
    `language` (e.g. "es") asks for the language check on any kind.

    >>> adherence("cat", stopped=True, kind="spanish").failed()
    ['language_ok']
    """
    language = language or TRANSLATION_KINDS.get(kind or "")
    if language is not None and language not in LEXICONS:
        raise CourseError(f"No word list for language '{language}'; pass one of: "
                          f"{', '.join(LEXICONS)} (or language=None to skip the check).")
    return Adherence(
        answered=answered(response),
        stopped=bool(stopped),
        no_template_leak=TEMPLATE_MARKER_RE.search(response) is None,
        length_ok=length_ok(response, kind),
        language_ok=None if language is None else in_language(response, language),
    )
