"""Turn a RealMemBench checkout into bench/data/realmem.json.gz (what bench/realmem.py reads).

RealMemBench (https://github.com/zhiyuan5986/RealMemBench, Apache License 2.0) holds, for ten
simulated people, about 200 chat sessions each with the memories extracted from every session
and, inside later sessions, user messages that need earlier memories (``is_query``) followed by
the assistant's answer naming the memories it used (``memory_used``). This keeps only what a
retrieval benchmark needs: each person's memories (text, session number, session date, kind)
and each query (text, session number, category, single- or multi-session, the memories used).

    python bench/data/realmem_extract.py PATH/TO/RealMemBench [--commit HASH]
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "realmem.json.gz"


def _text(content: Any) -> str:
    """A memory's text: most are strings, a few are JSON objects (kept as compact JSON)."""
    if isinstance(content, str):
        return content.strip()
    return json.dumps(content, ensure_ascii=False, separators=(", ", ": "))


def person(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--commit", default="", help="the checkout's commit, recorded")
    args = parser.parse_args()
    people = [person(p) for p in sorted((args.checkout / "dataset").glob("*_dialogues_*.json"))]
    out = {
        "source": "https://github.com/zhiyuan5986/RealMemBench",
        "commit": args.commit,
        "license": "Apache License 2.0 (see the source repository's LICENSE)",
        "memory": "[key, session number, session date, session id, text]",
        "query": "[text, session number, category, session type, evidence keys]",
        "people": people,
    }
    with gzip.open(OUT, "wt", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    for p in people:
        print(p["name"], len(p["memories"]), "memories", len(p["queries"]), "queries")
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
