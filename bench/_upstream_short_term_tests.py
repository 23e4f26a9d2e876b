"""Run upstream langmem's own short-term tests against our ``langmem.short_term``.

Nothing of upstream's is stored in this repository: the tests are copied at run time from a local
checkout of github.com/langchain-ai/langmem (a git directory or work tree; no network) into a
temporary folder outside the repo, and run with this repo's Python, so ``langmem`` is ours. Only
the imports would need adapting, and they already match (``langmem.short_term.summarization``,
``tests.short_term.utils.FakeChatModel``, whose ``invoke`` takes only the input).

Two runs:

- ``as published``: the tests unchanged;
- ``with upstream's prompts passed in``: the same tests with upstream's three prompt templates
  (read from the checkout's source at run time) given as the prompt arguments, which every
  caller may pass.

A test failing as published but passing with upstream's prompts fails on prompt wording only.
The tests failing in both runs are listed in ``LAYOUT_OR_TRUNCATION`` with the reason (the
categories documented in ``docs/compat.md``); any other failure is printed as UNEXPECTED.

Run: ``make upstream-tests`` or ``.venv/bin/python bench/_upstream_short_term_tests.py [checkout]``
(default: ``$LANGMEM_UPSTREAM_REPO`` or ``/work/.mirror/langchain-ai+langmem/repo``; get one with
``git clone https://github.com/langchain-ai/langmem``). Exits 1 on an unexpected failure.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CHECKOUT = "/work/.mirror/langchain-ai+langmem/repo"
FILES = ("__init__.py", "utils.py", "test_summarization.py", "test_summarization_async.py")

LAYOUT_OR_TRUNCATION = {
    # test -> why it still fails with upstream's prompts passed in
    "test_with_system_message": "prompt layout (their messages list vs our one transcript)",
    "test_subsequent_summarization_with_new_messages": "prompt layout (message count)",
    "test_subsequent_summarization_with_new_messages_approximate_token_counter": (
        "prompt layout (message count)"
    ),
    "test_summarization_updated_messages": "truncation (they drop 2 messages unread) + layout",
    "test_summarization_node_same_key": "truncation (they drop 2 messages unread) + layout",
    "test_missing_message_ids": "missing-id error (we give ids)",
}

CONFTEST = """
import functools
from langchain_core.prompts import ChatPromptTemplate
import langmem.short_term.summarization as ours

PROMPTS = {prompts}
KW = {{name: ChatPromptTemplate.from_messages(messages) for name, messages in PROMPTS.items()}}
ours.summarize_messages = functools.partial(ours.summarize_messages, **KW)
ours.asummarize_messages = functools.partial(ours.asummarize_messages, **KW)
_Node = ours.SummarizationNode

class SummarizationNode(_Node):
    def __init__(self, **kwargs):
        super().__init__(**{{**KW, **kwargs}})

ours.SummarizationNode = SummarizationNode
"""


def git_show(checkout: Path, path: str) -> str:
    git_dir = checkout / ".git" if (checkout / ".git").exists() else checkout
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def upstream_prompts(source: str) -> dict[str, list[tuple[str, str]]]:
    """The three default templates' (role, text) pairs, read from upstream's source."""
    names = {
        "DEFAULT_INITIAL_SUMMARY_PROMPT": "initial_summary_prompt",
        "DEFAULT_EXISTING_SUMMARY_PROMPT": "existing_summary_prompt",
        "DEFAULT_FINAL_SUMMARY_PROMPT": "final_prompt",
    }
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in names and isinstance(node.value, ast.Call):
                found[names[name]] = ast.literal_eval(node.value.args[0])
    return found


def run(folder: Path) -> dict[str, str]:
    """Run pytest in ``folder``; return {test name: 'passed' or its first failing line}."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "--tb=short"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(folder)},
    ).stdout
    outcome: dict[str, str] = {}
    for line in out.splitlines():
        found = re.match(r"(PASSED|FAILED) (\S+)", line)
        if found:
            outcome[found.group(2)] = "passed" if found.group(1) == "PASSED" else ""
    sections = re.split(r"\n_{3,} (\S+) _{3,}\n", out)
    for name, body in zip(sections[1::2], sections[2::2], strict=False):
        first = next((ln for ln in body.splitlines() if ln.startswith(("E ", ">"))), "")
        for key in outcome:
            if key.endswith("::" + name) and not outcome[key]:
                outcome[key] = (first + " | " + _first_code_line(body)).strip()
    return outcome


def _first_code_line(body: str) -> str:
    lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
    return next((ln for ln in lines if ln.startswith(("assert", "with pytest"))), "")


def base_name(test: str) -> str:
    return test.split("::")[-1].split("[")[0]


def main() -> None:
    default = os.environ.get("LANGMEM_UPSTREAM_REPO", DEFAULT_CHECKOUT)
    checkout = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    if not checkout.exists():
        sys.exit(f"no upstream checkout at {checkout}: git clone the langmem repository there")
    unexpected = 0
    with tempfile.TemporaryDirectory(prefix="upstream-langmem-tests-") as tmp:
        root = Path(tmp)
        (root / "tests" / "short_term").mkdir(parents=True)
        (root / "tests" / "__init__.py").write_text("")
        for name in FILES:
            text = git_show(checkout, f"tests/short_term/{name}")
            (root / "tests" / "short_term" / name).write_text(text)
        (root / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")

        first = run(root)
        source = git_show(checkout, "src/langmem/short_term/summarization.py")
        conftest = CONFTEST.format(prompts=repr(upstream_prompts(source)))
        (root / "conftest.py").write_text(conftest)
        second = run(root)

    def why(test: str) -> str | None:
        if second.get(test) == "passed":
            return "prompt wording (passes with upstream's prompts passed in)"
        return LAYOUT_OR_TRUNCATION.get(base_name(test))

    for title, outcome in (
        ("as published", first),
        ("with upstream's prompts passed in", second),
    ):
        passed = sum(v == "passed" for v in outcome.values())
        print(f"Upstream short-term tests, {title}: {passed} passed of {len(outcome)}")
        for test, result in sorted(outcome.items()):
            if result == "passed":
                continue
            reason = why(test)
            unexpected += reason is None
            print(f"  {reason or 'UNEXPECTED':<58} {test.split('/')[-1]}")
            if reason is None:
                print(f"    {result[:200]}")
        print()
    print(f"\nunexpected failures: {unexpected}")
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
