"""Local embedding speed: throughput (sentences/s, batches of 32) and single-query latency.

Ours is all-MiniLM-L6-v2 run by numpy (langmem.embeddings.MiniLMEmbeddings); the baseline is
the same model through sentence-transformers when it is installed (it needs torch), else the
figure measured for sentence-transformers on this machine kind (DESIGN.md: 446 sentences/s).
Targets: >= 300 sentences/s and <= 10 ms per query on 2 cores, no torch.

    python bench/embeddings.py [--sentences 960] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import time
from collections.abc import Callable

from langmem.embeddings import MiniLMEmbeddings, SentenceTransformerEmbeddings, minilm_model_dir

REFERENCE_ST_PER_S = 446.0  # sentence-transformers, DESIGN.md section 8, same machine kind

SUBJECTS = ["Amara", "The user", "My sister", "Dr Okonkwo", "Our team lead", "Jonas", "Mei"]
VERBS = ["prefers", "mentioned", "is allergic to", "booked", "wants to learn", "forgot about"]
OBJECTS = [
    "green tea in the morning",
    "the flight to Lisbon on 14 March",
    "peanuts and sesame",
    "a table for six at the ramen place",
    "the cello, three lessons a week",
    "the dentist appointment next Tuesday at 9:30",
    "rock climbing with friends from work",
]
TAILS = ["", " last week", " because it was raining", " and said it matters a lot", "."]


def sentences(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}"
        for _ in range(count)
    ]


def throughput(embed: Callable[[list[str]], object], texts: list[str], repeat: int) -> float:
    embed(texts[:32])  # load and warm
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        for start in range(0, len(texts), 32):
            embed(texts[start : start + 32])
        rates.append(len(texts) / (time.perf_counter() - started))
    return statistics.median(rates)


def latency(embed: Callable[[str], object], texts: list[str]) -> tuple[float, float]:
    embed(texts[0])
    samples = []
    for text in texts:
        started = time.perf_counter()
        embed(text)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=960)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = sentences(args.sentences)
    queries = sentences(100, seed=4)
    ours = MiniLMEmbeddings()
    rows = [
        (
            "langmem MiniLMEmbeddings (numpy)",
            throughput(ours.embed_documents, texts, args.repeat),
            *latency(ours.embed_query, queries),
        )
    ]
    folder = minilm_model_dir()
    if folder is not None and importlib.util.find_spec("sentence_transformers"):
        st = SentenceTransformerEmbeddings(folder)
        rows.append(
            (
                "sentence-transformers (torch)",
                throughput(st.embed_documents, texts, args.repeat),
                *latency(st.embed_query, queries),
            )
        )
        baseline, source = rows[-1][1], "measured in this run"
    else:
        baseline, source = REFERENCE_ST_PER_S, "not installed; DESIGN.md reference figure"
    print(f"embeddings, all-MiniLM-L6-v2, {len(texts)} sentences in batches of 32:")
    print(f"  {'runner':<36}{'sentences/s':>12}{'query p50 ms':>14}{'query p95 ms':>14}")
    for name, rate, p50, p95 in rows:
        print(f"  {name:<36}{rate:>12.0f}{p50:>14.2f}{p95:>14.2f}")
    rate, p50 = rows[0][1], rows[0][2]
    print(f"  ours / sentence-transformers ({source}, {baseline:.0f}/s): {rate / baseline:.2f}")
    ok_rate, ok_latency = rate >= 300, p50 <= 10
    print(f"  target >= 300 sentences/s: {'met' if ok_rate else 'MISSED'} ({rate / 300:.2f}x)")
    print(f"  target query <= 10 ms: {'met' if ok_latency else 'MISSED'} ({p50:.2f} ms)")


if __name__ == "__main__":
    main()
