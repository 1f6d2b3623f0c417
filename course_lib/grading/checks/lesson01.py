"""Checks for lesson 01, a base model continues text: next-token probabilities, greedy decoding."""

from __future__ import annotations

from types import SimpleNamespace

from course_lib.grading.checks import rounded_places, token_ids
from course_lib.grading.registry import exercise
from course_lib.world.toy import make_smollm2_like_tokenizer, make_toy_model, make_toy_tokenizer


def _pairs(value, k: int) -> list[tuple[str, float]]:
    """The learner's top-k as (str, float) pairs, or an AssertionError saying what is off."""
    assert isinstance(value, list | tuple), (
        f"top_next_tokens should return a list of (token, probability) pairs, not "
        f"{type(value).__name__}.")
    # A kept dimension (logits[:, -1], logits[-1]) makes topk give rows: each "id" a list.
    assert not any(isinstance(pair, list | tuple) and any(_many(x) for x in pair)
                   for pair in value), (
        "your pairs hold lists, not one token and one probability: take the scores of one "
        "position, logits[0, -1] (shape (vocab,)), so that topk gives k ids.")
    pairs = f"{k} pair" + ("s" if k != 1 else "")
    assert len(value) == k, f"with k={k} return {pairs}, not {len(value)}."
    out = []
    for pair in value:
        assert isinstance(pair, list | tuple) and len(pair) == 2, (
            f"each entry should be a (token, probability) pair, not {pair!r}.")
        token, prob = pair
        assert isinstance(token, str), (
            f"the token should be its text (tokenizer.decode([token_id])), not {token!r}.")
        out.append((token, float(prob)))
    return out


def _many(x) -> bool:
    """A list, or a tensor or an array of more than one number, where one number belongs."""
    return isinstance(x, list | tuple) or (getattr(x, "ndim", 0) > 0 and len(x) > 1)


def _close(a: list[float], b: list[float]) -> bool:
    return all(abs(x - y) < 1e-4 for x, y in zip(a, b, strict=True))


@exercise(
    "ex01_1",
    title="The top-k next tokens from raw logits",
    hints=[
        "model(...).logits has shape (batch, length, vocab): the prediction for the next token "
        "is at the last position, logits[0, -1].",
        "torch.softmax(..., dim=-1) turns the vocabulary's scores into probabilities that sum "
        "to 1; then .topk(k) gives the k largest values and their indices (token ids).",
        "Decode each id alone, tokenizer.decode([token_id]), and return "
        "[(text, probability), ...], most likely first (topk already sorts).",
    ],
)
def check_top_next_tokens(top_next_tokens):
    import torch

    tokenizer = make_toy_tokenizer()
    vocab = len(tokenizer)
    torch.manual_seed(1)
    logits = torch.randn(1, 5, vocab) * 3
    for k in (5, 1):
        given = logits.clone()
        got = _pairs(top_next_tokens(given, tokenizer, k), k)
        assert torch.equal(given, logits), (
            "top_next_tokens changed the logits it was given, but the caller still needs them: "
            "compute on a new tensor (torch.softmax(logits[0, -1], dim=-1) makes one), not in "
            "place (-=, /=, .exp_()).")
        probs = torch.softmax(logits[0, -1], dim=-1)
        top = probs.topk(k)
        want = [(tokenizer.decode([i]), p) for i, p in zip(top.indices.tolist(),
                                                           top.values.tolist(), strict=True)]
        if [t for t, _ in got] == [t for t, _ in want] and _close(
                [p for _, p in got], [p for _, p in want]):
            continue
        _diagnose_top(got, want, logits, tokenizer, k)
    _check_eos_on_top(top_next_tokens, tokenizer, logits)


def _check_eos_on_top(top_next_tokens, tokenizer, logits) -> None:
    """The EOS token as the likeliest next token: it is decoded as its text, '</s>', too."""
    logits = logits.clone()
    logits[0, -1, tokenizer.eos_token_id] = logits[0, -1].max() + 5
    tokens = [t for t, _ in _pairs(top_next_tokens(logits, tokenizer, 2), 2)]
    eos = tokenizer.decode([tokenizer.eos_token_id])
    assert tokens[0] == eos, (
        f"when the EOS token is the most likely, its entry should be {eos!r}, as "
        f"tokenizer.decode([token_id]) gives it, not {tokens[0]!r} (leave out "
        f"skip_special_tokens=True).")


def _diagnose_top(got, want, logits, tokenizer, k) -> None:
    import torch

    def top_of(scores):
        t = scores.topk(k)
        return [tokenizer.decode([i]) for i in t.indices.tolist()], t.values.tolist()

    tokens, probs = [t for t, _ in got], [p for _, p in got]
    want_tokens, want_probs = [t for t, _ in want], [p for _, p in want]
    _check_pieces(tokens, want_tokens, logits, tokenizer, k)
    if sorted(zip(probs, tokens, strict=True)) == sorted(zip(want_probs, want_tokens,
                                                             strict=True)) \
            or (sorted(tokens) == sorted(want_tokens) and tokens != want_tokens):
        raise AssertionError(f"right tokens, wrong order: put the most likely first; expected "
                             f"{want_tokens}, got {tokens}.")
    first_tokens, _ = top_of(torch.softmax(logits[0, 0], dim=-1))
    if tokens == first_tokens and tokens != want_tokens:
        raise AssertionError("these are the predictions after the *first* token; the next token "
                             "after the whole text is predicted at the last position, "
                             "logits[0, -1].")
    raw_tokens, raw_values = top_of(logits[0, -1])
    if tokens == want_tokens and _close(probs, raw_values):
        raise AssertionError(f"those are raw logits ({probs[0]:.2f}, ...), not probabilities: "
                             f"apply torch.softmax over the vocabulary (dim=-1) first.")
    if tokens == want_tokens and _close(probs, top_of(torch.log_softmax(logits[0, -1], -1))[1]):
        raise AssertionError(f"those are log-probabilities ({probs[0]:.2f}, ...), not "
                             f"probabilities: use torch.softmax, not torch.log_softmax.")
    if tokens == want_tokens and k > 1 and _close(probs, torch.softmax(
            torch.tensor(raw_values), dim=-1).tolist()):
        raise AssertionError(f"your {k} probabilities sum to 1 among themselves: take the "
                             f"softmax over the whole vocabulary, logits[0, -1], then the top k.")
    wrong_dim = torch.softmax(logits[0], dim=0)[-1]
    if tokens == top_of(wrong_dim)[0] and _close(probs, top_of(wrong_dim)[1]):
        raise AssertionError("the softmax ran over the positions, not over the vocabulary: use "
                             "dim=-1, so the probabilities of all possible next tokens sum to 1.")
    if tokens != want_tokens and tokens == [t.strip() for t in want_tokens]:
        raise AssertionError(f"your tokens lost their spaces: expected {want_tokens}, got "
                             f"{tokens}; keep each token's text as tokenizer.decode([token_id]) "
                             f"gives it, without .strip().")
    places = rounded_places(probs, want_probs) if tokens == want_tokens else None
    if places:
        raise AssertionError(f"right tokens, but your probabilities are rounded to {places} "
                             f"decimal places ({probs[0]!r} for {want_probs[0]:.6f}...): do not "
                             f"round them; return each probability as the softmax gives it.")
    if tokens == want_tokens:
        raise AssertionError(f"right tokens, wrong probabilities: expected {want_probs}, "
                             f"got {probs}; take the softmax of logits[0, -1].")
    raise AssertionError(f"with k={k} the most likely next tokens are {want}, but you returned "
                         f"{got}.")


def _check_pieces(tokens, want_tokens, logits, tokenizer, k) -> None:
    """Name tokens given as the vocabulary's pieces ('Ġfurt'), not decoded to their text."""
    import torch

    ids = torch.softmax(logits[0, -1], dim=-1).topk(k).indices.tolist()
    pieces = tokenizer.convert_ids_to_tokens(ids)
    if tokens != pieces or pieces == want_tokens:
        return
    shown = ", ".join(f"{p!r} for {t!r}" for p, t in zip(pieces, want_tokens, strict=True)
                      if p != t)
    raise AssertionError(f"your tokens are the vocabulary's pieces as convert_ids_to_tokens gives "
                         f"them ({shown}), not their text: decode each id alone, "
                         f"tokenizer.decode([token_id]).")


class _ScriptedModel:
    """A stand-in causal LM whose next token is known: last id + 1 (or what `says` gives after
    that many ids), then EOS at a length."""

    def __init__(self, vocab: int, eos: int, stop_at_length: int,
                 says: dict[int, int] | None = None):
        import torch

        self.vocab, self.eos, self.stop_at_length = vocab, eos, stop_at_length
        self.says = says or {}
        self.device = torch.device("cpu")
        self.training = False
        self._weight = torch.nn.Parameter(torch.zeros(1))

    def parameters(self):
        return iter([self._weight])

    def eval(self):
        return self

    def generate(self, *args, **kwargs):
        """Say why there is none, in the learner's terms: this class's name means nothing."""
        raise AttributeError("write the loop by hand: this exercise's check passes a model with "
                             "no generate(); call model(input_ids=ids) and pick the next token "
                             "yourself")

    def __getattr__(self, name: str):
        """Any other attribute (model.config, model.forward, model.to): said in the learner's
        terms, not as "'_ScriptedModel' object has no attribute", a class they never wrote."""
        eos = "; take the EOS id from tokenizer.eos_token_id" if "config" in name else ""
        # Kept under the 200 characters a verdict quotes of an exception (evaluate._detail).
        raise AttributeError(f"to test stopping at EOS, the check passes a stand-in model that "
                             f"answers only model(input_ids=ids), all the loop needs, not "
                             f"model.{name}{eos}")

    def train(self, mode: bool = True):
        return self

    def __call__(self, input_ids=None, attention_mask=None, **kwargs):
        import torch  # deferred: the grader imports every check, and most need no torch

        if input_ids is None:
            raise TypeError("call the model with input_ids: model(input_ids=...)")
        ids = torch.as_tensor(input_ids)
        if ids.dim() == 1:
            ids = ids.unsqueeze(0)
        batch, length = ids.shape
        # A cache: positions start after the ids seen. transformers 5.24 renamed the keyword
        # past_key_values to cache (the old name warns until 5.40); a learner may use either.
        past = kwargs.get("cache", kwargs.get("past_key_values"))
        seen = past.get_seq_length() if isinstance(past, _SeenIds) else 0
        logits = torch.full((batch, length, self.vocab), -10.0)
        for t in range(length):
            at = seen + t + 1  # how many ids the model has seen at this position
            nxt = self.eos if at >= self.stop_at_length else \
                self.says.get(at, (int(ids[0, t]) + 1) % self.vocab)
            if nxt == self.eos and at < self.stop_at_length:
                nxt = (nxt + 1) % self.vocab
            logits[:, t, nxt] = 10.0
        cache = _SeenIds(seen + length)
        return SimpleNamespace(logits=logits, cache=cache, past_key_values=cache)


class _SeenIds:
    """The scripted model's KV cache: only how many ids it has seen."""

    def __init__(self, length: int):
        self.length = length

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.length


@exercise(
    "ex01_2",
    title="A greedy generation loop, by hand",
    hints=[
        "Start from ids = tokenizer(prompt, return_tensors='pt')['input_ids'] as it comes (the "
        "tiny model's tokenizer puts a BOS in front; SmolLM2's none), as generate gets it. "
        "Repeat n_tokens times: logits = model(input_ids=ids).logits.",
        "The next token is logits[0, -1].argmax(); append it with torch.cat([ids, "
        "next_id.view(1, 1)], dim=1) and collect its id.",
        "Stop right after the EOS token (keep it in the list), like generate does, and return "
        "only the new ids, not the prompt's. Wrap the loop in torch.no_grad().",
    ],
)
def check_greedy_continue(greedy_continue):
    tokenizer = make_toy_tokenizer()
    model = _shaken_toy_model(tokenizer)
    for prompt, n in [("What is 2+2?", 8), ("The capital of France is", 3)]:
        _check_like_generate(greedy_continue, model, tokenizer, prompt, n)
    _check_stops_after_eos(greedy_continue, tokenizer)
    _check_stops_only_at_eos(greedy_continue, tokenizer)
    # SmolLM2's set-up (no BOS in front, another EOS id): a BOS or an EOS id typed in fails.
    smollm2_like = make_smollm2_like_tokenizer()
    _check_like_generate(greedy_continue, _shaken_toy_model(smollm2_like), smollm2_like,
                         "What is 2+2?", 8)
    _check_stops_after_eos(greedy_continue, smollm2_like)


def _shaken_toy_model(tokenizer):
    """The toy model with noise added: a freshly initialised one only repeats its input."""
    import torch

    model = make_toy_model(tokenizer, seed=0).eval()
    noise = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=noise) * 0.3)
    return model


def _greedy(model, tokenizer, ids, n: int) -> list[int]:
    """The new ids of model.generate(do_sample=False), the reference loop."""
    import torch

    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                             do_sample=False, eos_token_id=tokenizer.eos_token_id,
                             pad_token_id=tokenizer.pad_token_id)
    return out[0, ids.shape[1]:].tolist()


def _check_like_generate(greedy_continue, model, tokenizer, prompt: str, n: int) -> None:
    """The learner's loop gives generate's tokens, or a message naming the difference."""
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    want = _greedy(model, tokenizer, prompt_ids, n)
    got = token_ids(greedy_continue(model, tokenizer, prompt, n), "greedy_continue's result")
    case = f"for the prompt {prompt!r} with n_tokens={n}"
    if got == want:
        return
    k = prompt_ids.shape[1]
    if got[:k] == prompt_ids[0].tolist() and got[k:] == want:
        raise AssertionError(f"you returned the prompt's ids too {case}: return only the "
                             f"{len(want)} new ones.")
    assert len(got) == len(want), (
        f"{case} generate makes {len(want)} new tokens, you made {len(got)}: loop exactly "
        f"n_tokens times (stopping early only after an EOS).")
    _check_bos(got, model, tokenizer, prompt, case)
    i = next(j for j, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    raise AssertionError(
        f"{case} new token {i} should be {want[i]} ({tokenizer.decode([want[i]])!r}), but you "
        f"chose {got[i]} (generate gives {want}, you gave {got}): feed the whole ids so far, "
        f"tokenizer(prompt)'s then each new one, and take the argmax at the *last* position, "
        f"logits[0, -1] (an attention_mask, if you pass one, grows by a 1 each step too).")


def _check_bos(got: list[int], model, tokenizer, prompt: str, case: str) -> None:
    """Name a prompt tokenized without its BOS token, or with two, or with one put in front
    by hand where the tokenizer adds none."""
    bare = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    added = tokenizer(prompt, return_tensors="pt")["input_ids"]
    by_hand = tokenizer(tokenizer.bos_token + prompt, return_tensors="pt")["input_ids"]
    if added.shape == bare.shape and got == _greedy(model, tokenizer, by_hand, len(got)):
        raise AssertionError(f"{case} your prompt's ids start with a BOS token that "
                             f"tokenizer(prompt) does not put there: this tokenizer, like "
                             f"SmolLM2's, adds none. Start from tokenizer(prompt)['input_ids'] "
                             f"as it is.")
    if got == _greedy(model, tokenizer, bare, len(got)):
        raise AssertionError(f"{case} your tokens differ from generate's: tokenize with "
                             f"tokenizer(prompt) so the BOS token comes first, as in "
                             f"training.")
    double = tokenizer(tokenizer.bos_token + prompt, return_tensors="pt")["input_ids"]
    if double[0, :2].tolist() == [tokenizer.bos_token_id] * 2 and \
            got == _greedy(model, tokenizer, double, len(got)):
        raise AssertionError(f"{case} your ids start with two BOS tokens: tokenizer(prompt) "
                             f"already puts one in front, so don't add bos_token yourself.")


def _check_stops_after_eos(greedy_continue, tokenizer) -> None:
    """A model that says EOS after two new tokens: the loop must stop there, keeping the EOS."""
    prompt = "What is 2+2?"
    prompt_ids = tokenizer(prompt)["input_ids"]
    scripted = _ScriptedModel(len(tokenizer), tokenizer.eos_token_id, len(prompt_ids) + 2)
    last = prompt_ids[-1]
    want = [(last + 1) % len(tokenizer), (last + 2) % len(tokenizer), tokenizer.eos_token_id]
    got = token_ids(greedy_continue(scripted, tokenizer, prompt, 10),
                    "greedy_continue's result")
    if got == want:
        return
    if got[:3] == want and len(got) > 3:
        raise AssertionError(f"the model chose the EOS token (id {tokenizer.eos_token_id}) as "
                             f"new token 2, but your loop went on to {len(got)} tokens: stop "
                             f"right after EOS, keeping it, like generate does; read its id "
                             f"from tokenizer.eos_token_id (it differs from model to model).")
    if got == want[:2]:
        raise AssertionError("you stopped at the EOS but dropped it: keep the EOS as the last new "
                             "token, like generate does.")
    raise AssertionError(f"with a model that answers {want[:2]} then EOS, your loop gave {got}; "
                         f"expected {want}.")


def _check_stops_only_at_eos(greedy_continue, tokenizer) -> None:
    """A model that says the pad and the BOS token before its EOS: only the EOS ends the loop."""
    prompt = "What is 2+2?"
    n = len(tokenizer(prompt)["input_ids"])
    eos, others = tokenizer.eos_token_id, [tokenizer.pad_token_id, tokenizer.bos_token_id]
    scripted = _ScriptedModel(len(tokenizer), eos, n + 2, says={n: others[0], n + 1: others[1]})
    want = [*others, eos]
    got = token_ids(greedy_continue(scripted, tokenizer, prompt, 10),
                    "greedy_continue's result")
    if got == want:
        return
    if got in (want[:1], want[:2]):
        token = tokenizer.convert_ids_to_tokens(got[-1])
        raise AssertionError(f"your loop stopped after {token!r} (id {got[-1]}), a special token "
                             f"but not the EOS: stop only after tokenizer.eos_token_id ({eos}); "
                             f"a model may write other special tokens (padding, chat markers) "
                             f"before it is done.")
    raise AssertionError(f"with a model that answers {others} then EOS, your loop gave {got}; "
                         f"expected {want}.")
