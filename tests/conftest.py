import os

# Tests never reach a hub: everything they need is embedded in the package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
# Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning made
# training steps ~4x slower. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json  # noqa: E402

import pytest  # noqa: E402

from course_lib.training.history import RunHistory  # noqa: E402
from course_lib.world.toy import make_toy_model, make_toy_tokenizer  # noqa: E402

# Tests that train for many minutes run only when `-m` names their marker (`make claims-500`
# is `pytest -m recipe_steps ...`). Deselected, not skipped, and counted in the summary:
# `-m slow`, or the file named on the command line, must not start 20 minutes of training.
ON_REQUEST = {"recipe_steps": "make claims-500"}  # marker: the command that runs its tests
LEFT_OUT = pytest.StashKey[dict]()


def pytest_collection_modifyitems(config, items):
    asked = config.getoption("markexpr") or ""
    left_out = {m: [i for i in items if i.get_closest_marker(m)]
                for m in ON_REQUEST if m not in asked}
    dropped = [i for its in left_out.values() for i in its]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]
    config.stash[LEFT_OUT] = {m: len(its) for m, its in left_out.items() if its}


def _course_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("COURSE_")}


@pytest.fixture(autouse=True)
def _no_course_variable_left_behind():
    """A test that leaves COURSE_MAX_STEPS (say) set would cap every later run of its worker:
    fail that test, not the unrelated ones after it. (monkeypatch.setenv puts things back.)"""
    before = _course_variables()
    yield
    after = _course_variables()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"this test left {', '.join(changed)} changed in os.environ"


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: tell the controller
        session.config.workeroutput["left_out"] = session.config.stash.get(LEFT_OUT, {})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # the controller (every worker collects the same tests)
    node.config.stash[LEFT_OUT] = getattr(node, "workeroutput", {}).get("left_out", {})


def pytest_terminal_summary(terminalreporter, config):
    for marker, count in config.stash.get(LEFT_OUT, {}).items():
        tests, them = ("test", "it") if count == 1 else ("tests", "them")
        terminalreporter.write_line(f"{count} {tests} marked {marker} left out: "
                                    f"`{ON_REQUEST[marker]}` runs {them}")


@pytest.fixture(scope="session")
def toy_tokenizer():
    """Byte-level BPE with a distinct pad token (like the embedded model's)."""
    return make_toy_tokenizer()


@pytest.fixture(scope="session")
def toy_tokenizer_pad_is_eos():
    """The same tokenizer with pad == eos, as many real base models are set up."""
    return make_toy_tokenizer(pad_is_eos=True)


@pytest.fixture(scope="session")
def toy_model_dir(tmp_path_factory, toy_tokenizer):
    """A randomly initialised tiny Llama saved with the toy tokenizer: fast for mechanics tests."""
    out = tmp_path_factory.mktemp("toy-model")
    make_toy_model(toy_tokenizer).save_pretrained(out)
    toy_tokenizer.save_pretrained(out)
    return out


# --- Small arithmetic records: training, generation and CLI tests ---------------------------
def arithmetic_records(n: int = 100) -> list[dict[str, str]]:
    """'What is a+b?' -> 'a+b': a tiny task the toy model's tokenizer knows."""
    return [
        {"instruction": f"What is {a}+{b}?", "response": str(a + b)}
        for a in range(10)
        for b in range(10)
    ][:n]


@pytest.fixture(scope="session")
def records():
    return arithmetic_records(80)


@pytest.fixture(scope="session")
def eval_records():
    return arithmetic_records(100)[80:]


@pytest.fixture(scope="session")
def data_files(tmp_path_factory, records, eval_records):
    """(train.jsonl, eval.jsonl) written from the records."""
    root = tmp_path_factory.mktemp("data")
    paths = []
    for name, rows in (("train.jsonl", records), ("eval.jsonl", eval_records)):
        path = root / name
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        paths.append(path)
    return tuple(paths)


@pytest.fixture(scope="session")
def toy_history():
    """A made-up five-step run: toy_history("response", offset) (the offset moves its loss)."""
    def make(masking: str, offset: float) -> RunHistory:
        h = RunHistory(model="toy", masking=masking)
        for step in range(1, 6):
            h.add_train_loss(step, 3.0 - step * 0.2 + offset)
        for step in (0, 5):
            h.add_eval(step, 3.0 - step * 0.3, step / 10)
        return h
    return make


@pytest.fixture(scope="session")
def layout_faults():
    """layout_faults(fig): what is drawn past the figure's edges (a long label cut off in the
    saved PNG), then each two panels whose labels, titles or legends run into each other.
    A panel is named by its title; its box holds only what it draws."""
    def find(fig) -> list[str]:
        fig.draw_without_rendering()  # the layout and positions exist once it is drawn
        parts = [(ax.get_title() or f"panel {i}", ax.get_tightbbox())
                 for i, ax in enumerate(fig.axes)]
        parts += [(t.get_text(), t.get_window_extent()) for t in fig.texts if t.get_text()]
        parts += [("figure legend", legend.get_window_extent()) for legend in fig.legends]
        edge = fig.bbox
        faults = [f"{name!r} leaves the figure" for name, box in parts
                  if box.x0 < edge.x0 - 1 or box.y0 < edge.y0 - 1
                  or box.x1 > edge.x1 + 1 or box.y1 > edge.y1 + 1]
        return faults + [f"{a!r} runs into {b!r}" for i, (a, box) in enumerate(parts)
                         for b, other in parts[i + 1:] if box.overlaps(other)]
    return find
