"""The small world the embedded base model knows: its facts, as plain data.

Every fact has a kind, a subject (what a question is about) and a short answer:

    >>> fact = arithmetic_facts()[0]
    >>> fact.kind, fact.subject, fact.answer
    ('add', '0+0', '0')
    >>> capital_of("France")
    'Paris'

The pretraining corpus states these facts many ways; the instruction data asks about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ADD_MAX = 20  # addition and subtraction operands go 0..20
MUL_MAX = 10  # multiplication table 0..10

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_word(n: int) -> str:
    """English words for 0..100.

    >>> number_word(42)
    'forty-two'
    """
    if n < 20:
        return _ONES[n]
    if n == 100:
        return "one hundred"
    tens, ones = divmod(n, 10)
    return _TENS[tens] + ("" if ones == 0 else "-" + _ONES[ones])


@dataclass(frozen=True)
class Fact:
    """One thing the world knows. `a`/`b` are set for arithmetic facts only."""

    kind: str  # add, sub, mul, capital, sound, colour, opposite, spanish
    subject: str  # "2+2", "France", "dog", "sky", "hot", "cat"
    answer: str  # "4", "Paris", "woof", "blue", "cold", "gato"
    a: int | None = field(default=None, compare=False)
    b: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """A unique name, e.g. 'add:2+2' or 'capital:France'."""
        return f"{self.kind}:{self.subject}"

    @property
    def single_digit(self) -> bool:
        """True for arithmetic on operands 0..9 (the facts the model must hold best)."""
        return self.a is not None and self.a < 10 and self.b is not None and self.b < 10


def arithmetic_facts() -> list[Fact]:
    """a+b and a-b (no negative results) for 0..20, a*b for 0..10."""
    facts = []
    for a in range(ADD_MAX + 1):
        for b in range(ADD_MAX + 1):
            facts.append(Fact("add", f"{a}+{b}", str(a + b), a, b))
    for a in range(ADD_MAX + 1):
        for b in range(a + 1):
            facts.append(Fact("sub", f"{a}-{b}", str(a - b), a, b))
    for a in range(MUL_MAX + 1):
        for b in range(MUL_MAX + 1):
            facts.append(Fact("mul", f"{a}*{b}", str(a * b), a, b))
    return facts


CAPITALS = {
    "France": "Paris", "Spain": "Madrid", "Italy": "Rome", "Germany": "Berlin",
    "Japan": "Tokyo", "China": "Beijing", "Egypt": "Cairo", "Peru": "Lima",
    "Russia": "Moscow", "England": "London", "Ireland": "Dublin", "Greece": "Athens",
    "Portugal": "Lisbon", "Austria": "Vienna", "Norway": "Oslo", "Sweden": "Stockholm",
    "Finland": "Helsinki", "Denmark": "Copenhagen", "Poland": "Warsaw", "Hungary": "Budapest",
    "Canada": "Ottawa", "Mexico": "Mexico City", "Cuba": "Havana", "Chile": "Santiago",
    "Kenya": "Nairobi", "Ghana": "Accra", "Turkey": "Ankara", "India": "New Delhi",
    "Thailand": "Bangkok", "Australia": "Canberra", "Argentina": "Buenos Aires",
    "Colombia": "Bogota", "Belgium": "Brussels", "Iceland": "Reykjavik",
}

ANIMAL_SOUNDS = {
    "dog": "woof", "cat": "meow", "cow": "moo", "duck": "quack", "sheep": "baa",
    "pig": "oink", "lion": "roar", "owl": "hoot", "frog": "croak", "horse": "neigh",
    "mouse": "squeak", "snake": "hiss", "bee": "buzz", "rooster": "cock-a-doodle-doo",
    "crow": "caw", "goat": "bleat", "wolf": "howl", "donkey": "hee-haw",
}

# "The sky is blue." The subject keeps its article so the statement reads naturally.
COLOURS = {
    "the sky": "blue", "grass": "green", "a banana": "yellow", "snow": "white",
    "coal": "black", "a strawberry": "red", "an orange": "orange", "a lemon": "yellow",
    "a tomato": "red", "the sea": "blue", "a leaf": "green", "milk": "white",
    "a crow": "black", "a plum": "purple", "chocolate": "brown", "a pumpkin": "orange",
    "a cherry": "red", "a frog": "green", "the sun": "yellow", "a flamingo": "pink",
}

OPPOSITES = {
    "hot": "cold", "big": "small", "up": "down", "fast": "slow", "happy": "sad",
    "day": "night", "old": "young", "tall": "short", "open": "closed", "light": "dark",
    "wet": "dry", "full": "empty", "hard": "soft", "early": "late", "rich": "poor",
    "loud": "quiet", "strong": "weak", "thick": "thin", "high": "low", "near": "far",
    "in": "out", "left": "right", "good": "bad", "push": "pull", "win": "lose",
    "first": "last", "clean": "dirty", "heavy": "light", "black": "white", "yes": "no",
    "begin": "end", "give": "take", "inside": "outside", "above": "below", "true": "false",
}

# English -> Spanish: single words, then whole phrases known as a unit.
SPANISH_WORDS = {
    "hello": "hola", "world": "mundo", "dog": "perro", "cat": "gato", "house": "casa",
    "water": "agua", "book": "libro", "friend": "amigo", "food": "comida", "sun": "sol",
    "moon": "luna", "tree": "arbol", "city": "ciudad", "school": "escuela", "car": "coche",
    "bread": "pan", "milk": "leche", "apple": "manzana", "red": "rojo", "blue": "azul",
    "green": "verde", "white": "blanco", "black": "negro", "big": "grande", "small": "pequeno",
    "good": "bueno", "one": "uno", "two": "dos", "three": "tres", "four": "cuatro",
    "five": "cinco", "yes": "si", "no": "no", "thank you": "gracias", "please": "por favor",
    "goodbye": "adios", "man": "hombre", "woman": "mujer", "boy": "nino", "girl": "nina",
    "day": "dia", "night": "noche", "love": "amor", "family": "familia", "door": "puerta",
    "table": "mesa", "window": "ventana", "flower": "flor", "sea": "mar", "fish": "pez",
    "bird": "pajaro", "horse": "caballo", "cow": "vaca", "time": "tiempo", "name": "nombre",
}
# Accents are left out on purpose (arbol, adios, nino): the course's exercises compare
# answers by exact match, and learners type without accents.
SPANISH_PHRASES = {
    "Hello world": "Hola mundo", "Good morning": "Buenos dias", "Good night": "Buenas noches",
    "Thank you very much": "Muchas gracias", "How are you?": "Como estas?",
    "I love you": "Te quiero", "See you later": "Hasta luego", "My name is Ana": "Me llamo Ana",
    "Where is the house?": "Donde esta la casa?", "The red car": "El coche rojo",
    "The big dog": "El perro grande", "The white cat": "El gato blanco",
    "Good afternoon": "Buenas tardes", "I am hungry": "Tengo hambre",
    "Happy birthday": "Feliz cumpleanos", "Good luck": "Buena suerte",
}


def capital_of(country: str) -> str:
    """The capital city of a country of the world."""
    return CAPITALS[country]


def simple_facts() -> list[Fact]:
    """Every non-arithmetic fact: capitals, sounds, colours, opposites, Spanish."""
    facts = [Fact("capital", c, v) for c, v in CAPITALS.items()]
    facts += [Fact("sound", a, s) for a, s in ANIMAL_SOUNDS.items()]
    facts += [Fact("colour", t, c) for t, c in COLOURS.items()]
    facts += [Fact("opposite", w, o) for w, o in OPPOSITES.items()]
    facts += [Fact("spanish", e, s) for e, s in {**SPANISH_WORDS, **SPANISH_PHRASES}.items()]
    return facts


def all_facts() -> list[Fact]:
    """The whole world, in a fixed order."""
    return arithmetic_facts() + simple_facts()
