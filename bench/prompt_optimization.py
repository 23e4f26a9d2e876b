"""Prompt optimization: model calls and request tokens, upstream langmem 0.0.30 against ours.

Both sides run the same scenario (three trajectories with feedback, one prompt with template
variables, and a three-prompt application) against the same recording chat model, whose scripted
replies call the most final tool each request offers. Upstream runs in its own virtual env.

Run: ``.venv/bin/python bench/prompt_optimization.py``
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import prompt_optimization_upstream as scenario  # noqa: E402
from _upstream import ratio, run_upstream  # noqa: E402

KINDS = ("prompt_memory", "metaprompt", "gradient")


def run_ours() -> dict[str, Any]:
    from langmem import create_multi_prompt_optimizer, create_prompt_optimizer
    from langmem.testing import ScriptedChatModel, _scripted_model

    results: dict[str, Any] = {}
    for kind in KINDS:
        model = ScriptedChatModel(default=scenario.make_reply(_scripted_model))
        optimizer = create_prompt_optimizer(model, kind=kind)
        out = asyncio.run(
            optimizer.ainvoke({"trajectories": scenario.TRAJECTORIES, "prompt": scenario.PROMPT})
        )
        results[f"single/{kind}"] = {
            **scenario.measure(model.requests),
            "ok": out == scenario.NEW_PROMPT,
        }
        model = ScriptedChatModel(default=scenario.make_reply(_scripted_model))
        multi = create_multi_prompt_optimizer(model, kind=kind)
        outs = asyncio.run(
            multi.ainvoke({"trajectories": scenario.TRAJECTORIES, "prompts": scenario.PROMPTS})
        )
        results[f"multi/{kind}"] = {
            **scenario.measure(model.requests),
            "ok": [o["name"] for o in outs] == [p["name"] for p in scenario.PROMPTS]
            and all(o["prompt"] for o in outs),
        }
    model = ScriptedChatModel(
        default=lambda r: _scripted_model.ai_tool_calls(("submit_prompt", {"changed": False}))
    )
    kept = create_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": scenario.TRAJECTORIES, "prompt": scenario.PROMPT}
    )
    results["no_change/prompt_memory"] = {
        **scenario.measure(model.requests),
        "ok": kept == scenario.PROMPT,
    }
    return results


def main() -> None:
    started = time.perf_counter()
    theirs = run_upstream(HERE / "prompt_optimization_upstream.py")
    ours = run_ours()
    print("prompt optimization: upstream langmem 0.0.30 vs ours (same scripted model)")
    print("3 trajectories; multi = 3 prompts, all concerned by the feedback")
    header = (
        f"{'scenario':<26}{'calls up':>9}{'calls ours':>11}{'ratio':>8}"
        f"{'tokens up':>11}{'tokens ours':>12}{'ratio':>8}  result ok (up/ours)"
    )
    print(header)
    print("-" * len(header))
    for name, up in theirs.items():
        mine = ours[name]
        print(
            f"{name:<26}{up['calls']:>9}{mine['calls']:>11}{ratio(mine['calls'], up['calls']):>8}"
            f"{up['tokens']:>11,}{mine['tokens']:>12,}{ratio(mine['tokens'], up['tokens']):>8}"
            f"  {up['ok']}/{mine['ok']}"
        )
    worse = [
        name
        for name, up in theirs.items()
        if ours[name]["calls"] > up["calls"] or ours[name]["tokens"] > up["tokens"]
    ]
    verdict = "met" if not worse else "MISSED: " + ", ".join(worse)
    print(f"targets (calls and tokens <= upstream): {verdict}")
    print(f"(request tokens at ~4 characters per token; {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
