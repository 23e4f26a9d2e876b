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
    if not instructions:
        return SEARCH_TOOL_DESCRIPTION
    return f"{SEARCH_TOOL_DESCRIPTION}\n\n{instructions}".rstrip()


# Tool error messages: the agent reads these and should be able to correct its call.
ERR_ACTION_FORBIDDEN = (
    "Action {action!r} is not allowed for this tool; allowed actions: {allowed}. "
    "Nothing was changed."
)
ERR_CREATE_WITH_ID = (
    "Action 'create' takes no id (a new id is assigned). To change memory {id}, use action "
    "'update'{update_hint}. Nothing was changed."
)
ERR_ID_REQUIRED = "Action {action!r} needs the id of an existing memory. Nothing was changed."
ERR_CONTENT_REQUIRED = "Action {action!r} needs content. Nothing was changed."
ERR_UNKNOWN_ID = (
    "No memory with id {id} exists here, so it cannot be {verb}. Search memories to find the "
    "right id{create_hint}. Nothing was changed."
)
ERR_INVALID_ARGUMENTS = "Invalid arguments for {tool}: {problems}. Nothing was changed."

# --- Memory extraction (memory manager, store manager, searcher, thread extractor) -----------
# Token economy: this text is sent on every extraction call, so each sentence must earn its place.
# Guidance stays complete; savings come from compact rendering (short ids, terse schemas).

EXTRACTION_INSTRUCTIONS = """\
You keep the long-term memory of an AI assistant. From the conversation, decide what the \
assistant should remember about the user, the world and how it should act.
- Capture facts, preferences, relationships, goals, decisions, working procedures and the context \
needed to act well later. Favour what is surprising or keeps coming back.
- Make each memory self-contained: say who and what it concerns and keep key details (names, \
numbers, dates); quote the user when the exact words matter. Mark uncertain or implied \
information as such, with how likely it is and why.
- Compare with the current memories: when new information corrects or refines one, change it \
rather than adding a contradiction; merge overlapping memories; drop what proved false or \
redundant.
- Draw general conclusions (patterns, principles for responding well) when the evidence supports \
them.
- Keep memories dense and accurate: lose nothing worth keeping, keep nothing false, no filler."""

PHASE_INSTRUCTIONS = (
    "Review the memories below: merge duplicates, consolidate related ones into dense, "
    "self-contained memories, fix contradictions and remove what is redundant."
)

MEMORY_TOOL_DESCRIPTION = "Save one new memory."

OP_RULES_HEADER = "Current memories have short ids (m1, m2, ...). Record changes as tool calls:"
OP_RULE_INSERT = "- new memory: call the tool named after its kind ({kinds})"
OP_RULE_UPDATE = "- change a memory: call update_memory with its id and only the fields that change"
OP_RULE_DELETE = "- remove a memory: call delete_memory with its id"
OP_RULES_FOOTER = (
    "Make all calls at once, in parallel. Never duplicate a memory. If nothing should change, "
    "reply with a short note and no tool call."
)
OP_RULE_STEPS = "You have up to {steps} rounds of calls; call done when finished."

UPDATE_TOOL_DESCRIPTION = "Change an existing memory."
UPDATE_ID_DESCRIPTION = "The memory's id, e.g. m1."
UPDATE_PATCH_DESCRIPTION = (
    "Only the fields that change, with their new values; others stay as they are. "
    'A memory shown as plain text is {"content": text}.'
)
DELETE_TOOL_DESCRIPTION = "Delete an existing memory that is wrong or redundant."
DELETE_ID_DESCRIPTION = "The memory's id, e.g. m1."
DONE_TOOL_DESCRIPTION = "Call when the memories need no further changes."

# Tool results sent back when the model continues (multi-step) or must correct a call.
RESULT_INSERTED = "saved as {short}"
RESULT_UPDATED = "updated {short}"
RESULT_DELETED = "deleted {short}"
RESULT_DUPLICATE = "already saved as {short}; nothing added"
RESULT_ALREADY_DELETED = "{short} was already deleted"
RESULT_SKIPPED_EMPTY = "{what} was not saved: its content is empty"
RESULT_DONE = "ok"
RESULT_ERROR = "Error: {problem} Nothing was changed by this call; call again with a fix."

ERR_BAD_JSON = "the arguments are not valid JSON ({detail})."
ERR_UNKNOWN_TOOL = "there is no tool {name!r}; available: {available}."
ERR_UNKNOWN_MEMORY = "there is no memory {id!r}; use an id from the list, e.g. m1."
ERR_NO_MEMORIES = (
    "there is no memory {id!r}: no memories were shown, so none can be changed; save new "
    "information as a new memory."
)
ERR_DELETED_MEMORY = "memory {id!r} was already deleted."
ERR_INVALID_FIELDS = "invalid {kind}: {problems}."
ERR_UNKNOWN_FIELDS = "{kind} has no field(s) {fields}; its fields: {known}."
ERR_PATCH_NOT_OBJECT = "patch must be an object of field names to new values."

SEARCH_QUERY_INSTRUCTIONS = (
    "Write search queries that find the stored memories relevant to this conversation. Phrase "
    "each query like a memory that would help (e.g. 'User prefers ...'); one query per distinct "
    "topic."
)
SEARCH_QUERY_TOOL_DESCRIPTION = "Search long-term memories."
SEARCH_QUERIES_DESCRIPTION = "One query per distinct topic."
SEARCHER_PROMPT = (
    "Search for the memories relevant to the conversation, one query per distinct aspect of it."
)
SEARCHER_REQUEST = "Search memories for the conversation above."

THREAD_INSTRUCTIONS = "Summarize the conversation below."
THREAD_REQUEST = (
    "Call {tool} for this conversation:\n<conversation>\n{conversation}\n</conversation>"
)

# Guards: what the agent reads when a guard acted on its call (see docs/security.md).
TOOL_DELETE_HELD = (
    "Deletion of memory {id} was NOT applied: it is held until the user confirms it ({why}). "
    "Tell the user which memories you wanted to delete and why."
)
TOOL_QUARANTINED = (
    "{done}, but it reads like instructions to an AI ({patterns}), so it is quarantined: stored "
    "for review and not used until the user releases it."
)
TOOL_FLAGGED = "{done} (flagged for review: it reads like instructions to an AI: {patterns})."
