"""LLM-facing text of the knowledge subsystem. Reviewed like code; snapshot tests pin it."""

from __future__ import annotations

MANAGE_TOOL_INSTRUCTIONS = (
    "Call this tool to remember things worth knowing in later conversations: the user's "
    "preferences, facts about them and their work, commitments and corrections. Save a memory "
    "as soon as you learn it, and keep memories accurate: change one that became wrong rather "
    "than adding a contradicting one."
)

MANAGE_ACTION_HELP = {
    "create": "'create' stores new content (no id)",
    "update": "'update' replaces the content of the memory with the given id",
    "delete": "'delete' removes the memory with the given id (no content)",
}


def manage_tool_description(instructions: str, actions: tuple[str, ...]) -> str:
    """The manage tool's description, listing only the permitted actions."""
    verbs = "/".join(actions)
    helps = "; ".join(MANAGE_ACTION_HELP[a] for a in actions)
    return f"{verbs.capitalize()} a long-term memory. {helps}.\n\n{instructions}".rstrip()


SEARCH_TOOL_DESCRIPTION = (
    "Search long-term memories for anything relevant to the conversation: who the user is, "
    "what they prefer, what was decided before. Returns the best matches as JSON."
)


def search_tool_description(instructions: str) -> str:
    return f"{SEARCH_TOOL_DESCRIPTION}\n\n{instructions}".rstrip() if instructions else SEARCH_TOOL_DESCRIPTION


# Tool error messages: the agent reads these and should be able to correct its call.
ERR_ACTION_FORBIDDEN = (
    "Action {action!r} is not allowed for this tool; allowed actions: {allowed}. Nothing was changed."
)
ERR_CREATE_WITH_ID = (
    "Action 'create' takes no id (a new id is assigned). To change memory {id}, use action "
    "'update'{update_hint}. Nothing was changed."
)
ERR_ID_REQUIRED = "Action {action!r} needs the id of an existing memory. Nothing was changed."
ERR_CONTENT_REQUIRED = "Action {action!r} needs content. Nothing was changed."
ERR_DELETE_WITH_CONTENT = (
    "Action 'delete' takes only an id, not content. Nothing was changed."
)
ERR_UNKNOWN_ID = (
    "No memory with id {id} exists here, so it cannot be {verb}. Search memories to find the "
    "right id{create_hint}. Nothing was changed."
)
ERR_INVALID_ARGUMENTS = "Invalid arguments for {tool}: {problems}. Nothing was changed."
