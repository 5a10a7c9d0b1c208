"""`reference`: answer with the dataset's own solution - the harness's self-test.

Every benchmark problem must pass with its reference solution; if one does not, the
harness (program assembly, sandbox, grader) is wrong, not the model.
"""

from __future__ import annotations

from inspect_ai.model import ChatMessageAssistant, ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver


@solver
def reference() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        answer = f"```python\n{state.metadata['reference']}\n```"
        state.messages.append(ChatMessageAssistant(content=answer, model="reference"))
        state.output = ModelOutput.from_content(model="reference", content=answer)
        return state

    return solve
