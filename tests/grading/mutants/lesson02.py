"""Wrong answers to the exercises of 02_instruction_data.ipynb (format, normalize, filter),
and right answers written another way."""

from __future__ import annotations

from . import mutant, right


@mutant("ex02_1", "input dropped", phrase="'Hello world' is missing")
def format_record__input_dropped(record: dict) -> str:
    return f"### Instruction: {record['instruction']} ### Response: {record['response']}"


@mutant("ex02_1", "input part always written", phrase="has no input")
def format_record__input_always_written(record: dict) -> str:
    given = record.get("input", "")
    return (f"### Instruction: {record['instruction']} ### Input: {given}"
            f" ### Response: {record['response']}")


@mutant("ex02_1", "no space after 'Response:'", phrase="only the spaces differ")
def format_record__no_space_after_response(record: dict) -> str:
    text = f"### Instruction: {record['instruction']}"
    if record.get("input"):
        text += f" ### Input: {record['input']}"
    return text + f" ### Response:{record['response']}"


@mutant("ex02_2", "Dolly's context dropped (input field lost)", phrase="'context'")
def normalize__context_dropped(record: dict) -> dict:
    answer = record["output"] if "output" in record else record["response"]
    return {"instruction": record["instruction"], "input": record.get("input") or "",
            "response": answer}


@mutant("ex02_2", "Alpaca's output key kept", phrase="return exactly")
def normalize__output_key_kept(record: dict) -> dict:
    out = {k: v for k, v in record.items() if k != "category"}
    out.setdefault("input", out.pop("context", ""))
    return out


@mutant("ex02_2", "None input kept", phrase="'input' should be ''")
def normalize__none_input_kept(record: dict) -> dict:
    if "output" in record:
        return {"instruction": record["instruction"], "input": record.get("input"),
                "response": record["output"]}
    return {"instruction": record["instruction"], "input": record["context"],
            "response": record["response"]}


@mutant("ex02_3", "instruction length in characters", phrase="fewer than 3 words")
def find_poor_quality__length_in_characters(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        continues = bool(words) and words[0] == instruction.lower().split()[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "spaces-only response kept", phrase="use .strip()")
def find_poor_quality__spaces_only_kept(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = response == ""
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        continues = bool(words) and words[0] == instruction.lower().split()[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "continuation compared case-sensitively", phrase="lower case")
def find_poor_quality__case_sensitive(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        continues = bool(response.split()) and response.split()[0] == instruction.split()[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "flags instead of indices", phrase="return the *indices*")
def find_poor_quality__flags_not_indices(records: list) -> list:
    poor = []
    for i, record in enumerate(records):  # noqa: B007 (the mistake: i is never used)
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        continues = bool(words) and words[0] == instruction.lower().split()[0]
        if empty or vague or repeats or continues:
            poor.append(True)
    return poor


@mutant("ex02_3", "empty responses flagged only", phrase="is poor")
def find_poor_quality__only_empty(records: list) -> list:
    return [i for i, r in enumerate(records) if not r["response"].strip()]


@mutant("ex02_2", "explicit None input kept (record.get('input', ''))",
        phrase="or None input becomes ''")
def normalize__explicit_none_kept(record: dict) -> dict:
    if "output" in record:
        return {"instruction": record["instruction"], "input": record.get("input", ""),
                "response": record["output"]}
    return {"instruction": record["instruction"], "input": record.get("context", ""),
            "response": record["response"]}


@mutant("ex02_3", "repetition: at most half different (<=)", phrase="exactly half")
def find_poor_quality__repeats_at_most_half(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) <= len(words) / 2
        first = instruction.lower().split()[:1]
        continues = bool(words) and bool(first) and words[0] == first[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "repetition: more than 4 words (> 4)", phrase="at least 4 words")
def find_poor_quality__repeats_more_than_4_words(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) > 4 and len(set(words)) < len(words) / 2
        first = instruction.lower().split()[:1]
        continues = bool(words) and bool(first) and words[0] == first[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "repetition: half rounded down (// 2)", phrase="2 < 2.5")
def find_poor_quality__repeats_half_rounded_down(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) // 2
        first = instruction.lower().split()[:1]
        continues = bool(words) and bool(first) and words[0] == first[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "repetition: words compared case-sensitively",
        phrase="repeats itself: 5 words, 1 different in lower case")
def find_poor_quality__repeats_case_sensitive(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        first = instruction.lower().split()[:1]
        continues = bool(words) and bool(first) and words[0].lower() == first[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "continuation: response starts with the first word as a prefix",
        phrase="not a prefix")
def find_poor_quality__continues_by_prefix(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        first = instruction.lower().split()[:1]
        continues = bool(first) and response.lower().startswith(first[0])
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@right("ex02_3", "numpy: indices from np.flatnonzero (np.int64)")
def find_poor_quality__numpy_indices(records: list) -> list:
    import numpy as np

    def poor(record):
        instruction = record["instruction"].lower().split()
        response = record["response"].lower().split()
        return (not response or len(instruction) < 3
                or (len(response) >= 4 and len(set(response)) < len(response) / 2)
                or (response[0] == instruction[0] if instruction else False))

    return list(np.flatnonzero([poor(r) for r in records]))


@mutant("ex02_1", "an input of None written out", phrase="has no input")
def format_record__none_written(record: dict) -> str:
    text = f"### Instruction: {record['instruction']}"
    if record.get("input", "") != "":
        text += f" ### Input: {record['input']}"
    return text + f" ### Response: {record['response']}"


@mutant("ex02_2", "schema told apart by the 'context' key", phrase="'output' only exists")
def normalize__schema_by_context(record: dict) -> dict:
    if "context" in record:
        return {"instruction": record["instruction"], "input": record["context"] or "",
                "response": record["response"]}
    return {"instruction": record["instruction"], "input": record.get("input") or "",
            "response": record["output"]}


@mutant("ex02_3", "instruction words counted with split(' ')", phrase="count words with .split()")
def find_poor_quality__instruction_split_on_space(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split(" ")) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        first = instruction.lower().split()[:1]
        continues = bool(words) and bool(first) and words[0] == first[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "response words counted with split(' ')", phrase="at newlines too")
def find_poor_quality__response_split_on_space(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split(" ")
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        first = instruction.lower().split()[:1]
        continues = bool(response.strip()) and bool(first) and words[0] == first[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "continuation: response starts with the first word and a space",
        phrase="continues instead of answering")
def find_poor_quality__continues_with_space(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        first = instruction.lower().split()[:1]
        continues = bool(first) and response.lower().startswith(first[0] + " ")
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "first word of an empty instruction taken unguarded",
        phrase="an empty instruction has no first word")
def find_poor_quality__empty_instruction_unguarded(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        continues = bool(words) and words[0] == instruction.lower().split()[0]
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@mutant("ex02_3", "continuation: response starts with any word of the instruction",
        phrase="is not the instruction's first word")
def find_poor_quality__continues_with_any_word(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        empty = not response.strip()
        vague = len(instruction.split()) < 3
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        continues = bool(words) and words[0] in instruction.lower().split()
        if empty or vague or repeats or continues:
            poor.append(i)
    return poor


@right("ex02_1", "a list of parts joined with spaces")
def format_record__joined_parts(record: dict) -> str:
    parts = ["### Instruction:", record["instruction"]]
    if record.get("input") not in (None, ""):
        parts += ["### Input:", record["input"]]
    return " ".join(parts + ["### Response:", record["response"]])


@right("ex02_2", "schemas told apart by their answer key, in one dict comprehension")
def normalize__by_answer_key(record: dict) -> dict:
    alpaca = "output" in record
    keys = {"instruction": "instruction", "input": "input" if alpaca else "context",
            "response": "output" if alpaca else "response"}
    return {mine: record.get(theirs) or "" for mine, theirs in keys.items()}


@mutant("ex02_2", "the row emptied with record.pop", phrase="changed the record it was given")
def normalize__pops_the_row(record: dict) -> dict:
    instruction = record.pop("instruction")
    if "output" in record:
        given, answer = record.pop("input", None), record.pop("output")
    else:
        given, answer = record.pop("context", None), record.pop("response")
    return {"instruction": instruction, "input": given or "", "response": answer}


@mutant("ex02_1", "the caller's record changed: a missing input set to ''",
        phrase="changed the record it was given")
def format_record__input_filled_in(record: dict) -> str:
    if not record.get("input"):
        record["input"] = ""
    text = f"### Instruction: {record['instruction']}"
    if record["input"]:
        text += f" ### Input: {record['input']}"
    return text + f" ### Response: {record['response']}"


@mutant("ex02_3", "an index appended once per rule broken", phrase="return each index once")
def find_poor_quality__index_per_rule(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        first = instruction.lower().split()[:1]
        for broken in (not response.strip(), len(instruction.split()) < 3,
                       len(words) >= 4 and len(set(words)) < len(words) / 2,
                       bool(words) and bool(first) and words[0] == first[0]):
            if broken:
                poor.append(i)
    return poor


@mutant("ex02_3", "indices counted from 1 (enumerate(records, 1))", phrase="count from 1")
def find_poor_quality__counted_from_1(records: list) -> list:
    poor = []
    for i, record in enumerate(records, 1):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        first = instruction.lower().split()[:1]
        if (not response.strip() or len(instruction.split()) < 3
                or len(words) >= 4 and len(set(words)) < len(words) / 2
                or bool(words) and bool(first) and words[0] == first[0]):
            poor.append(i)
    return poor


@mutant("ex02_3", "a set of indices", phrase="not a set")
def find_poor_quality__a_set(records: list) -> list:
    poor = set()
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        first = instruction.lower().split()[:1]
        if (not response.strip() or len(instruction.split()) < 3
                or len(words) >= 4 and len(set(words)) < len(words) / 2
                or bool(words) and bool(first) and words[0] == first[0]):
            poor.add(i)
    return poor


@mutant("ex02_1", "parts in the record's own key order (record.items())", phrase="response-first")
def format_record__record_key_order(record: dict) -> str:
    return " ".join(f"### {key.capitalize()}: {value}" for key, value in record.items() if value)


@mutant("ex02_3", "index from records.index(record): equal records get the first one's",
        phrase="records.index(record) finds the first equal record")
def find_poor_quality__records_index(records: list) -> list:
    poor = []
    for record in records:
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        first = instruction.lower().split()[:1]
        if (not response.strip() or len(instruction.split()) < 3
                or (len(words) >= 4 and len(set(words)) < len(words) / 2)
                or (words and first and words[0] == first[0])):
            poor.append(records.index(record))
    return poor


@mutant("ex02_2", "record.get('output') or record.get('response'): an empty output lost",
        phrase="passes an empty '' over")
def normalize__answer_or_chain(record: dict) -> dict:
    return {"instruction": record["instruction"],
            "input": record.get("input") or record.get("context") or "",
            "response": record.get("output") or record.get("response")}


@mutant("ex02_2", "schemas told apart by Dolly's extra 'category' field",
        phrase="'context' and 'category' may be missing")
def normalize__by_category(record: dict) -> dict:
    if "category" in record:
        return {"instruction": record["instruction"], "input": record.get("context") or "",
                "response": record["response"]}
    return {"instruction": record["instruction"], "input": record.get("input") or "",
            "response": record["output"]}


@right("ex02_2", "a table of each part's key names, the first one the row has")
def normalize__table_of_names(record: dict) -> dict:
    names = {"input": ("input", "context"), "response": ("output", "response")}
    out = {"instruction": record["instruction"]}
    for mine, theirs in names.items():
        key = next((k for k in theirs if k in record), None)
        out[mine] = (record[key] if key else None) or ""
    return out


@mutant("ex02_3", "continuation: first words compared with their punctuation stripped",
        phrase="punctuation included")
def find_poor_quality__punctuation_stripped(records: list) -> list:
    poor = []
    for i, record in enumerate(records):
        instruction, response = record["instruction"], record["response"]
        words = response.lower().split()
        first = [w.strip("?.,!:") for w in instruction.lower().split()[:1]]
        continues = bool(words) and bool(first) and words[0].strip("?.,!:") == first[0]
        repeats = len(words) >= 4 and len(set(words)) < len(words) / 2
        if not response.strip() or len(instruction.split()) < 3 or repeats or continues:
            poor.append(i)
    return poor
