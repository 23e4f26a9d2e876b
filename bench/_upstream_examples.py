"""Run upstream langmem's documentation examples (README, docs guides, docstrings) against ours.

Nothing of upstream's is stored here: at run time the README, ``docs/docs``, ``src`` and
``tests/test_docstring_examples.py`` are extracted from a local checkout of
github.com/langchain-ai/langmem (no network) into a temporary folder, and upstream's own block
extraction (``extract_code_blocks``, ``get_file_setup``, ``DocstringVisitor``) collects the
examples. Each group of examples (a page, or a function's docstring) runs in one namespace with
this repo's ``langmem``. Provider models become a ``ScriptedChatModel`` that calls the tool it
is offered once with arguments made from the tool's JSON schema (plain text after a tool
result), string embeddings become ``HashingEmbeddings(1536)``, and sockets refuse to connect.

A group that stops in langmem's code is printed as OURS (a defect to look at); one that stops in
the example's own code (indexing a result the scripted model did not produce, a provider SDK
that is not installed) is printed with its cause. Exits 1 when any group stops in langmem.

Run: ``.venv/bin/python bench/_upstream_examples.py [checkout]`` (default:
``$LANGMEM_UPSTREAM_REPO`` or ``/work/.mirror/langchain-ai+langmem/repo``).
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import traceback
import warnings
from pathlib import Path
from typing import Any

DEFAULT_CHECKOUT = "/work/.mirror/langchain-ai+langmem/repo"
SKIP_PREFIXES = ("bash", "text", "js", "javascript", "markdown", "pip", "$")
_count = itertools.count()


def extract(checkout: Path, folder: Path) -> None:
    git_dir = checkout / ".git" if (checkout / ".git").exists() else checkout
    archive = subprocess.run(
        [
            "git",
            f"--git-dir={git_dir}",
            "archive",
            "HEAD",
            "README.md",
            "docs/docs",
            "src",
            "tests",
        ],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)


def example_value(schema: dict[str, Any], defs: dict[str, Any], top: bool = True) -> Any:
    """A value that fits ``schema`` (required fields only below the top level)."""
    if "$ref" in schema:
        return example_value(defs.get(schema["$ref"].split("/")[-1], {}), defs, False)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return example_value(options[0], defs, False)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        props = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {k: example_value(v, defs, False) for k, v in props.items() if top or k in required}
    if kind == "array":
        return [example_value(schema.get("items", {}), defs, False)]
    return {"integer": 1, "number": 1.5, "boolean": True}.get(
        kind, f"Example {next(_count)}: the user likes green tea"
    )


def reply(request: Any) -> Any:
    """One tool call to the tool offered (forced or first useful), text after a tool result."""
    from langchain_core.messages import AIMessage

    last = request.messages[-1] if request.messages else None
    if not request.tools or getattr(last, "type", "") == "tool":
        return "OK, noted. The user likes green tea."
    functions = [t.get("function", t) for t in request.tools]
    names = [f.get("name") for f in functions]
    choice = request.tool_choice
    if isinstance(choice, dict):
        choice = choice.get("function", {}).get("name") or choice.get("name")
    if choice not in names:
        passive = ("reflect", "done", "delete_memory", "update_memory")
        choice = next((n for n in names if n not in passive), names[0])
    function = functions[names.index(choice)]
    params = function.get("parameters", {})
    args = example_value(params, params.get("$defs", {}))
    call = {"name": choice, "args": args, "id": f"call_{next(_count)}", "type": "tool_call"}
    return AIMessage("", tool_calls=[call])


def install_doubles() -> None:
    import langchain.chat_models
    import langchain.chat_models.base
    import langchain.embeddings
    import langchain.embeddings.base
    import langgraph.store.base.embed as embed
    import langgraph.store.memory

    from langmem.testing import HashingEmbeddings, ScriptedChatModel

    def refuse(*_: Any, **__: Any) -> None:
        raise OSError("network refused in this run")

    socket.socket.connect = refuse  # type: ignore[method-assign]

    def model(*_: Any, **__: Any) -> Any:
        return ScriptedChatModel(default=reply)

    def embeddings(*_: Any, **__: Any) -> Any:
        return HashingEmbeddings(1536)

    langchain.chat_models.init_chat_model = model  # type: ignore[assignment]
    langchain.chat_models.base.init_chat_model = model  # type: ignore[assignment]
    langchain.embeddings.init_embeddings = embeddings  # type: ignore[assignment]
    langchain.embeddings.base.init_embeddings = embeddings  # type: ignore[assignment]
    original = embed.ensure_embeddings
    embed.ensure_embeddings = lambda e: original(embeddings() if isinstance(e, str) else e)  # type: ignore[assignment]
    langgraph.store.memory.ensure_embeddings = embed.ensure_embeddings  # type: ignore[attr-defined]
    try:
        import langchain_openai

        class ChatOpenAI(ScriptedChatModel):
            def __init__(self, *_: Any, **__: Any) -> None:
                super().__init__(default=reply)

        langchain_openai.ChatOpenAI = ChatOpenAI  # type: ignore[misc]
    except ImportError:
        pass


def _compiled(code: str) -> Any:
    """``code`` compiled without this module's ``from __future__ import annotations`` (an
    example's annotations must be evaluated as the example's own module would)."""
    return compile(code, "<upstream example>", "exec", dont_inherit=True)


async def run_group(blocks: list[str], namespace: dict[str, Any]) -> str | None:
    for number, code in enumerate(blocks, start=1):
        try:
            if "await " in code:
                body = textwrap.indent(code, "    ")
                wrapped = f"async def _run():\n{body}\n    globals().update(locals())\n"
                exec(_compiled(wrapped), namespace)
                await namespace["_run"]()
            else:
                exec(_compiled(code), namespace)
        except BaseException as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/langmem/" in f.filename and "upstream" not in f.filename]
            place = f"OURS at {ours[-1].filename}:{ours[-1].lineno}" if ours else "example code"
            return f"block {number}/{len(blocks)}: {type(exc).__name__}: {str(exc)[:200]} ({place})"
    return None


def groups(root: Path) -> list[tuple[str, str | None, list[str]]]:
    sys.path.insert(0, str(root))
    helpers = importlib.import_module("tests.test_docstring_examples")
    found: list[tuple[str, str | None, list[str]]] = []
    for page in [root / "README.md", *sorted((root / "docs" / "docs").rglob("*.md"))]:
        if "crewai" in page.name:
            continue
        blocks = [
            b
            for b in helpers.extract_code_blocks(page.read_text())
            if not b.startswith(SKIP_PREFIXES)
        ]
        if blocks:
            found.append((str(page.relative_to(root)), None, blocks))
    for source in sorted((root / "src").rglob("*.py")):
        text = source.read_text()
        visitor = helpers.DocstringVisitor()
        visitor.current_module = ".".join(source.relative_to(root / "src").with_suffix("").parts)
        visitor.visit(ast.parse(text))
        for name, details in visitor.functions.items():
            setup = helpers.get_file_setup(text)
            found.append((name, details["module"], setup + details["examples"]))
    return found


def main() -> None:
    warnings.simplefilter("ignore")
    default = os.environ.get("LANGMEM_UPSTREAM_REPO", DEFAULT_CHECKOUT)
    checkout = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    if not checkout.exists():
        sys.exit(f"no upstream checkout at {checkout}: git clone the langmem repository there")
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "upstream"
        root.mkdir()
        extract(checkout, root)
        os.environ["LANGMEM_HOME"] = str(Path(temp) / "home")
        os.environ.setdefault("OPENAI_API_KEY", "sk-not-used")
        install_doubles()
        work = Path(temp) / "work"
        work.mkdir()
        results: dict[str, str | None] = {}
        for name, module, blocks in groups(root):
            namespace: dict[str, Any] = {"__name__": "upstream_example"}
            if module:
                namespace[module.split(".")[-1]] = importlib.import_module(module)
            os.chdir(work)
            results[name] = asyncio.run(run_group(blocks, namespace))
    ran = sum(error is None for error in results.values())
    print(f"upstream examples, against ours: {ran} of {len(results)} groups ran to the end")
    for name, error in results.items():
        if error:
            print(f"  {name}: {error}")
    sys.exit(1 if any(e and "OURS" in e for e in results.values()) else 0)


if __name__ == "__main__":
    main()
