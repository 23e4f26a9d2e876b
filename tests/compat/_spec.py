"""Parse the upstream API listing (``upstream-api.md``, a copy of ``shared/spec``) into records."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

SPEC = Path(__file__).with_name("upstream-api.md")

_SECTION = re.compile(r"^### `([\w.]+)`")
_ROW = re.compile(r"^\| `([\w.]+)` \| ([^|]+?) \| (?:`([\w.]+)`|[^|]*) \| (.*) \|$")
_METHOD_ROW = re.compile(r"^\| `(\w+\.\w+)` \| `[\w]+` \| (.*) \|$")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # an inspect.Parameter kind name, lower case: "positional_only", ...
    default: str | None  # source text of the default, None when there is none


@dataclass(frozen=True)
class Entry:
    module: str
    name: str  # may be dotted for methods: "MemoryStoreManager.search"
    kind: str
    signature: str

    @property
    def id(self) -> str:
        return f"{self.module}:{self.name}"

    def params(self) -> list[Param] | None:
        """The parameters, or None when the listing gives no signature."""
        text = self.signature.replace("\\|", "|").strip("`")
        if "(" not in text or "<no signature" in text:
            return None
        start = text.index("(")
        depth = 0
        end = start
        for i, ch in enumerate(text[start:], start):
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        return _parse_params(text[start + 1 : end])


def _split_top_level(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _parse_params(text: str) -> list[Param]:
    params: list[Param] = []
    kind = "positional_or_keyword"
    pieces = _split_top_level(text)
    if "/" in pieces:
        slash = pieces.index("/")
        for i in range(slash):
            pieces[i] = "\0" + pieces[i]
    for piece in pieces:
        positional_only = piece.startswith("\0")
        piece = piece.lstrip("\0")
        if piece == "/":
            continue
        if piece == "*":
            kind = "keyword_only"
            continue
        if piece.startswith("**"):
            params.append(Param(piece[2:].split(":")[0].strip(), "var_keyword", None))
            continue
        if piece.startswith("*"):
            params.append(Param(piece[1:].split(":")[0].strip(), "var_positional", None))
            kind = "keyword_only"
            continue
        head, _, default = _partition_default(piece)
        name = head.split(":")[0].strip()
        params.append(Param(name, "positional_only" if positional_only else kind, default or None))
    return params


def _partition_default(piece: str) -> tuple[str, str, str]:
    depth = 0
    for i, ch in enumerate(piece):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "=" and depth == 0 and piece[i - 1 : i + 2] != "==":
            return piece[:i].strip(), "=", piece[i + 1 :].strip()
    return piece.strip(), "", ""


def plain_default(text: str) -> tuple[bool, object]:
    """``(True, value)`` when ``text`` is a plain literal default we must match exactly."""
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False, None


def entries() -> list[Entry]:
    """Every listed name and method, in the order of the listing."""
    found: list[Entry] = []
    module = ""
    runtime = False
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        section = _SECTION.match(line)
        if section:
            module, runtime = section.group(1), False
            continue
        if line.startswith("### Runtime classes"):
            module, runtime = "langmem.knowledge.extraction", True
            continue
        if line.startswith("### Legend"):
            break
        method = _METHOD_ROW.match(line)
        if method:
            name, signature = method.groups()
            owner = _runtime_module(name.split(".")[0]) if runtime else module
            found.append(Entry(owner, name, "method", signature))
            continue
        row = _ROW.match(line)
        if not row or row.group(1) in ("name", "method", "class"):
            continue
        name, kind, _defined_in, signature = row.groups()
        kind = kind.strip()
        if runtime:
            continue  # runtime class table rows: classes are checked through their methods
        found.append(Entry(module, name, kind, signature))
    return found


_RUNTIME_MODULES = {
    "MemoryManager": "langmem.knowledge.extraction",
    "MemoryStoreManager": "langmem.knowledge.extraction",
    "MultiPromptOptimizer": "langmem.prompts.optimization",
    "GradientPromptOptimizer": "langmem.prompts.gradient",
    "MetaPromptOptimizer": "langmem.prompts.metaprompt",
    "PromptMemoryMultiple": "langmem.prompts.stateless",
    "LocalReflectionExecutor": "langmem.reflection",
}


def _runtime_module(cls: str) -> str:
    return _RUNTIME_MODULES[cls]
