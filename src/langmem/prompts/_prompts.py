"""LLM-facing text of the prompt optimizers: task prompts, tool schemas and correction feedback.

Reviewed like code; ``tests/prompts/snapshots`` pins what is sent. Custom templates given in an
optimizer's config use the placeholders documented on each default below (upstream's names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# --- task prompts ------------------------------------------------------------------------------

# prompt_memory: one call. Placeholders: {prompt}, {trajectories}, {update_instructions}.
PROMPT_MEMORY_PROMPT = """You maintain the system prompt of an AI assistant. Improve it using the \
conversations below and the feedback they received.

<current_prompt>
{prompt}
</current_prompt>

<trajectories>
{trajectories}
</trajectories>
{update_instructions}
Change the prompt only where the conversations or the feedback show a problem that the prompt can \
fix, and keep everything that works. Then call submit_prompt: changed=false if no change is \
warranted, else changed=true with the complete new prompt or, for a few local changes, \
edits."""

# metaprompt (the `metaprompt` config key). Placeholders: {prompt}, {trajectories},
# {update_instructions}.
METAPROMPT_PROMPT = """You maintain the system prompt of an AI assistant. Study how it did in the \
conversations below and the feedback on them, find what the prompt makes go wrong, and fix that.

<current_prompt>
{prompt}
</current_prompt>

<trajectories>
{trajectories}
</trajectories>
{update_instructions}
Reason first with reflect: what failed, and which instruction (or missing instruction) caused it. \
Then call submit_prompt: changed=false if the prompt already works, else changed=true with the \
complete new prompt or, for a few local changes, edits. Make the smallest changes that fix the \
observed failures: an explicit rule for a logic or policy failure, a short example for a style \
failure, step-by-step guidance for a reasoning failure."""

# gradient, first phase (the `gradient_prompt` config key). Placeholders: {prompt},
# {trajectories}, {update_instructions}, {feedback}.
GRADIENT_PROMPT = """You review how an AI assistant performed so that its system prompt can be \
improved.

<current_prompt>
{prompt}
</current_prompt>

<trajectories>
{trajectories}
</trajectories>
{update_instructions}
Find what went wrong: compare what users wanted, and the feedback, with what the assistant did. \
Use reflect to form hypotheses about which instruction (or missing instruction) caused each \
failure. Then call recommend: warrants_adjustment=false if nothing shows a failure that the prompt \
can fix; otherwise your hypotheses and concrete, minimal recommendations, each tied to a failure."""

# gradient, second phase (the `metaprompt` config key of the gradient optimizer). Placeholders:
# {current_prompt}, {hypotheses}, {recommendations}, {update_instructions}.
GRADIENT_METAPROMPT = """Revise the system prompt of an AI assistant.

<current_prompt>
{current_prompt}
</current_prompt>

Why it underperforms:
<hypotheses>
{hypotheses}
</hypotheses>

Recommended changes:
<recommendations>
{recommendations}
</recommendations>
{update_instructions}
Apply only the changes that are clearly necessary to fix these failures and keep everything else \
as it is. Call submit_prompt with edits for a few local changes, or with the complete new \
prompt."""

# multi-prompt: which prompts does the feedback concern? Placeholders: {trajectories}, {prompts}.
SELECT_PROMPTS_PROMPT = """An AI application runs on several prompts. Decide which of them caused \
the problems seen in the conversations below, so that only those get revised.

<trajectories>
{trajectories}
</trajectories>

<prompts>
{prompts}
</prompts>

Call select_prompts with the names of the prompts that need a change (none if nothing needs \
fixing). Where a prompt says when to update it, follow that."""


def update_instructions_section(instructions: str) -> str:
    """The developer's update instructions as a tagged block for the default prompts."""
    if not instructions.strip():
        return ""
    return f"\n<update_instructions>\n{instructions.strip()}\n</update_instructions>\n"


def prompt_listing(name: str, text: str, when_to_update: str, update_instructions: str) -> str:
    """One prompt as shown to the prompt selector."""
    lines = [f'<prompt name="{name}">', text, "</prompt>"]
    if when_to_update.strip():
        lines.append(f"when_to_update: {when_to_update.strip()}")
    if update_instructions.strip():
        lines.append(f"update_instructions: {update_instructions.strip()}")
    return "\n".join(lines)


# --- tools -------------------------------------------------------------------------------------

REFLECT = "reflect"
SUBMIT_PROMPT = "submit_prompt"
RECOMMEND = "recommend"
SELECT_PROMPTS = "select_prompts"

REFLECT_ACK = "Noted. Continue."


def reflect_tool() -> dict[str, Any]:
    return _tool(
        REFLECT,
        "Think before answering: note an observation, a hypothesis about a failure and its "
        "cause, or a critique of an earlier thought.",
        {"thought": {"type": "string"}},
        ["thought"],
    )


def prompt_field_description(variables: Sequence[str]) -> str:
    """How to write the new prompt (names the template variables that must be kept)."""
    text = "The complete new prompt (not a diff)."
    if variables:
        names = ", ".join("{" + v + "}" for v in variables)
        text += f" Keep the template variables {names} exactly as written."
    return text


def submit_prompt_tool(variables: Sequence[str]) -> dict[str, Any]:
    return _tool(
        SUBMIT_PROMPT,
        "Give your final answer: whether the prompt should change and, if so, the new prompt.",
        {
            "changed": {"type": "boolean", "description": "false if the prompt should stay as is."},
            "new_prompt": {"type": "string", "description": prompt_field_description(variables)},
            "edits": {
                "type": "array",
                "description": "Instead of new_prompt, for a few local changes: replace each "
                "`find` (an exact passage that occurs once in the current prompt) by `replace`.",
                "items": {
                    "type": "object",
                    "properties": {"find": {"type": "string"}, "replace": {"type": "string"}},
                    "required": ["find", "replace"],
                },
            },
        },
        ["changed"],
    )


def recommend_tool() -> dict[str, Any]:
    return _tool(
        RECOMMEND,
        "Give your conclusion: whether the prompt needs a change and, if so, why and what to do.",
        {
            "warrants_adjustment": {
                "type": "boolean",
                "description": "true only if a failure shows that a prompt change would fix.",
            },
            "hypotheses": {
                "type": "string",
                "description": "What goes wrong and which part of the prompt causes it.",
            },
            "recommendations": {
                "type": "string",
                "description": "Concrete, minimal changes, each tied to a failure.",
            },
        },
        ["warrants_adjustment"],
    )


def select_prompts_tool(names: Sequence[str]) -> dict[str, Any]:
    return _tool(
        SELECT_PROMPTS,
        "Name the prompts that should be revised.",
        {
            "names": {
                "type": "array",
                "items": {"type": "string", "enum": list(names)},
                "description": "Prompts to revise; empty if none.",
            }
        },
        ["names"],
    )


def _tool(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


# --- correction feedback (sent back to the model after an unusable reply) ---------------------

FIX_NO_TOOL_CALL = "You did not call a tool. Call {tools} now."
FIX_UNKNOWN_TOOL = "There is no tool {name!r} here. Call {tools} instead."
FIX_BAD_ARGUMENTS = "The arguments of {tool} are not valid: {problems}. Call it again, corrected."
FIX_MISSING_VARIABLES = (
    "Your new prompt dropped or renamed the template variable(s) {names}. Each must appear exactly "
    "as in the original prompt. Call submit_prompt again with the complete prompt including them."
)
FIX_UNKNOWN_PROMPTS = "Unknown prompt name(s) {names}; choose among {choices}. Call {tool} again."
FIX_SKIPPED = "Not processed: fix the other call first."
FIX_EDIT_NOT_FOUND = (
    "Edit {number}: its `find` text {count} in the current prompt; it must match exactly one "
    "passage. Quote the passage exactly, or give the complete new_prompt instead."
)
