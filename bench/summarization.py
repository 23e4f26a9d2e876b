"""Running summaries: upstream langmem 0.0.30 against ours, same conversations, same model.

Scenarios (``bench/summarization_upstream.py``): one call on a 2,000-message conversation with
parallel tool calls; a 200-turn conversation summarized turn by turn (two budget settings); its
user turns through ``create_react_agent(pre_model_hook=SummarizationNode(...))``; 30 turns
with one tool result 10x the budget; the guarantees of ``tests/short_term/_guarantees.py`` on N
generated conversations (10,000 by default: oversized tool results, tiny budgets,
``token_counter=len``, id-less full and trimmed histories; upstream raises on id-less messages,
counted under ``exception``). Upstream runs in its own virtual env. Prints model calls,
tokens sent to the summarizing model, what was lost, library time (model time excluded), ratios
ours/upstream, then the issue's targets.

Run: ``.venv/bin/python bench/summarization.py [conversations]``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import summarization_upstream as scenario  # noqa: E402
from _upstream import ratio, run_upstream  # noqa: E402


def run_ours(count: int) -> dict[str, Any]:
    import warnings

    from langmem.errors import TokenBudgetError
    from langmem.short_term import SummarizationNode, summarize_messages

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overruns are reported on each result
        return scenario.run_all(summarize_messages, SummarizationNode, TokenBudgetError, count)


def _row(name: str, ours: Any, theirs: Any, show_ratio: bool = True) -> str:
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value * 1000:.1f} ms"
        return str(value)

    both_numbers = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in (ours, theirs)
    )
    shown = ratio(ours, theirs) if show_ratio and both_numbers else ""
    return f"  {name:<34} {fmt(theirs):>14} {fmt(ours):>14} {shown:>8}"


def _table(title: str, ours: dict[str, Any], theirs: dict[str, Any], keys: list[str]) -> None:
    print(f"\n{title}")
    print(f"  {'':<34} {'upstream':>14} {'ours':>14} {'ratio':>8}")
    for key in keys:
        print(_row(key, ours.get(key), theirs.get(key)))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    start = time.perf_counter()
    theirs = run_upstream(HERE / "summarization_upstream.py", str(count))
    middle = time.perf_counter()
    ours = run_ours(count)
    end = time.perf_counter()
    print(f"summarization bench: upstream {middle - start:.0f} s, ours {end - middle:.0f} s")

    keys = [
        "messages",
        "conversation_tokens",
        "calls",
        "tokens_sent",
        "largest_request",
        "output_tokens",
        "marked_summarized",
        "marked_but_unread",
        "lost",
        "warnings",
        "library_seconds",
    ]
    _table(
        f"One call on a 2,000-message conversation, {scenario.BACKLOG}",
        ours["backlog"],
        theirs["backlog"],
        keys,
    )
    if ours["backlog"]["error"] or theirs["backlog"]["error"]:
        print(f"  errors: upstream {theirs['backlog']['error']}, ours {ours['backlog']['error']}")
    keys = [
        "turns",
        "conversation_tokens",
        "calls",
        "tokens_sent",
        "conversation_tokens_read",
        "largest_request",
        "largest_output",
        "turns_over_budget",
        "lost",
        "warnings",
        "library_seconds",
    ]
    for name, config in scenario.TURN_CONFIGS.items():
        _table(
            f"200 turns summarized turn by turn ({name}: {config})",
            ours["turns"][name],
            theirs["turns"][name],
            keys,
        )
        o, t = ours["turns"][name], theirs["turns"][name]
        per_o = o["tokens_sent"] / max(o["conversation_tokens_read"], 1)
        per_t = t["tokens_sent"] / max(t["conversation_tokens_read"], 1)
        print(f"  {'tokens sent per conversation token read':<34} {per_t:>14.2f} {per_o:>14.2f}")

    a_o, a_t = ours["agent"], theirs["agent"]
    _table(
        "200 turns through create_react_agent(pre_model_hook=SummarizationNode(...))\n"
        f"  ({scenario.TURN_CONFIGS['default']}, output_messages_key='llm_input_messages',"
        " default agent state, InMemorySaver, one thread; library time includes LangGraph's)",
        a_o,
        a_t,
        [
            "turns",
            "messages",
            "conversation_tokens",
            "summary_in_state",
            "calls",
            "tokens_sent",
            "conversation_tokens_read",
            "calls_building_on_a_summary",
            "messages_sent_again",
            "calls_sending_again",
            "messages_behind_last_input",
            "largest_request",
            "largest_agent_input",
            "agent_inputs_over_budget",
            "lost",
            "warnings",
            "library_seconds",
        ],
    )
    from_scratch = not a_t["summary_in_state"] and a_t["calls_building_on_a_summary"] == 0
    dropped = not (a_t["summary_in_state"] or a_o["summary_in_state"])
    print(
        "  The node writes the running summary to state['context']; the default agent state has"
        " no such key, "
        + ("so LangGraph drops it" if dropped else "yet a summary is in the state")
        + f" (in state after {a_t['turns']} turns: upstream {a_t['summary_in_state']},"
        f" ours {a_o['summary_in_state']})."
    )
    print(
        f"  Upstream: {a_t['calls_building_on_a_summary']} of {a_t['calls']} calls built on an"
        f" earlier summary; {a_t['messages_sent_again']} already-sent messages went to the"
        f" summarizer again, in {a_t['calls_sending_again']} calls"
        + (
            " -> it re-summarizes from scratch each turn over the threshold."
            if from_scratch
            else "."
        )
    )
    print(
        "  Ours keeps the last summary per thread (src/langmem/short_term/_node.py; warnings:"
        f" {a_o['warnings']}):"
        f" {a_o['calls_building_on_a_summary']} of {a_o['calls']} calls built on the previous"
        f" summary, {a_o['messages_sent_again']} messages sent again."
    )
    print(
        f"  The last agent input stands for {a_t['messages_behind_last_input']} (upstream) and"
        f" {a_o['messages_behind_last_input']} (ours) of the {a_o['messages'] - 1} earlier messages"
        " (kept as they are, or read by the chain of summaries it carries)."
    )

    h_o, h_t = ours["huge_tool"], theirs["huge_tool"]
    _table(
        f"30 turns, one tool result 10x max_tokens ({scenario.HUGE_TOOL}), turn by turn",
        h_o,
        h_t,
        [
            "turns",
            "huge_result_tokens",
            "turns_that_raised",
            "calls",
            "tokens_sent",
            "largest_request",
            "turns_over_budget",
            "huge_result_read",
            "lost",
            "warnings",
        ],
    )
    for side, found in (("upstream", h_t), ("ours", h_o)):
        if found["first_error"]:
            print(f"  {side} first error: {found['first_error']}")

    g_o, g_t = ours["guarantees"], theirs["guarantees"]
    print(f"\nGuarantee violations on {count} generated conversations (conversations affected)")
    print(f"  {'':<34} {'upstream':>14} {'ours':>14}")
    for name in g_o["violations"]:
        print(f"  {name:<34} {g_t['violations'][name]:>14} {g_o['violations'][name]:>14}")
    for name, example in g_t["examples"].items():
        print(f"  upstream {name}: {example[:110]}")
    for name, example in g_o["examples"].items():
        print(f"  ours {name}: {example[:110]}")

    print("\nTargets")
    total = sum(g_o["violations"].values())
    print(
        f"  0 exceptions on valid input in {count} conversations: "
        f"{g_o['violations']['exception']} -> "
        f"{'met' if g_o['violations']['exception'] == 0 else 'NOT met'}"
    )
    print(
        f"  0 violations in {count} conversations: {total} -> {'met' if total == 0 else 'NOT met'}"
    )
    for name in scenario.TURN_CONFIGS:
        o, t = ours["turns"][name], theirs["turns"][name]
        tokens = o["tokens_sent"] / t["tokens_sent"]
        speed = o["library_seconds"] / t["library_seconds"]
        print(
            f"  200 turns ({name}): tokens to the summarizer {tokens:.2f}x upstream "
            f"(target <= 0.5x: {'met' if tokens <= 0.5 else 'NOT met'}); "
            f"library time {speed:.2f}x (target < 1x: {'met' if speed < 1 else 'NOT met'})"
        )
    tokens = a_o["tokens_sent"] / a_t["tokens_sent"]
    print(
        f"  200 turns through create_react_agent: tokens to the summarizer {tokens:.2f}x upstream"
        f" ({a_o['tokens_sent']}/{a_t['tokens_sent']}; target <= 0.5x:"
        f" {'met' if tokens <= 0.5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
