"""Calling the model of one LLM node (generator, analyzer or refiner).

The model comes from `--model-role <node>=…` if given, else the genome's model for the
node, else the eval's model. Every setting that matters for reproducing the paper is
explicit per call: temperature, max tokens, seed, the 4096-token context (Ollama only), and bounded
retries and timeouts so a dead server cannot hang an eval.

With a cache (the search's generation cache), identical calls made at the same time -
genomes that share a node, evaluated concurrently - go to the model once: the others
wait and then read the cache. Inspect looks the cache up only when a call starts, so
without this every one of them would miss, pay for a generation and, at a temperature
above 0, get a different answer: no common random numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from inspect_ai.model import (
    CachePolicy,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
    get_model,
)

from fof_inspect.genome import NodeGene
from fof_inspect.prompts import NodeKind, system_prompt

MAX_RETRIES = 3
ATTEMPT_TIMEOUT = 600
"""Seconds per request: generous for a 3B model on a laptop CPU, finite for a dead one."""


def node_model(kind: NodeKind, node: NodeGene) -> Model:
    return get_model(role=kind, default=node.model)


def node_config(node: NodeGene, model: Model) -> GenerateConfig:
    return GenerateConfig(
        temperature=node.temperature,
        max_tokens=node.max_tokens,
        seed=node.seed,
        max_retries=MAX_RETRIES,
        attempt_timeout=ATTEMPT_TIMEOUT,
        timeout=ATTEMPT_TIMEOUT * (MAX_RETRIES + 1),
        extra_body=ollama_options(node, model),
    )


def ollama_options(node: NodeGene, model: Model) -> dict[str, Any] | None:
    """Ollama's own request options (the node's context size), for `ollama/` models only:
    any other provider (vLLM, llama.cpp, LiteLLM, an `openai-api/` server) gets a plain
    OpenAI request, since a strict server rejects fields it does not know."""
    if not str(model).startswith("ollama/"):
        return None
    return {"options": {"num_ctx": node.num_ctx}}


async def call_node(
    kind: NodeKind,
    node: NodeGene,
    user_message: str,
    cache: bool | CachePolicy = False,
    epoch: int = 1,
    draw: str = "",
) -> ModelOutput:
    """One chat completion: the node's pool prompt as system message, then `user_message`
    (`epoch`: the sample's, which a per-epoch cache keys on; `draw`: the node's position in
    the pipeline, e.g. "2.3" for stage 2, iteration 3, which a cache keys on too)."""
    cache = position_cache(cache, draw)
    model = node_model(kind, node)
    system = system_prompt(kind, node.prompt)
    messages = [ChatMessageSystem(content=system), ChatMessageUser(content=user_message)]
    config = node_config(node, model)
    if not cache:
        return await model.generate(messages, config=config, cache=cache)
    async with _one_at_a_time(_call_key(model, system, user_message, config, cache, epoch)):
        return await model.generate(messages, config=config, cache=cache)


def position_cache(cache: bool | CachePolicy, draw: str) -> bool | CachePolicy:
    """The cache policy scoped to one position in the pipeline. Without it a refiner asked the
    same prompt twice in a sample (its last answer returned the code unchanged) reads its own
    last answer back instead of sampling again, as it would without a cache; with it, the
    same position of two genomes still shares its draws (common random numbers)."""
    if not cache or not draw:
        return cache
    policy = cache if isinstance(cache, CachePolicy) else CachePolicy()
    return CachePolicy(expiry=policy.expiry, per_epoch=policy.per_epoch, scopes={**policy.scopes, "draw": draw})


_pending: dict[tuple[str, ...], tuple[anyio.Lock, int]] = {}
"""Lock and number of holders or waiters per cached call in flight."""


@asynccontextmanager
async def _one_at_a_time(key: tuple[str, ...]) -> AsyncIterator[None]:
    """Run identical cached calls one after another, so all but the first hit the cache."""
    lock, users = _pending.get(key) or (anyio.Lock(), 0)
    _pending[key] = (lock, users + 1)
    try:
        async with lock:
            yield
    finally:
        lock, users = _pending[key]
        if users == 1:
            del _pending[key]
        else:
            _pending[key] = (lock, users - 1)


def _call_key(
    model: Model, system: str, user: str, config: GenerateConfig, cache: bool | CachePolicy, epoch: int
) -> tuple[str, ...]:
    """What Inspect's cache key depends on here (a superset is safe: it only dedupes less)."""
    policy = cache if isinstance(cache, CachePolicy) else CachePolicy()
    per_epoch = str(epoch) if policy.per_epoch else ""
    return (str(model), str(model.api.base_url), system, user, config.model_dump_json(), repr(vars(policy)), per_epoch)
