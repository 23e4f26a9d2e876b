"""Build the RealMemBench extract bench/realmem.py reads, from a git copy of RealMemBench.

RealMemBench (https://github.com/zhiyuan5986/RealMemBench, Apache License 2.0) holds, for ten
simulated people, about 200 chat sessions each with the memories extracted from every session
and, inside later sessions, user messages that need earlier memories (``is_query``) followed by
the assistant's answer naming the memories it used (``memory_used``). This keeps only what a
retrieval benchmark needs: each person's memories (text, session number, session date, kind)
and each query (text, session number, category, single- or multi-session, the memories used).

The extract is not in this repository: it is built on first use (``sources.extract``) from
the pinned commit of a git copy given by ``--source`` or ``$LANGMEM_REALMEM_REPO`` and cached
outside the repository; docs/bench-data.md says where the data comes from.

    python bench/data/realmem_extract.py [--source GIT_COPY]   # builds it, prints its counts
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data import sources

SOURCE = sources.Source(
    name="realmem",
    variable="LANGMEM_REALMEM_REPO",
    repository="zhiyuan5986/RealMemBench",
    commit="067c486a525b0811ef9cb8cb5ad258e286d0ce7e",
    content="66d927bc1680455407aea43f42fd96dcfcb55b1038151a80ec0b48ec1ee31853",
)


def _text(content: Any) -> str:
    """A memory's text: most are strings, a few are JSON objects (kept as compact JSON)."""
    if isinstance(content, str):
        return content.strip()
    return json.dumps(content, ensure_ascii=False, separators=(", ", ": "))


def person(data: dict[str, Any]) -> dict[str, Any]:
    """One person's file (``dataset/NAME_dialogues_256k.json``) as the extract keeps it."""
    name = data["_metadata"]["person_name"]
    keys: dict[str, str] = {}  # memory text -> key (a text told twice is one memory)
    memories: list[list[Any]] = []
    queries: list[list[Any]] = []
    for number, session in enumerate(data["dialogues"]):
        date = session["current_time"].split(" ")[0]
        turns = session["dialogue_turns"]
        for position, turn in enumerate(turns):
            if not turn.get("is_query"):
                continue
            answer = turns[position + 1] if position + 1 < len(turns) else {}
            used = [keys.get(_text(m["content"])) for m in answer.get("memory_used") or []]
            evidence = sorted({k for k in used if k is not None})
            if evidence:
                queries.append(
                    [
                        turn["content"].strip(),
                        number,
                        turn.get("category_name", ""),
                        turn.get("session_type", ""),
                        evidence,
                    ]
                )
        # a session's memories are written after its queries (as RealMem's own harness does)
        for memory in session["extracted_memory"]:
            text = _text(memory["content"])
            if text and text not in keys:
                keys[text] = f"{name}-{len(memories):04d}"
                memories.append([keys[text], number, date, session["session_uuid"], text])
    return {"name": name, "memories": memories, "queries": queries}


def build(git: Path, commit: str = SOURCE.commit) -> dict[str, Any]:
    names = [
        n
        for n in sources.files(git, commit, "dataset")
        if "_dialogues_" in n and n.endswith(".json")
    ]
    return {
        "source": SOURCE.url,
        "commit": commit,
        "license": "Apache License 2.0 (see the source repository's LICENSE)",
        "memory": "[key, session number, session date, session id, text]",
        "query": "[text, session number, category, session type, evidence keys]",
        "people": [person(sources.show(git, commit, f"dataset/{n}")) for n in names],
    }


def load(source: Path | str | None = None) -> dict[str, Any]:
    """The extract (built from ``source`` or ``$LANGMEM_REALMEM_REPO`` if not cached yet)."""
    data: dict[str, Any] = sources.load(SOURCE, build, source)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help=SOURCE.help())
    args = parser.parse_args()
    for p in load(args.source)["people"]:
        print(p["name"], len(p["memories"]), "memories", len(p["queries"]), "queries")
    print(sources.cached(SOURCE))


if __name__ == "__main__":
    main()
