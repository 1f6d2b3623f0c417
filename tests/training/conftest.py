"""Fixtures for the training, plotting, generation and CLI tests: small arithmetic records."""

import json

import pytest


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
