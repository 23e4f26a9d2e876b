"""CMRC 2018's dev set as bench/cjk.py reads it, from a git copy of its repository.

CMRC 2018 (https://github.com/ymcui/cmrc2018, CC BY-SA 4.0; Cui et al., "A Span-Extraction
Dataset for Chinese Machine Reading Comprehension", EMNLP 2019) is a Chinese
reading-comprehension set: Wikipedia passages with questions whose answers are spans of the
passage. Nothing of it is kept in this repository: :func:`read` takes the dev set from a git
copy of that repository (a bare mirror will do) each time, and keeps, for each passage, its
title and its sentences (split after 。！？!? and any closing quote or bracket that follows),
and for each question the sentence its answer starts in (a question whose answer is not found
where its offset says, nor anywhere in the passage, is left out).

    python bench/data/cmrc2018.py PATH/TO/cmrc2018/git-dir   # prints what it read
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

SOURCE = "squad-style-data/cmrc2018_dev.json"
COMMIT = "c0eb1b6ba219847457e6af3180da722bbeb656af"
"""The repository's commit the numbers in docs/ranking.md were measured on."""

_END = re.compile(r"[。！？!?][”’」』）)]*")


def sentences(context: str) -> list[tuple[int, str]]:
    """``(start offset, sentence)`` of each sentence of ``context`` (blank ones dropped)."""
    out: list[tuple[int, str]] = []
    start = 0
    for match in _END.finditer(context):
        out.append((start, context[start : match.end()]))
        start = match.end()
    out.append((start, context[start:]))
    return [(at, text) for at, text in out if text.strip()]


def answer_start(context: str, answer: dict[str, Any]) -> int | None:
    text, at = answer["text"], int(answer["answer_start"])
    if text and context[at : at + len(text)] == text:
        return at
    found = context.find(text) if text else -1
    return found if found >= 0 else None


def extract(data: dict[str, Any]) -> dict[str, Any]:
    articles: list[list[Any]] = []
    questions: list[list[Any]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            split = sentences(context)
            number = len(articles)
            articles.append(
                [paragraph["id"], article.get("title", ""), [s.strip() for _, s in split]]
            )
            for qa in paragraph["qas"]:
                at = answer_start(context, qa["answers"][0]) if qa["answers"] else None
                if at is None:
                    continue
                holding = max(n for n, (start, _) in enumerate(split) if start <= at)
                questions.append([qa["question"].strip(), number, holding])
    return {"articles": articles, "questions": questions}


def read(git_dir: Path, commit: str = COMMIT) -> dict[str, Any]:
    """The passages (``[id, title, sentences]``) and questions (``[text, passage number,
    sentence number]``) of the dev set at ``commit`` of the git repository ``git_dir``."""
    raw = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{commit}:{SOURCE}"],
        check=True,
        capture_output=True,
    ).stdout
    return extract(json.loads(raw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dir", type=Path)
    parser.add_argument("--commit", default=COMMIT)
    args = parser.parse_args()
    out = read(args.git_dir, args.commit)
    sentences = sum(len(a[2]) for a in out["articles"])
    print(
        f"{len(out['articles'])} passages, {sentences} sentences, {len(out['questions'])} questions"
    )


if __name__ == "__main__":
    main()
