"""Calling the model of one LLM node (generator, analyzer or refiner).

The model comes from `--model-role <node>=…` if given, else the genome's model for the
node, else the eval's model. Every setting that matters for reproducing the paper is
explicit per call: temperature, max tokens, seed, the 4096-token context, and bounded
retries and timeouts so a dead server cannot hang an eval.
"""

from __future__ import annotations

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
    options = {"num_ctx": node.num_ctx} if str(model).startswith("ollama/") else None
    return GenerateConfig(
        temperature=node.temperature,
        max_tokens=node.max_tokens,
        seed=node.seed,
        max_retries=MAX_RETRIES,
        attempt_timeout=ATTEMPT_TIMEOUT,
        timeout=ATTEMPT_TIMEOUT * (MAX_RETRIES + 1),
        extra_body={"options": options} if options else None,
    )


async def call_node(kind: NodeKind, node: NodeGene, user_message: str, cache: bool | CachePolicy = False) -> ModelOutput:
    """One chat completion: the node's pool prompt as system message, then `user_message`."""
    model = node_model(kind, node)
    messages = [ChatMessageSystem(content=system_prompt(kind, node.prompt)), ChatMessageUser(content=user_message)]
    return await model.generate(messages, config=node_config(node, model), cache=cache)
