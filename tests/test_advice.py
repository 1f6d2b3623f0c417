"""Every piece of advice the course gives can be followed as written.

The references are pulled with regexes from the real sources (error messages and every other
string of course_lib, README files, the lessons' and solutions' markdown), so a renamed flag,
command, function, keyword, file, make target or environment variable fails here:

    course CMD --flag ...   the command exists and has every flag (its own argparse parser)
    --flag in cli/          every command whose code reaches the sentence has that flag
    name(kw=...)            the name is the course's (or a library's) and takes the keyword
    from course_lib.x import y   the module has the name
    paths, make targets     the file exists; the Makefile has the target
    COURSE_*, HF_*          the code (or huggingface_hub) reads the variable
    ex03_1                  the exercise exists
And advice is told in its reader's terms: no bare --flag for a Python caller, no keyword= in
what the `course` command prints, both spellings in a line train() prints for both. Last,
a few pieces of advice are followed, to see that they lead where they say.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import course_lib
from course_lib import cli
from course_lib.cli.commands import COMMANDS
from course_lib.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(course_lib.__file__).parent
CLI = Path(cli.__file__).parent  # the `course` command's package
DOCS = [ROOT / "README.md", ROOT / "lessons" / "README.md", ROOT / "exercises" / "README.md"]
NOTEBOOKS = sorted([*(ROOT / "lessons").glob("*.ipynb"), *(ROOT / "solutions").glob("*.ipynb")])
ERROR_CALLS = {"CourseError", "with_advice", "advice"}  # advice(python, cli): one for each

SPAN = re.compile(r"`([^`\n]+)`")
COMMAND = re.compile(r"(?<![\w/.-])course ([a-z][a-z0-9-]*)([^;`()#\n]*)")
AS_MODULE = re.compile(r"-m course_lib\.cli ([a-z][a-z0-9-]*)([^;`()#\n]*)")  # accelerate launch
FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")
CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(([^()]*)\)")
KEYWORD = re.compile(r"(?<![\w.-])([a-z_][a-z0-9_]*)=(?!=)")
PATH = re.compile(r"(?<![\w/.-])((?:lessons|solutions|exercises|benchmarks|tests|course_lib)"
                  r"/[\w/.-]*\w\.(?:ipynb|py|md|txt|json))")
MODULE = re.compile(r"python -m (benchmarks\.\w+)")
MAKE = re.compile(r"(?:^|`)make ([a-z][\w-]*)(?![\w=-])", re.M)
VARIABLE = re.compile(r"\b((?:COURSE|HF)_[A-Z_]*[A-Z])\b")
EXERCISE = re.compile(r"\bex\d{2}_\d+\b")


@dataclasses.dataclass(frozen=True)
class Text:
    """One piece of text the course shows, where it is, and who reads it: 'cli' (the `course`
    command prints it), 'python' (a notebook or script sees it), 'report' (a line a report is
    built of, seen by both) or 'docs' (a docstring, a README, a lesson's markdown)."""

    text: str
    where: str
    reader: str = "docs"
    function: str = ""  # for the cli package: the function it is in


# --- Pulling the texts out ----------------------------------------------------------------
def _literal(node: ast.AST) -> str | None:
    """A string as it reads, an f-string's fields as X (they are values, not advice)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal(v) or "" if isinstance(v, ast.Constant) else "X"
                       for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return None if left is None and right is None else (left or "") + (right or "")
    return None


def _error_texts(call: ast.Call) -> list[tuple[str, str]]:
    """(text, reader) of a CourseError(message, cli=...), with_advice(sentence, py, cli) or
    advice(py, cli) (a setting in a report line, spelt for whoever reads it)."""
    args = [_literal(a) or "" for a in call.args]
    if ast.unparse(call.func).endswith("with_advice") and len(args) == 3:
        return [(args[0].replace("{fix}", args[1]), "python"),
                (args[0].replace("{fix}", args[2]), "cli")]
    if ast.unparse(call.func).split(".")[-1] == "advice" and len(args) == 2:
        return [(args[0], "python"), (args[1], "cli")]
    cli_text = next((_literal(k.value) for k in call.keywords if k.arg == "cli"), None)
    return [(args[0] if args else "", "python")] + ([(cli_text, "cli")] if cli_text else [])


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Each node with the name of the outermost function around it ('' at module level)."""
    for top in tree.body:
        name = top.name if isinstance(top, ast.FunctionDef | ast.ClassDef) else ""
        for node in ast.walk(top):
            yield name, node


def _docstrings(tree: ast.Module) -> set[int]:
    """The docstring nodes of the module, its classes and its functions."""
    return {id(b[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
            and isinstance(b := n.body, list) and isinstance(b[0], ast.Expr)}


def _said(tree: ast.Module, everything: bool) -> set[int]:
    """The string nodes a user sees besides errors: printed, warned, or an option's help; in
    cli/ every string but docstrings, dict keys, lists (torchrun's options), defaults and
    the names add_argument is given."""
    if everything:
        docs = [k for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys]
        docs += [n for n in ast.walk(tree) if isinstance(n, ast.List)]
        docs += [d for n in ast.walk(tree) if isinstance(n, ast.arguments) for d in n.defaults]
        docs += [a for n in ast.walk(tree) if isinstance(n, ast.Call)  # an option's own name
                 and ast.unparse(n.func).endswith("add_argument") for a in n.args]
        hidden = {id(inner) for node in docs for inner in ast.walk(node)}
        return {id(n) for n in ast.walk(tree)} - hidden - _docstrings(tree)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and ast.unparse(n.func).split(".")[-1] in {"print", "warn"}]
    nodes += [k.value for n in ast.walk(tree) if isinstance(n, ast.Call)
              for k in n.keywords if k.arg in {"help", "description"}]
    return {id(inner) for node in nodes for inner in ast.walk(node)}


@cache
def library_texts() -> tuple[Text, ...]:
    """Every string of course_lib. An error's message, a print, a warning or an option's help
    is read by the CLI's user in cli/, else by a Python caller (an error's cli= by the CLI's
    user); the other strings outside cli/ are 'report' (lines a report is built of, read by
    both); docstrings and the rest of cli/'s are 'docs'."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel, own = str(path.relative_to(ROOT)), path.parent == CLI
        tree = ast.parse(path.read_text(encoding="utf-8"))
        said, docstrings = _said(tree, own), _docstrings(tree)
        # The CLI's half of a message built in two (run_folder.interrupted: python = ..., cli = ...)
        said_cli = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "cli" for t in n.targets)}
        # An f-string is one text: its pieces are not texts of their own; nor an error's.
        done = {id(p) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                for p in ast.walk(n) if p is not n}
        for function, node in _functions(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in ERROR_CALLS:
                done.update(id(n) for n in ast.walk(node))
                for text, reader in _error_texts(node):
                    found.append(Text(text, f"{rel}:{node.lineno}", "cli" if own else reader,
                                      function))
        for function, node in _functions(tree):
            text = _literal(node) if id(node) not in done else None
            if text and isinstance(node, ast.Constant | ast.JoinedStr):
                if id(node) in said | said_cli:
                    reader = "cli" if own or id(node) in said_cli else "python"
                else:
                    reader = "docs" if own or id(node) in docstrings else "report"
                found.append(Text(text, f"{rel}:{node.lineno}", reader, function))
    return tuple(found)


@cache
def document_texts() -> tuple[Text, ...]:
    """The README files, and every markdown cell of the lessons and solutions."""
    found = [Text(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT))) for p in DOCS]
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        found += [Text("".join(c["source"]), f"{path.relative_to(ROOT)} cell {i}")
                  for i, c in enumerate(cells) if c["cell_type"] == "markdown"]
    return tuple(found)


def all_texts() -> tuple[Text, ...]:
    return library_texts() + document_texts()


def code_pieces(text: str) -> list[str]:
    """What a text gives as code: its `spans`, and the lines of its ``` blocks."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text.replace("\\\n", " "), re.S)
    return SPAN.findall(text) + [line for b in blocks for line in b.splitlines()]


# --- The course's own names -----------------------------------------------------------------
@cache
def command_flags() -> dict[str, set[str]]:
    """Each `course` command and its options, from the CLI's own parser."""
    commands = build_parser()._subparsers._group_actions[0].choices
    return {name: {o for a in p._actions for o in a.option_strings}
            for name, p in commands.items()}


def command_lines(text: Text) -> Iterator[tuple[str, str]]:
    """(command, the rest of its line) of every `course CMD ...` the text gives: in code, any;
    in prose, one followed by a flag (else 'the course reads' would be a command)."""
    for piece in code_pieces(text.text):
        if piece.lstrip("$ ").startswith("course "):
            yield from COMMAND.findall(piece.split("#")[0])
        yield from AS_MODULE.findall(piece.split("#")[0])
    prose = re.sub(r"```.*?```", " ", SPAN.sub(" ", text.text), flags=re.S)
    for cmd, rest in COMMAND.findall(prose):
        rest = re.split(r"\.(?:\s|$)|, ", rest)[0]  # to the end of the sentence or clause
        if cmd in command_flags() or FLAG.search(rest):
            yield cmd, rest


def test_every_course_command_line_names_a_command_and_its_flags():
    lines = {(t.where, cmd, rest) for t in all_texts() for cmd, rest in command_lines(t)}
    assert len(lines) > 120, f"only {len(lines)} command lines found: the extractor broke"
    commands = command_flags()
    wrong = [f"{where}: course {cmd}{rest}" for where, cmd, rest in lines
             if cmd not in commands]
    wrong += [f"{where}: course {cmd}{rest}: {flag} is not an option of `course {cmd}`"
              for where, cmd, rest in lines if cmd in commands
              for flag in FLAG.findall(rest) if flag not in commands[cmd] | {"--help", "-h"}]
    assert not wrong, "\n".join(wrong)


# --- Flags said by the `course` command -----------------------------------------------------
@cache
def cli_trees() -> tuple[ast.Module, ...]:
    """The modules of the cli package, parsed."""
    return tuple(ast.parse(p.read_text(encoding="utf-8")) for p in sorted(CLI.glob("*.py")))


@cache
def cli_reach() -> dict[str, set[str]]:
    """Each function and constant of the cli package, and the commands whose code reaches it
    (their handler and option builder, through every name they use, called or passed)."""
    defined = {n.name if isinstance(n, ast.FunctionDef) else n.targets[0].id: n
               for tree in cli_trees() for n in tree.body if isinstance(n, ast.FunctionDef)
               or isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
    uses = {name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & defined.keys()
            for name, node in defined.items()}
    reach: dict[str, set[str]] = {}
    for command, handler, add_options, *_ in COMMANDS:
        todo = [handler.__name__, getattr(add_options, "__name__", "")]
        while todo:
            name = todo.pop()
            if name in uses and command not in reach.setdefault(name, set()):
                reach[name].add(command)
                todo += uses[name]
    return reach


@cache
def _per_command() -> list[tuple[str, str]]:
    """(command, sentence) of a dict keyed by command name (what _after_interrupt says)."""
    return [(k.value, _literal(v) or "") for tree in cli_trees() for node in ast.walk(tree)
        if isinstance(node, ast.Dict) for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant) and k.value in command_flags()]


def test_every_flag_the_cli_names_is_an_option_of_the_command_that_says_it():
    texts = [t for t in library_texts() if t.where.startswith("course_lib/cli/")
             and t.reader == "cli"]
    keyed = {sentence for _, sentence in _per_command()}
    said = [(t, flag, cli_reach().get(t.function, set())) for t in texts if t.text not in keyed
            for flag in FLAG.findall(t.text) if flag.startswith("--")]
    said += [(Text(s, "course_lib/cli", "cli"), flag, {command})
             for command, s in _per_command() for flag in FLAG.findall(s)]
    assert len(said) > 40, f"only {len(said)} flags found in cli/: the extractor broke"
    flags = command_flags()
    wrong = [f"{t.where} ({t.function}): {flag} is not an option of `course {command}`: "
             f"{t.text[:90]!r}" for t, flag, commands in said for command in sorted(commands)
             if flag not in flags[command] | {"--help"}]
    assert not wrong, "\n".join(wrong)


def test_a_flag_said_outside_the_cli_is_an_option_of_some_command():
    """The CLI's spelling of a library's advice (cli=, with_advice's third part), and the
    tables that spell a keyword as its flag (settings.COUNTS, files.SETTING_FLAGS)."""
    said = [(t, flag) for t in library_texts() if not t.where.startswith("course_lib/cli/")
            and (t.reader == "cli" or re.fullmatch(r"--[a-z][\w-]*[a-z]", t.text))
            for flag in FLAG.findall(t.text)]
    assert len(said) > 10, f"only {len(said)} flags found: the extractor broke"
    known = set().union(*command_flags().values())
    wrong = [f"{t.where}: {flag} is no command's option: {t.text[:90]!r}" for t, flag in said
             if flag.startswith("--") and flag not in known]
    assert not wrong, "\n".join(wrong)


def _outside_commands(text: str) -> str:
    """The text without its `course CMD ...` command lines (a flag there is the CLI's)."""
    text = re.sub(r"`course [^`]*`", " ", text)
    return COMMAND.sub(lambda m: " " if FLAG.search(m.group(2)) else m.group(0), text)


def test_an_error_speaks_its_readers_language():
    """A Python caller is not told a bare --flag, nor a CLI user a keyword=value."""
    errors = [t for t in library_texts() if t.reader in ("cli", "python")]
    assert len(errors) > 200, f"only {len(errors)} messages found: the extractor broke"
    wrong = [f"{t.where}: {flag} told to a Python caller: {t.text[:100]!r}"
             for t in errors if t.reader == "python"
             for flag in FLAG.findall(_outside_commands(t.text)) if flag.startswith("--")]
    wrong += [f"{t.where}: {kw}= told to a `course` user: {t.text[:100]!r}"
              for t in errors if t.reader == "cli" for kw in KEYWORD.findall(t.text)]
    assert not wrong, "\n".join(wrong)


# --- Python calls and keywords ---------------------------------------------------------------
@cache
def course_callables() -> dict[str, list]:
    """Every public function and class of course_lib, by name (several modules may share one)."""
    found: dict[str, list] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for name, value in vars(importlib.import_module(module)).items():
            if callable(value) and getattr(value, "__module__", "").startswith("course_lib"):
                found.setdefault(name, []).append(value)
    return found


LIBRARIES = ("transformers", "trl", "peft", "torch", "torch.nn.functional", "datasets", "numpy",
             "pandas", "matplotlib.pyplot", "pathlib", "json", "builtins", "scipy.stats")
# Named in prose as what they are, not as something to call: a model or tokenizer object,
# PyTorch's step, p(token), and the collator TRL removed (lessons 03 and 05 say so).
NOT_NAMES = {"model", "tokenizer", "backward", "zero_grad", "p", "DataCollatorForCompletionOnlyLM"}


@cache
def notebook_functions() -> set[str]:
    """The functions the lessons and solutions define (an exercise's, a helper's)."""
    cells = [c for p in NOTEBOOKS for c in json.loads(p.read_text(encoding="utf-8"))["cells"]]
    return {name for c in cells if c["cell_type"] == "code"
            for name in re.findall(r"^\s*def (\w+)", "".join(c["source"]), re.M)}


def _library_has(name: str) -> bool:
    """Whether a library the course builds on (or Python itself) has this name."""
    return any(hasattr(importlib.import_module(lib), name) for lib in LIBRARIES)


def _takes(function, keyword: str) -> bool:
    """Whether the call accepts the keyword; train()'s **training_args are TrainingArguments'."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True
    if keyword in parameters:
        return True
    rest = [p for p in parameters.values() if p.kind is p.VAR_KEYWORD]
    if rest and rest[0].name == "training_args":
        from transformers import TrainingArguments

        return keyword in {f.name for f in dataclasses.fields(TrainingArguments)}
    return bool(rest)


def python_calls(text: Text) -> Iterator[tuple[str, list[str]]]:
    """(name, keywords) of each call the text gives as code: in an error or warning, all of
    it; elsewhere its code spans and blocks."""
    pieces = [text.text] if text.reader == "python" else code_pieces(text.text)
    for piece in pieces:
        for name, inside in CALL.findall(piece):
            yield name, KEYWORD.findall(inside)


def test_every_python_call_the_course_advises_exists_and_takes_its_keywords():
    texts = [t for t in all_texts() if t.reader != "cli"]
    calls = {(t.where, name, tuple(kws)) for t in texts for name, kws in python_calls(t)}
    ours = {c for c in calls if c[1] in course_callables()}
    assert len(ours) > 80, f"only {len(ours)} calls of the course found: the extractor broke"
    # Docstrings call their own arguments (keep(row), on_done(i)): only advice is looked up.
    advice = {t.where for t in texts if t.reader == "python"} | {t.where for t in document_texts()}
    known = notebook_functions() | NOT_NAMES
    wrong = [f"{where}: {name}() is neither the course's nor a library's"
             for where, name, _ in calls - ours
             if where in advice and name not in known and not _library_has(name)]
    wrong += [f"{where}: {name}() takes no {kw}=" for where, name, kws in ours for kw in kws
              if not any(_takes(f, kw) for f in course_callables()[name])]
    assert not wrong, "\n".join(wrong)


def _module_parameters(where: str) -> set[str]:
    """The parameter names of every function and class of the module at `where`."""
    module = ".".join(Path(where.split(":")[0]).with_suffix("").parts).removesuffix(".__init__")
    names = set()
    for value in vars(importlib.import_module(module)).values():
        if callable(value) and getattr(value, "__module__", "") == module:
            with_signature = [value, *vars(value).values()] if inspect.isclass(value) else [value]
            for f in with_signature:
                try:
                    names |= set(inspect.signature(f).parameters) if callable(f) else set()
                except (TypeError, ValueError):
                    pass
    return names


def test_a_keyword_an_error_tells_a_python_caller_is_a_parameter_of_its_module():
    """'pass samples=0', 'cache_dir=...': a setting of the code that raises it."""
    said = [(t, kw) for t in library_texts() if t.reader == "python"
            for kw in KEYWORD.findall(CALL.sub(" ", t.text))]
    assert len(said) > 20, f"only {len(said)} keywords found: the extractor broke"
    wrong = [f"{t.where}: {kw}= is no parameter in its module: {t.text[:100]!r}"
             for t, kw in said if kw not in _module_parameters(t.where)]
    assert not wrong, "\n".join(wrong)


# --- Files, make targets, environment variables, exercises ----------------------------------
def test_every_file_the_course_names_exists():
    named = {(t.where, p) for t in all_texts() for p in PATH.findall(t.text)}
    named |= {(t.where, m.replace(".", "/") + ".py") for t in all_texts()
              for m in MODULE.findall(t.text)}
    assert len(named) > 40, f"only {len(named)} paths found: the extractor broke"
    wrong = [f"{where}: {path} does not exist" for where, path in sorted(named)
             if not (ROOT / path).exists()]
    assert not wrong, "\n".join(wrong)


def test_every_make_target_the_course_names_is_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    named = {(t.where, m) for t in all_texts() for piece in code_pieces(t.text)
             for m in MAKE.findall(piece)}
    assert len(named) >= 4, f"only {len(named)} make targets found: the extractor broke"
    wrong = [f"{where}: make {target} is not a target of the Makefile"
             for where, target in sorted(named) if target not in targets]
    assert not wrong, "\n".join(wrong)


def _read_by(name: str) -> bool:
    """Whether course_lib's code (or huggingface_hub, for HF_*) reads the variable: its name
    as a string of its own, not inside a sentence."""
    sources = [p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")]
    if name.startswith("HF_"):
        hub = importlib.import_module("huggingface_hub.constants")
        sources.append(Path(hub.__file__).read_text(encoding="utf-8"))
    return any(re.search(rf"[\"']{name}[\"']", source) for source in sources)


def test_every_environment_variable_the_course_names_is_read():
    named = {(t.where, v) for t in all_texts() for v in VARIABLE.findall(t.text)}
    assert len(named) > 5, f"only {len(named)} variables found: the extractor broke"
    wrong = [f"{where}: {name} is read by nothing" for where, name in sorted(named)
             if not _read_by(name)]
    assert not wrong, "\n".join(wrong)


def test_every_exercise_the_course_names_exists():
    from course_lib.grading.registry import all_exercises

    ids = {e.id for e in all_exercises()}
    advice = [t for t in all_texts() if t.reader != "docs" or t in document_texts()]
    named = {(t.where, e) for t in advice for e in EXERCISE.findall(t.text)}
    assert len(named) > 10, f"only {len(named)} exercise ids found: the extractor broke"
    wrong = [f"{where}: there is no exercise {e}" for where, e in sorted(named) if e not in ids]
    assert not wrong, "\n".join(wrong)


def _python_spelling_beside(flag: str, text: str) -> bool:
    """'max_length=', 'max_length (--max-length)' or 'eval_limit, --eval-limit' in the text."""
    name = re.escape(flag[2:].replace("-", "_"))
    return bool(re.search(rf"\b{name}(=| \({flag}\b|, {flag}\b)", text))


def test_a_line_read_by_both_gives_the_python_spelling_beside_a_flag():
    """A report line train() prints (in a notebook too) names a setting with advice(python,
    cli), which spells it for its reader; a flag written out in a report line has the Python
    spelling beside it, 'max_length (--max-length)' (a flag of a `course` command it names
    is that command's). demo.py is `course demo`'s alone."""
    lines = [t for t in library_texts() if t.reader == "report"
             and not t.where.startswith("course_lib/demo.py")]
    assert len(lines) > 300, f"only {len(lines)} report strings found: the extractor broke"
    said = [(t, flag) for t in lines if not re.fullmatch(r"--[\w-]+", t.text)  # SETTING_FLAGS
            for flag in FLAG.findall(_outside_commands(re.sub(r"var\(--[^)]*\)", "", t.text)))
            if flag.startswith("--")]  # (not masking/view.py's CSS variables)
    # Most report lines name a setting with advice() now; two still write both out.
    assert len(said) >= 2, f"only {len(said)} flags found in report lines: the extractor broke"
    commands = command_flags()
    wrong = [f"{t.where}: {flag} without its keyword: {t.text[:110]!r}" for t, flag in said
             if not _python_spelling_beside(flag, t.text)  # nor said of a command it names:
             and not any(flag in commands.get(cmd, ()) for cmd, _ in command_lines(t))]
    assert not wrong, "\n".join(wrong)


# --- Advice checked by running it ------------------------------------------------------------
def test_an_unreadable_run_history_is_told_how_to_train_it_again_in_each_readers_terms(tmp_path):
    """Told to a notebook (compare_runs, evaluate) in train()'s terms, on the command line in
    `course train`'s; 're-run `course train`' into the same folder is refused (not empty)."""
    from course_lib.errors import CourseError
    from course_lib.training.history import RunHistory

    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "history.json").write_text('{"steps": [1', encoding="utf-8")
    for folder in ("cut", "missing"):
        with pytest.raises(CourseError) as caught:
            RunHistory.load(tmp_path / folder)
        assert "train(..., out_dir=" in str(caught.value) and "`course" not in str(caught.value)
        assert "`course train --out" in caught.value.cli


def test_course_train_help_states_the_recipe_train_uses():
    """cli/train.py spells the recipe's defaults out (importing settings would slow `--help` by
    seconds): they must be RECIPE's, or `--help` advises another run than the one it trains."""
    from course_lib.training.settings import RECIPE

    train_help = " ".join(build_parser()._subparsers._group_actions[0].choices[
        "train"].format_help().split())
    for said in (f"the recipe's, {RECIPE.max_steps})", f"the recipe's, {RECIPE.batch_size}",
                 f"the recipe's: {' '.join(RECIPE.freeze)})", f"the course's recipe, "
                 f"{RECIPE.data})"):
        assert said in train_help, f"`course train --help` does not say {said!r}"


def test_no_example_left_to_train_on_points_at_a_report_that_was_printed(toy_model_dir, capsys):
    """'see the report above' with verbose=False pointed at nothing: the report is printed
    when it explains the error."""
    from course_lib.errors import CourseError
    from course_lib.training.runner import train

    long = [{"instruction": "What is 2+2? " * 10, "response": "4"}] * 3
    with pytest.raises(CourseError, match="see the report above"):
        train(str(toy_model_dir), data=long, eval_data=None, max_length=8, max_steps=1,
              verbose=False, progress=False)
    assert "raise max_length (--max-length)" in capsys.readouterr().out


def test_show_mask_on_a_file_without_rows_says_so(tmp_path, capsys):
    """'--row 1 is outside FILE, which has 0 rows; rows are counted from 1' sent the learner
    to count rows in a file that holds none."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    assert cli.main(["show-mask", "--data", str(empty)]) == 2
    err = capsys.readouterr().err
    assert f"{empty} holds no rows" in err and "counted from 1" not in err


def test_a_broken_solution_notebook_is_not_sent_back_to_make_exercises(tmp_path, capsys):
    """'regenerate it with `course make-exercises`' was said by make-exercises itself, of a
    solution it reads (and of an exercise it keeps, as edited): the way out is a good copy."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "02_instruction_data.ipynb").write_text('{"cells": [', encoding="utf-8")
    args = ["make-exercises", "--solutions", str(solutions), "--out", str(tmp_path / "ex")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "not a readable notebook" in err and "make-exercises" not in err


IMPORT = re.compile(r"from (course_lib(?:\.\w+)*) import \(?([\w, ]+)")


def test_every_import_the_course_shows_resolves():
    named = {(t.where, module, name.split(" as ")[0].strip()) for t in all_texts()
             for module, names in IMPORT.findall(t.text) for name in names.split(",")}
    assert len(named) > 5, f"only {len(named)} imports found: the extractor broke"
    wrong = [f"{where}: from {module} import {name} fails" for where, module, name in named
             if not importlib.util.find_spec(module)
             or not hasattr(importlib.import_module(module), name)]
    assert not wrong, "\n".join(wrong)


def test_a_setting_is_spelt_for_the_command_line_only_while_a_command_runs(capsys):
    """`course` speaks in flags while it runs; a notebook that ran it (lesson 07 runs `course
    train`) reads keywords again afterwards."""
    from course_lib.errors import advice, speak_to_the_command_line

    assert advice("eval_limit", "--eval-limit") == "eval_limit"
    assert cli.main(["experiment", "--list"]) == 0
    assert advice("eval_limit", "--eval-limit") == "eval_limit"
    was = speak_to_the_command_line()
    try:
        assert advice("eval_limit", "--eval-limit") == "--eval-limit"
    finally:
        speak_to_the_command_line(was)
