"""Wrong answers to the exercises of 01_base_model_continues.ipynb (next tokens, decoding)."""

# ruff: noqa: B905  (learners write zip() without strict=, so do the mutants)

from __future__ import annotations

import torch

from . import mutant, right


@mutant("ex01_1", "first position instead of the last", phrase="after the *first* token")
def top_next_tokens__first_position(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs = torch.softmax(logits[0, 0], dim=-1)
    top = probs.topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    return [(tokenizer.decode([i]), p) for i, p in pairs]


@mutant("ex01_1", "raw logits, no softmax", phrase="not probabilities")
def top_next_tokens__raw_logits(logits: torch.Tensor, tokenizer, k: int) -> list:
    top = logits[0, -1].topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    return [(tokenizer.decode([i]), p) for i, p in pairs]


@mutant("ex01_1", "softmax over the positions", phrase="over the positions")
def top_next_tokens__softmax_over_positions(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs = torch.softmax(logits[0], dim=0)[-1]
    top = probs.topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    return [(tokenizer.decode([i]), p) for i, p in pairs]


@mutant("ex01_1", "least likely first", phrase="most likely first")
def top_next_tokens__least_likely_first(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs = torch.softmax(logits[0, -1], dim=-1)
    top = probs.topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    pairs = [(tokenizer.decode([i]), p) for i, p in pairs]
    return pairs[::-1]


@mutant("ex01_2", "never stops at EOS", phrase="stop right after EOS")
def greedy_continue__never_stops(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new = []
    for _ in range(n_tokens):
        next_id = model(input_ids=ids).logits[0, -1].argmax()
        new.append(int(next_id))
        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
    return new


@mutant("ex01_2", "prompt ids returned too", phrase="the prompt's ids too")
def greedy_continue__returns_prompt_ids(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id == tokenizer.eos_token_id:
                break
    return ids[0].tolist()


@mutant("ex01_2", "no BOS token in front", phrase="BOS token comes first")
def greedy_continue__no_bos(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            new.append(int(next_id))
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id == tokenizer.eos_token_id:
                break
    return new


@mutant("ex01_2", "argmax at the first position", phrase="*last* position")
def greedy_continue__first_position(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, 0].argmax()
            new.append(int(next_id))
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id == tokenizer.eos_token_id:
                break
    return new


@right("ex01_1", "NumPy softmax and argsort, a tuple of pairs")
def top_next_tokens__numpy(logits: torch.Tensor, tokenizer, k: int) -> list:
    import numpy as np

    x = logits[0, -1].detach().cpu().numpy().astype("float64")
    e = np.exp(x - x.max())
    p = e / e.sum()
    return tuple((tokenizer.decode([int(i)]), float(p[i])) for i in np.argsort(-p)[:k])


@right("ex01_2", "a while loop with an attention mask, returning a tensor")
def greedy_continue__while_loop(model, tokenizer, prompt: str, n_tokens: int) -> list:
    enc = tokenizer(prompt, return_tensors="pt").to(model.device)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    start = ids.shape[1]
    with torch.no_grad():
        while ids.shape[1] - start < n_tokens:
            logits = model(input_ids=ids, attention_mask=mask).logits
            nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            ids, mask = torch.cat([ids, nxt], dim=-1), torch.cat([mask, torch.ones_like(nxt)], -1)
            if nxt.item() == tokenizer.eos_token_id:
                break
    return ids[0, start:]


@mutant("ex01_1", "special tokens skipped when decoding", phrase="skip_special_tokens")
def top_next_tokens__special_tokens_skipped(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs = torch.softmax(logits[0, -1], dim=-1)
    top = probs.topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    return [(tokenizer.decode([i], skip_special_tokens=True), p) for i, p in pairs]


@mutant("ex01_2", "BOS added twice", phrase="two BOS tokens")
def greedy_continue__double_bos(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(tokenizer.bos_token + prompt, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            new.append(int(next_id))
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id == tokenizer.eos_token_id:
                break
    return new


@mutant("ex01_2", "only the last token fed, no cache", phrase="feed the whole")
def greedy_continue__last_token_only(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            new.append(int(next_id))
            ids = next_id.view(1, 1)
            if next_id == tokenizer.eos_token_id:
                break
    return new


@right("ex01_2", "a KV cache: the prompt once, then one new token a step")
def greedy_continue__kv_cache(model, tokenizer, prompt: str, n_tokens: int) -> list:
    step = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new, past = [], None
    with torch.no_grad():
        for _ in range(n_tokens):
            out = model(input_ids=step, past_key_values=past, use_cache=True)
            past = out.past_key_values
            next_id = out.logits[0, -1].argmax()
            new.append(int(next_id))
            step = next_id.view(1, 1)
            if next_id == tokenizer.eos_token_id:
                break
    return new


@right("ex01_2", "a KV cache by its newer name, cache= (transformers >= 5.24)")
def greedy_continue__kv_cache_new_name(model, tokenizer, prompt: str, n_tokens: int) -> list:
    step = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new, past = [], None
    with torch.no_grad():
        for _ in range(n_tokens):
            out = model(input_ids=step, cache=past, use_cache=True)
            past = out.cache
            next_id = out.logits[0, -1].argmax()
            new.append(int(next_id))
            step = next_id.view(1, 1)
            if next_id == tokenizer.eos_token_id:
                break
    return new


@mutant("ex01_1", "probabilities rounded to 3 places", phrase="rounded to 3 decimal places")
def top_next_tokens__rounded(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs = torch.softmax(logits[0, -1], dim=-1)
    top = probs.topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    return [(tokenizer.decode([i]), round(float(p), 3)) for i, p in pairs]


@mutant("ex01_1", "tokens from convert_ids_to_tokens, not decoded",
        phrase="tokenizer.decode([token_id])")
def top_next_tokens__ids_to_tokens(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs = torch.softmax(logits[0, -1], dim=-1)
    top = probs.topk(k)
    tokens = tokenizer.convert_ids_to_tokens(top.indices.tolist())
    return list(zip(tokens, top.values.tolist()))


@mutant("ex01_2", "model.generate instead of a loop by hand", phrase="write the loop by hand")
def greedy_continue__generate(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    out = model.generate(ids, max_new_tokens=n_tokens, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)
    return out[0, ids.shape[1]:].tolist()


@mutant("ex01_2", "EOS id read from model.config",
        phrase="a stand-in model that answers only model(input_ids=ids), all the loop needs, "
               "not model.config; take the EOS id from tokenizer.eos_token_id")
def greedy_continue__eos_from_config(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            new.append(int(next_id))
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id == model.config.eos_token_id:
                break
    return new


@mutant("ex01_1", "the batch dimension kept: logits[:, -1]",
        phrase="take the scores of one position")
def top_next_tokens__batch_dim_kept(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs = torch.softmax(logits[:, -1], dim=-1)
    top = probs.topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    return [(tokenizer.decode([i]), p) for i, p in pairs]


@mutant("ex01_1", "softmax over the top k logits only", phrase="sum to 1 among themselves")
def top_next_tokens__softmax_of_top_k(logits: torch.Tensor, tokenizer, k: int) -> list:
    top = logits[0, -1].topk(k)
    probs = torch.softmax(top.values, dim=-1)
    return [(tokenizer.decode([i]), p) for i, p in zip(top.indices.tolist(), probs.tolist())]


@mutant("ex01_1", "k ignored: always the top 5", phrase="with k=1 return 1 pair,")
def top_next_tokens__k_ignored(logits: torch.Tensor, tokenizer, k: int) -> list:
    top = torch.softmax(logits[0, -1], dim=-1).topk(5)
    return [(tokenizer.decode([i]), p) for i, p in zip(top.indices.tolist(), top.values.tolist())]


@mutant("ex01_1", "log_softmax: log-probabilities returned", phrase="not torch.log_softmax")
def top_next_tokens__log_softmax(logits: torch.Tensor, tokenizer, k: int) -> list:
    top = torch.log_softmax(logits[0, -1], dim=-1).topk(k)
    return [(tokenizer.decode([i]), p) for i, p in zip(top.indices.tolist(), top.values.tolist())]


@mutant("ex01_2", "stops at any special token, not only the EOS",
        phrase="a special token but not the EOS")
def greedy_continue__any_special_token(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            new.append(int(next_id))
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id in tokenizer.all_special_ids:
                break
    return new


@mutant("ex01_2", "BOS put in front by hand (SmolLM2's tokenizer adds none)",
        phrase="does not put there: this tokenizer, like SmolLM2's, adds none")
def greedy_continue__bos_by_hand(model, tokenizer, prompt: str, n_tokens: int) -> list:
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([[tokenizer.bos_token_id, *prompt_ids]])
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            new.append(int(next_id))
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id == tokenizer.eos_token_id:
                break
    return new


@mutant("ex01_1", "softmax by hand, in place: the caller's logits changed",
        phrase="changed the logits it was given")
def top_next_tokens__softmax_in_place(logits: torch.Tensor, tokenizer, k: int) -> list:
    scores = logits[0, -1]  # a view: writing into it writes into the caller's logits
    scores -= scores.max()
    scores.exp_()
    scores /= scores.sum()
    top = scores.topk(k)
    return [(tokenizer.decode([i]), p) for i, p in zip(top.indices.tolist(), top.values.tolist())]


@mutant("ex01_1", "decoded tokens stripped of their spaces", phrase="without .strip()")
def top_next_tokens__stripped(logits: torch.Tensor, tokenizer, k: int) -> list:
    top = torch.softmax(logits[0, -1], dim=-1).topk(k)
    pairs = zip(top.indices.tolist(), top.values.tolist())
    return [(tokenizer.decode([i]).strip(), p) for i, p in pairs]


@right("ex01_1", "torch.sort descending, batch_decode of one id per row")
def top_next_tokens__sort(logits: torch.Tensor, tokenizer, k: int) -> list:
    probs, ids = torch.sort(logits.squeeze(0)[-1].softmax(-1), descending=True)
    texts = tokenizer.batch_decode(ids[:k].unsqueeze(-1))
    return list(zip(texts, probs[:k].tolist()))


@right("ex01_2", "a plain list of ids from encode(), a tensor made each step")
def greedy_continue__list_of_ids(model, tokenizer, prompt: str, n_tokens: int) -> list:
    ids = tokenizer.encode(prompt)
    start = len(ids)
    for _ in range(n_tokens):
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([ids])).logits
        ids.append(int(torch.argmax(logits[0, -1])))
        if ids[-1] == tokenizer.eos_token_id:
            break
    return ids[start:]


@mutant("ex01_2", "the prompt's attention_mask passed every step, never extended",
        phrase="grows by a 1 each step")
def greedy_continue__mask_not_extended(model, tokenizer, prompt: str, n_tokens: int) -> list:
    enc = tokenizer(prompt, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    new = []
    with torch.no_grad():
        for _ in range(n_tokens):
            next_id = model(input_ids=ids, attention_mask=mask).logits[0, -1].argmax()
            new.append(int(next_id))
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
            if next_id == tokenizer.eos_token_id:
                break
    return new
