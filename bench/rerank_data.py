"""Training groups for the MiniLM cross-encoder re-ranker, from public dialogue QA data.

Two data sets that none of our benchmarks evaluate on, both Apache License 2.0:

- FriendsQA (https://github.com/emorynlp/FriendsQA): questions about scenes of the TV show
  Friends, each answer a span of one utterance (its dev and test files: 2,383 questions over
  249 scenes; the train file is not in the mirror we read).
- Molweni (https://github.com/HIT-SCIR/Molweni): questions about Ubuntu IRC chats (its MRC test
  file: 100 dialogues), each answer a span of the dialogue's text, mapped here to its utterance.

Neither is in this repository. The first run reads the two repositories at their pinned commits
from git copies (clones or mirrors, no work tree needed) given by ``--friendsqa`` /
``--molweni`` or ``$LANGMEM_FRIENDSQA_REPO`` / ``$LANGMEM_MOLWENI_REPO``, and caches the compact
extracts outside the repository (``~/.cache/langmem-bench/data/{friendsqa,molweni}-*.json.gz``:
each dialogue's utterances as ``[speaker, text]`` and its questions as ``[question, [answer
utterance indexes]]``); ``extract`` only builds them. docs/bench-data.md says where the data
comes from. ``groups`` (the default) turns the extracts into training groups: a question, its
answer utterance ("Speaker: text") and ``--negatives`` hard negatives, taken in turn from the
same dialogue's utterances ranked by BM25 and by MiniLM cosine to the question, plus two from
other dialogues. Dialogues are split ``train``/``valid`` (about 10% valid) by a seeded hash of
their id. Each group also carries the base MiniLM cosine and BM25 score of every text, so the
training script can report the base model's order as the baseline. Everything is seeded and
deterministic. The groups go to ``$XDG_CACHE_HOME/langmem-bench/rerank-groups-*.json`` (outside
the repository) and the path is printed.

    python bench/rerank_data.py extract --friendsqa GIT_COPY --molweni GIT_COPY
    python bench/rerank_data.py [groups] [--negatives 7] [--seed 0]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data import sources

FRIENDSQA = sources.Source(
    name="friendsqa",
    variable="LANGMEM_FRIENDSQA_REPO",
    repository="emorynlp/FriendsQA",
    commit="9ce6c98a6acf13c87d96b6811e4409b5de43bdfe",
    content="11529d1aedff960771692d4087158777d301a974b401811a572dbac481960cd6",
)
MOLWENI = sources.Source(
    name="molweni",
    variable="LANGMEM_MOLWENI_REPO",
    repository="HIT-SCIR/Molweni",
    commit="2eb681d7e610ee3fda4ab3b4cc364554bd17ee67",
    content="aab695f962d9e452ac165138926cd5e16d1e9c0ec450e98f35bb1d518d1dc804",
)
VALID_SHARE = 0.1
OTHER_DIALOGUE_NEGATIVES = 2

# ----------------------------------------------------------------------------------- extract


_SPACES = [
    (re.compile(r" (n't|'s|'re|'ve|'ll|'m|'d)\b", re.IGNORECASE), r"\1"),
    (re.compile(r"\b(gon|wan) na\b", re.IGNORECASE), r"\1na"),
    (re.compile(r" ([.,!?;:%)\]])"), r"\1"),
    (re.compile(r"([(\[$]) "), r"\1"),
    (re.compile(r"\s+"), " "),
]


def detokenize(text: str) -> str:
    """Undo the data sets' tokenized spacing ("do n't", "gon na", "it .") to plain text."""
    for pattern, replacement in _SPACES:
        text = pattern.sub(replacement, text)
    return text.strip()


def friendsqa(git_dir: Path, commit: str = FRIENDSQA.commit) -> dict[str, Any]:
    dialogues = []
    for name in ("dev", "tst"):
        data = sources.show(git_dir, commit, f"dat/friendsqa_{name}.json")
        for scene in data["data"]:
            for number, paragraph in enumerate(scene["paragraphs"]):
                utterances = [
                    [
                        " and ".join(u["speakers"]).replace("#NOTE#", "Scene note") or "Someone",
                        detokenize(u["utterance"]),
                    ]
                    for u in paragraph["utterances:"]
                ]
                questions = []
                for qa in paragraph["qas"]:
                    uids = [a["utterance_id"] for a in qa["answers"]]
                    # the utterance most annotators chose first (ties: the first answer's)
                    counts = Counter(uids)
                    ordered = sorted(dict.fromkeys(uids), key=lambda u: -counts[u])
                    ordered = [u for u in ordered if 0 <= u < len(utterances)]
                    if ordered:
                        questions.append([detokenize(qa["question"]), ordered])
                if questions:
                    dialogues.append(
                        {
                            "id": f"friendsqa-{scene['title']}-{number}",
                            "utterances": utterances,
                            "questions": questions,
                        }
                    )
    return {
        "source": "https://github.com/emorynlp/FriendsQA (dat/friendsqa_dev.json, _tst.json)",
        "commit": commit,
        "license": "Apache License 2.0 (friendsqa-LICENSE)",
        "dialogues": dialogues,
    }


def _edu_of(spans: list[tuple[int, int]], start: int) -> int | None:
    for index, (low, high) in enumerate(spans):
        if low <= start < high:
            return index
    return None


def molweni(git_dir: Path, commit: str = MOLWENI.commit) -> dict[str, Any]:
    data = sources.show(git_dir, commit, "MRC(withDiscourse)/test.json")
    dialogues = []
    unmapped = 0
    for number, dialogue in enumerate(data["data"]["dialogues"]):
        edus = dialogue["edus"]
        context = dialogue["context"]
        # the context is "speaker: text speaker: text ..." lower-cased: find each edu in turn
        spans: list[tuple[int, int]] = []
        position = 0
        for edu in edus:
            piece = f"{edu['speaker']}: {edu['text']}".lower()
            found = context.find(piece, position)
            if found < 0:
                found = context.find(edu["text"].lower(), position)
            if found < 0:
                spans.append((position, position))
                continue
            spans.append((found, found + len(piece)))
            position = found + len(piece)
        questions = []
        for qa in dialogue["qas"]:
            if qa.get("is_impossible") or not qa["answers"]:
                continue
            uids = [_edu_of(spans, a["answer_start"]) for a in qa["answers"]]
            picked = [u for u in dict.fromkeys(uids) if u is not None]
            if not picked:
                unmapped += 1
                continue
            questions.append([detokenize(qa["question"]), picked])
        if questions:
            dialogues.append(
                {
                    "id": f"molweni-{number:03d}",
                    "utterances": [[e["speaker"], detokenize(e["text"])] for e in edus],
                    "questions": questions,
                }
            )
    print(f"molweni: {unmapped} answers not found in their dialogue's utterances (skipped)")
    return {
        "source": "https://github.com/HIT-SCIR/Molweni (MRC(withDiscourse)/test.json)",
        "commit": commit,
        "license": "Apache License 2.0 (molweni-LICENSE)",
        "dialogues": dialogues,
    }


def extracts(args: argparse.Namespace) -> tuple[Path, Path]:
    """The cached FriendsQA and Molweni extracts, built from the given git copies if needed."""
    return (
        sources.extract(FRIENDSQA, friendsqa, args.friendsqa),
        sources.extract(MOLWENI, molweni, args.molweni),
    )


def extract(args: argparse.Namespace) -> None:
    for path in extracts(args):
        dialogues = _load(path)
        questions = sum(len(d["questions"]) for d in dialogues)
        print(f"{path}: {len(dialogues)} dialogues, {questions} questions")


# ------------------------------------------------------------------------------------ groups

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def bm25(query: str, texts: list[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 of ``query`` against each of ``texts`` (the texts are the collection)."""
    docs = [_words(t) for t in texts]
    average = sum(map(len, docs)) / max(len(docs), 1) or 1.0
    frequency = Counter(w for d in docs for w in set(d))
    scores = []
    for doc in docs:
        counts = Counter(doc)
        score = 0.0
        for word in set(_words(query)):
            tf = counts.get(word, 0)
            if tf:
                idf = math.log(1 + (len(docs) - frequency[word] + 0.5) / (frequency[word] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / average))
        scores.append(score)
    return scores


def _split(dialogue_id: str, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:{dialogue_id}".encode()).digest()
    return "valid" if int.from_bytes(digest[:4], "big") / 2**32 < VALID_SHARE else "train"


def _load(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        dialogues: list[dict[str, Any]] = json.load(f)["dialogues"]
    return dialogues


def _embedder() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from langmem.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


def _group(
    question: str,
    lines: list[str],
    answers: list[int],
    elsewhere: list[list[str]],
    rng: random.Random,
    negatives: int,
    vectors: dict[str, Any],
    query_vector: Any,
) -> dict[str, Any]:
    """One group: the first answer line, then hard negatives from ``lines`` (BM25 and cosine
    ranks in turn, never an answer) and ``OTHER_DIALOGUE_NEGATIVES`` lines of ``elsewhere``."""
    excluded = {lines[a] for a in answers}
    lexical = bm25(question, lines)
    cosine = [float(vectors[t] @ query_vector) for t in lines]
    by_lexical = sorted(range(len(lines)), key=lambda i: (-lexical[i], i))
    by_cosine = sorted(range(len(lines)), key=lambda i: (-cosine[i], i))
    chosen: list[str] = []
    same_dialogue = negatives - OTHER_DIALOGUE_NEGATIVES
    for a, b in zip(by_lexical, by_cosine):
        for i in (a, b):
            if len(chosen) < same_dialogue and lines[i] not in excluded | set(chosen):
                chosen.append(lines[i])
    while len(chosen) < negatives:
        pick = rng.choice(rng.choice(elsewhere))
        if pick not in excluded and pick not in chosen:
            chosen.append(pick)
    texts = [lines[answers[0]], *chosen]
    return {
        "query": question,
        "texts": texts,  # the first is the answer
        "cosine": [round(float(vectors[t] @ query_vector), 6) for t in texts],
        "bm25": [round(x, 4) for x in bm25(question, texts)],
    }


def build_groups(negatives: int, seed: int, paths: tuple[Path, Path]) -> list[dict[str, Any]]:
    """The training groups (see the module docstring), in a fixed order."""
    named = {"friendsqa": _load(paths[0]), "molweni": _load(paths[1])}
    dialogues = [(name, d) for name, items in named.items() for d in items]
    rendered = {d["id"]: [f"{s}: {t}" for s, t in d["utterances"]] for _, d in dialogues}
    texts = sorted({t for items in rendered.values() for t in items})
    queries = sorted({q for _, d in dialogues for q, _ in d["questions"]})
    embedder = _embedder()
    vectors = dict(zip(texts, embedder.embed_array(texts)))
    query_vectors = dict(zip(queries, embedder.embed_array(queries)))
    rng = random.Random(seed)
    groups = []
    for source, dialogue in dialogues:
        split = _split(dialogue["id"], seed)
        lines = rendered[dialogue["id"]]
        others = [rendered[d["id"]] for s, d in dialogues if d is not dialogue and s == source]
        for question, answers in dialogue["questions"]:
            group = _group(
                question, lines, answers, others, rng, negatives, vectors, query_vectors[question]
            )
            groups.append({"split": split, "source": source, "dialogue": dialogue["id"], **group})
    return groups


def conversation_groups(negatives: int, seed: int, users: int) -> list[dict[str, Any]]:
    """Training groups from bench/data/conversations.py's generator with a FRESH seed.

    That generator seeds user ``i`` with ``random.Random(seed * 1000 + i)``; the benchmark's
    dev and test users are seed 0 (generator seeds 0-23), so any ``seed`` >= 1 (with fewer than
    1000 users) gives users that share no generator seed with them. Still the same templates,
    names and phrasing: an adapter trained on these flatters bench/conversations.py.
    """
    if seed < 1 or users >= 1000:
        raise SystemExit(f"--seed {seed} / --users {users}: need seed >= 1 and users < 1000")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from data.conversations import build

    built = build(seed=seed, users=users)
    by_user = {c.user: list(c.turns) for c in built}
    lines_of = {u: [t.text for t in turns] for u, turns in by_user.items()}
    texts = sorted({t for lines in lines_of.values() for t in lines})
    queries = sorted({q.text for c in built for q in c.questions})
    embedder = _embedder()
    vectors = dict(zip(texts, embedder.embed_array(texts)))
    query_vectors = dict(zip(queries, embedder.embed_array(queries)))
    rng = random.Random(seed)
    groups = []
    for conversation in built:
        turns = by_user[conversation.user]
        lines = lines_of[conversation.user]
        index = {t.key: i for i, t in enumerate(turns)}
        others = [v for u, v in lines_of.items() if u != conversation.user]
        for q in conversation.questions:
            answers = [index[k] for k in q.evidence]
            group = _group(
                q.text, lines, answers, others, rng, negatives, vectors, query_vectors[q.text]
            )
            groups.append(
                {
                    "split": "train",
                    "source": f"conversations-seed{seed}",
                    "dialogue": f"seed{seed}-{conversation.user}",
                    **group,
                }
            )
    return groups


def cache_path(negatives: int, seed: int, paths: tuple[Path, Path]) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(paths[0].read_bytes() + paths[1].read_bytes()).hexdigest()[:12]
    return base / "langmem-bench" / f"rerank-groups-{digest}-n{negatives}-s{seed}.json"


def _mrr(groups: list[dict[str, Any]], key: str) -> tuple[float, float]:
    ranks = [1 + sum(s > g[key][0] for s in g[key][1:]) for g in groups]
    return float(np.mean([1 / r for r in ranks])), float(np.mean([r == 1 for r in ranks]))


def groups_command(args: argparse.Namespace) -> None:
    paths = extracts(args)
    path = cache_path(args.negatives, args.seed, paths)
    if path.exists():
        groups = json.loads(path.read_text())
    else:
        groups = build_groups(args.negatives, args.seed, paths)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(groups, ensure_ascii=False))
    for split in ("train", "valid"):
        part = [g for g in groups if g["split"] == split]
        by_source = Counter(g["source"] for g in part)
        dialogues = len({g["dialogue"] for g in part})
        print(
            f"{split}: {len(part)} groups of 1 + {args.negatives} texts from {dialogues} "
            f"dialogues ({dict(sorted(by_source.items()))})"
        )
        for key in ("cosine", "bm25"):
            mrr, r1 = _mrr(part, key)
            print(f"  base {key:6s} order within groups: MRR {mrr:.3f}  R@1 {r1:.3f}")
    print(path)


def conversations_command(args: argparse.Namespace) -> None:
    base = cache_path(args.negatives, 0, extracts(args))
    out = base.with_name(f"rerank-groups-conversations-seed{args.seed}-u{args.users}.json")
    groups = json.loads(base.read_text()) + conversation_groups(
        args.negatives, args.seed, args.users
    )
    out.write_text(json.dumps(groups, ensure_ascii=False))
    print(f"{sum(g['source'].startswith('conversations') for g in groups)} conversation groups")
    print(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--friendsqa", type=Path, help=FRIENDSQA.help())
    data.add_argument("--molweni", type=Path, help=MOLWENI.help())
    commands.add_parser(
        "extract", parents=[data], help="only build the cached FriendsQA and Molweni extracts"
    )
    gr = commands.add_parser(
        "groups", parents=[data], help="build the training groups (the default)"
    )
    co = commands.add_parser(
        "conversations",
        parents=[data],
        help="the groups plus ones from bench/data/conversations.py with a fresh seed (flatters "
        "that benchmark; never shipped)",
    )
    co.add_argument("--negatives", type=int, default=7)
    co.add_argument("--seed", type=int, required=True, help=">= 1 (0 is the benchmark's)")
    co.add_argument("--users", type=int, default=12)
    parser.add_argument("--friendsqa", type=Path, help=FRIENDSQA.help())
    parser.add_argument("--molweni", type=Path, help=MOLWENI.help())
    for p in (parser, gr):
        p.add_argument("--negatives", type=int, default=7)
        p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.command == "extract":
        extract(args)
    elif args.command == "conversations":
        conversations_command(args)
    else:
        groups_command(args)


if __name__ == "__main__":
    main()
