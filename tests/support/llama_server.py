"""`python -m llama_cpp.server`, with llama.cpp's extra weight buffers (repacking) off and
Gemma 3's chat template.

ggml built with -march=native (pip's default build of llama-cpp-python) on a VM whose CPU
reports AMX that the kernel has not enabled runs AMX tile instructions from its repacked
weight buffers and dies of SIGILL at the first token; a 135M model gains nothing from them.
The server exposes no setting for it, so the default model parameters are patched here.

The packaged Gemma 3 GGUF carries no chat template, so llama-cpp-python falls back to
Llama 2's `[INST] <<SYS>>` format (the model then continues the pattern instead of
answering), and its built-in `gemma` format drops system messages - where every pipeline
node's instruction is. `gemma3` is Gemma 3's own template (as Ollama's gemma3 models use
it): the system text opens the first user turn.
"""

from __future__ import annotations

from typing import Any

import llama_cpp.llama_cpp as lib
from llama_cpp.llama_chat_format import ChatFormatterResponse, register_chat_format

_defaults = lib.llama_model_default_params


def _without_extra_buffers():  # noqa: ANN202 (a ctypes struct)
    params = _defaults()
    params.use_extra_bufts = False
    return params


lib.llama_model_default_params = _without_extra_buffers


@register_chat_format("gemma3")
def format_gemma3(messages: list[dict[str, Any]], **kwargs: Any) -> ChatFormatterResponse:
    system = "\n\n".join(str(m.get("content") or "") for m in messages if m["role"] == "system")
    prompt, first = "", True
    for message in messages:
        if message["role"] == "system":
            continue
        role = "model" if message["role"] == "assistant" else "user"
        text = str(message.get("content") or "")
        if first and role == "user" and system:
            text = f"{system}\n\n{text}"
        first = False
        prompt += f"<start_of_turn>{role}\n{text}<end_of_turn>\n"
    return ChatFormatterResponse(prompt=prompt + "<start_of_turn>model\n", stop=["<end_of_turn>"])

if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    main()
