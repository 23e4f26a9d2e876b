"""CMRC 2018's dev set as bench/cjk.py reads it, from a git copy of its repository.

CMRC 2018 (https://github.com/ymcui/cmrc2018, CC BY-SA 4.0; Cui et al., "A Span-Extraction
Dataset for Chinese Machine Reading Comprehension", EMNLP 2019) is a Chinese
reading-comprehension set: Wikipedia passages with questions whose answers are spans of the
passage. Nothing of it is kept in this repository: the first :func:`read` builds the extract
from a git copy of that repository at :data:`COMMIT` (``--source PATH`` or
``$LANGMEM_CMRC2018``; a bare mirror will do) and caches it as the other data sets
(:mod:`data.sources`, checked against its SHA-256). The extract keeps, for each passage of the
dev set, its title and its sentences (split after 。！？!? and any closing quote or bracket that
follows), and for each question the sentence its answer starts in (a question whose answer is
not found where its offset says, nor anywhere in the passage, is left out).

    python bench/data/cmrc2018.py [--source PATH/TO/cmrc2018]   # prints what it read
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data import sources

DEV_SET = "squad-style-data/cmrc2018_dev.json"
COMMIT = "c0eb1b6ba219847457e6af3180da722bbeb656af"
"""The repository's commit the numbers in docs/ranking.md were measured on."""
SOURCE = sources.Source(
    name="cmrc2018",
    variable="LANGMEM_CMRC2018",
    repository="ymcui/cmrc2018",
    commit=COMMIT,
    content="e6a948f12f24fa12b0504f0c7a2634b6861a6b0fc7a76db90ad921912954c944",
)

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


def build(git: Path) -> dict[str, Any]:
    """The extract, from the git directory ``git`` at :data:`COMMIT`."""
    return extract(sources.show(git, COMMIT, DEV_SET))


def read(given: Path | str | None = None) -> dict[str, Any]:
    """The passages (``[id, title, sentences]``) and questions (``[text, passage number,
    sentence number]``) of the dev set, from the cached extract (built first from the git copy
    ``given``, else ``$LANGMEM_CMRC2018``)."""
    data: dict[str, Any] = sources.load(SOURCE, build, given)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help=SOURCE.help())
    args = parser.parse_args()
    out = read(args.source)
    sentences = sum(len(a[2]) for a in out["articles"])
    print(
        f"{len(out['articles'])} passages, {sentences} sentences, {len(out['questions'])} questions"
    )


if __name__ == "__main__":
    main()
