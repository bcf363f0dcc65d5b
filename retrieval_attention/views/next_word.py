"""The next word: a trained decoder writes one token, with its distribution and the causal attention that chose it.

The page gives a prompt to a decoder (:mod:`retrieval_attention.decoder`: SmolLM2 in English,
Gemma 3 in Chinese and Spanish) and asks for the next token. Section ``next``: the ten most
probable tokens with the model's probability (temperature 1) beside the one the token is drawn
from at the chosen temperature (T = 0: greedy, a one-hot on the most probable). Section
``attention``: the causal attention row of the query that wrote it, for one layer and head: its
weights over the tokens so far, none on later ones. "Write the next word" adds one token at a
time; the KV cache grows by one key and one value per layer each time (:func:`written`).

Every number comes from the decoder's generation steps (:meth:`Decoder.generate`), kept in a
small bounded store of runs (:class:`Runs`: the app keeps one per browser session) so that the next
click runs one step, not the whole text.

Example (not run here: loads a model)::

    >>> from retrieval_attention.decoder import load_decoder            # doctest: +SKIP
    >>> m = load_decoder("smollm2")                                      # doctest: +SKIP
    >>> lesson = next_word_lesson(m, NextWordSettings("The capital of France is"))  # doctest: +SKIP
    >>> [s.key for s in lesson.sections]                                 # doctest: +SKIP
    ['next', 'attention']
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from retrieval_attention.core.topk import kept_weight, topk_order
from retrieval_attention.core.validate import check_whole
from retrieval_attention.decoder import GenerationStep
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.export.blocks import Block, Controls, LessonChart, LessonSection, Metric, Metrics, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md

__all__ = [
    "MAX_PROMPT_CHARS",
    "MAX_WRITTEN",
    "TEMPERATURES",
    "TOP",
    "NextWordSettings",
    "Runs",
    "attention_section",
    "default_model",
    "examples",
    "label",
    "model_title",
    "next_section",
    "next_word_intro",
    "next_word_lesson",
    "next_word_title",
    "written",
]

#: Tokens shown in the distribution chart.
TOP = 10
#: "Write the next word" writes at most this many tokens per prompt: one student cannot hog the server.
MAX_WRITTEN = 24
#: The prompt box takes at most this many characters (the decoder also refuses more than its context).
MAX_PROMPT_CHARS = 400
#: The temperature slider's stops (0 is greedy).
TEMPERATURES = (0.0, 0.3, 0.7, 1.0, 1.5, 2.0, 5.0)
#: Runs of generation a script's process keeps when no :class:`Runs` is given (the oldest is dropped first).
RUNS = 4


@dataclass(frozen=True)
class NextWordSettings:
    """The page's widget values."""

    prompt: str  # the text to continue (the student's, shown as text)
    temperature: float = 0.0  # T ≥ 0: 0 is greedy, 1 the model's own distribution
    seed: int = 0  # the random draw's seed (T > 0): the same seed, the same text
    written: int = 0  # tokens already written by "write the next word"; the page shows the step writing the next
    layer: int = 0  # the layer whose attention row is drawn
    head: int = 0  # the query head in that layer
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def default_model(lang: str) -> str:
    """The decoder a page opens with: the multilingual Gemma 3 in Chinese and Spanish, SmolLM2 in English."""
    return "smollm2" if lang == "en" else "gemma3"


def model_title(decoder) -> str:
    """The decoder's name as the pages write it."""
    return {"smollm2": "SmolLM2-135M-Instruct", "gemma3": "Gemma 3 270M"}.get(decoder.name, decoder.model_name)


def examples(lang: str) -> tuple[str, ...]:
    """Prompts to start from, in the page's language (the first is the default)."""
    return {
        "zh": ("北京是中国的", "今天天气很", "我爱吃苹果，因为"),
        "es": ("Madrid es la capital de", "Un año tiene doce", "Me encanta comer manzanas porque"),
    }.get(lang, ("The capital of France is", "Once upon a time, a cat", "I love eating apples because"))


def label(decoder, token_id: int) -> str:
    """A token as a student reads it: its text, a line break as ↵, a lone space as ␣, special tokens by name.

    Example:
        >>> from types import SimpleNamespace
        >>> d = SimpleNamespace(decode=lambda ids: {1: " Paris", 2: "\\n", 3: ""}[ids[0]], token=lambda i: "<bos>")
        >>> [label(d, i) for i in (1, 2, 3)]
        ['Paris', '↵', '<bos>']
    """
    text = decoder.decode([int(token_id)])
    if not text:
        return decoder.token(int(token_id))  # a special token: decode leaves it out
    return text.replace("\r", "").replace("\n", "↵").strip() or "␣"


# -- the runs: one live generation per (model, prompt, temperature, seed), extended a step at a time --


@dataclass(eq=False)
class _Run:
    steps: list[GenerationStep]
    source: Iterator[GenerationStep]
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False


#: What an earlier step of a kept run holds instead of its two (vocab,) distributions.
_DROPPED = np.zeros(0, dtype=np.float32)
_DROPPED.flags.writeable = False


class Runs:
    """Live generations, one per (model, prompt, temperature, seed), at most ``capacity`` of them.

    The least recently used run is dropped first. The app keeps one store per browser session, so a
    student's runs go when the student leaves and other students' clicks never push them out (with one
    store per server, a sixth student writing at once made every click recompute the whole text).
    Only a run's newest step keeps its two (vocab,) distributions, 2 MB for Gemma's 262,144 tokens; an
    earlier step keeps its token, attention rows and reads, so a run costs about one step's
    distributions however long it grows. Asking again for an earlier step ("Start again") runs the
    generation again from the prompt: the same steps, the same seed.

    Args:
        capacity: runs kept, at least 1.
    """

    def __init__(self, capacity: int = RUNS) -> None:
        self.capacity = check_whole(capacity, "capacity", 1, 1000)
        self._runs: OrderedDict[tuple, _Run] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._runs)

    def steps(self, decoder, prompt: str, temperature: float, seed: int, n: int) -> list[GenerationStep]:
        """The steps 0..n of a run (fewer when the model wrote an end token first); see :func:`written`."""
        key = (decoder.name, id(decoder), prompt, float(temperature), int(seed))

        def start() -> _Run:
            source = decoder.generate(prompt, max_new_tokens=MAX_WRITTEN + 1, temperature=temperature, seed=seed)
            return _Run([], source)

        with self._lock:
            run = self._runs.get(key)
            if run is None:
                run = self._runs[key] = start()
                while len(self._runs) > self.capacity:
                    self._runs.popitem(last=False)
            self._runs.move_to_end(key)
        with run.lock:  # one thread advances a run at a time
            if n + 1 < len(run.steps):  # an earlier step, whose distributions were dropped: write it again
                run.steps, run.source, run.done = [], start().source, False
            while len(run.steps) <= n and not run.done:
                step = next(run.source, None)
                if step is None:
                    run.done = True
                    break
                if run.steps:
                    run.steps[-1] = replace(run.steps[-1], probabilities=_DROPPED, sampled_from=_DROPPED)
                run.steps.append(step)
                run.done = step.stopped is not None
            return run.steps[: n + 1]


#: The store :func:`written` uses when it is given none (a script, a notebook).
PROCESS_RUNS = Runs(RUNS)


def written(decoder, prompt: str, temperature: float, seed: int, n: int, runs: Runs | None = None) -> list[GenerationStep]:
    """The first ``n + 1`` generation steps of a prompt (fewer when the model wrote an end token first).

    The run is kept in ``runs`` (:class:`Runs`), so a click that asks for one more token runs one
    step of the model with its KV cache. Only the last step returned carries the distributions
    (``probabilities``, ``sampled_from``); an earlier step's are empty arrays.

    Args:
        decoder: a :class:`~retrieval_attention.decoder.Decoder`.
        prompt: the text to continue.
        temperature: 0 for greedy, else the softmax temperature of the draw.
        seed: the draw's seed.
        n: tokens already written, 0 .. :data:`MAX_WRITTEN`.
        runs: where the run is kept; None for this process's own store (:data:`PROCESS_RUNS`).

    Returns:
        The steps 0..n (step i writes token i).

    Raises:
        InvalidParameterError: n outside 0..MAX_WRITTEN, or bad generation settings.
        QueryError: a prompt the decoder refuses (empty, too long, only special tokens).
    """
    n = check_whole(n, "written", 0, MAX_WRITTEN)
    return (PROCESS_RUNS if runs is None else runs).steps(decoder, prompt, temperature, seed, n)


# -- the document ------------------------------------------------------------------------------


def next_word_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("The next word")


def next_word_intro(lang: str = "en", model: str = "") -> tuple[Text, ...]:
    """One line: what the page shows, with the model's name."""
    _ = _gettext(lang)
    text = _(
        "A trained decoder, {model}, reads the text and gives every token of its vocabulary a probability; "
        "one is written, and the text grows by one token."
    ).format(model=md(model))
    return (Text(text, key="intro"),)


def _check(decoder, settings: NextWordSettings) -> NextWordSettings:
    cfg = decoder.config
    check_whole(settings.layer, "layer", 0, cfg.n_layers - 1)
    check_whole(settings.head, "head", 0, cfg.n_heads - 1)
    if not isinstance(settings.prompt, str):
        raise InvalidParameterError("the prompt must be text")
    return settings


def _step(decoder, settings: NextWordSettings, runs: Runs | None) -> tuple[list[GenerationStep], GenerationStep]:
    steps = written(decoder, settings.prompt, settings.temperature, settings.seed, settings.written, runs)
    return steps, steps[-1]


def _text_line(decoder, settings: NextWordSettings, steps: list[GenerationStep]) -> str:
    """The prompt, the tokens written so far (bold) and the one being written (boxed), user text escaped."""
    _ = _gettext(settings.lang)
    before = decoder.decode([s.token_id for s in steps[:-1]])
    now = label(decoder, steps[-1].token_id)
    lead = " " if before[:1].isspace() else ""  # a space before the bold span, or markdown would not bold it
    done = f"{lead}**{md(before.strip())}**" if before.strip() else ""
    return _("Text so far: {prompt}{written} → next token: `{token}`").format(
        prompt=md(settings.prompt), written=done, token=now.replace("`", "'")
    )


def next_section(decoder, settings: NextWordSettings, runs: Runs | None = None) -> LessonSection:
    """Section 1: the text so far, the next-token distribution (top ten) and the token written.

    Raises:
        ~retrieval_attention.errors.QueryError: a prompt the decoder refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer, head or count outside its range.
    """
    from retrieval_attention.charts.decoder import next_token_chart
    from retrieval_attention.charts.theme import WIDE_COLUMN_PX
    from retrieval_attention.export.specs import inline_spec, signs
    from retrieval_attention.i18n import fmt_number, fmt_percent, fmt_setting

    settings = _check(decoder, settings)
    _, lang = _gettext(settings.lang), settings.lang
    steps, step = _step(decoder, settings, runs)
    p, drawn = step.probabilities, step.sampled_from  # (V,) each
    top = [int(i) for i in topk_order(p)[:TOP]]  # most probable first (core.topk, one home)
    if step.token_id not in top:  # drawn from further down (a high temperature): shown as an eleventh bar
        top.append(step.token_id)
    T = settings.temperature
    rest = 1.0 - kept_weight(p, top[:TOP])  # the probability outside the ten most probable, at T = 1
    drawn_name = _("greedy (T = 0): all on the top token") if T == 0 else _("drawn from at T = {T}").format(
        T=fmt_setting(T, lang)
    )
    chart = next_token_chart(
        [label(decoder, i) for i in top], p[top], drawn[top],
        title=_("The next token: the {k} most probable").format(k=TOP),
        subtitle=[
            _("they hold {share} of the probability over {n} tokens").format(
                share=fmt_percent(1.0 - rest, lang, 1), n=fmt_number(len(p), lang, 0)
            ),
            _("outlined: the token written"),
        ],
        model_name=_("the model's probability (T = 1)"), drawn_name=drawn_name, value_title=_("probability"),
        chosen=top.index(step.token_id), width=WIDE_COLUMN_PX,  # beside the widgets, in the wider column
    )  # fmt: skip
    spec = inline_spec(chart, **signs(lang), validate=False)
    if T == 0:
        how = _(
            "T = 0 is greedy: the most probable token is always written, a hard lookup (the arg-max). Raise T "
            "and the draw spreads over more tokens: the same softmax temperature as on the first page (large T "
            "tends to uniform)."
        )
    else:
        how = _(
            "At T = {T} the token is drawn at random from softmax(logits / T) (seed {seed}: the same settings write "
            "the same text). T below 1 sharpens the model's distribution, above 1 flattens it; T = 0 would always "
            "write the top token."
        ).format(T=fmt_setting(T, lang), seed=settings.seed)
    blocks: list[Block] = [
        Controls(key="next_controls"),
        Text(_text_line(decoder, settings, steps), key="next_text"),
        LessonChart(spec, key="next_chart", height=None),
        Metrics(
            (
                Metric(_("token written"), label(decoder, step.token_id)),
                Metric(_("probability"), fmt_percent(float(p[step.token_id]), lang, 1), _("at T = 1")),
                Metric(
                    _("KV cache"),
                    str(step.position + 1),
                    _("tokens in the cache: one key and one value per token, layer and key-value head"),
                ),
            ),
            key="next_metrics",
        ),
        Text(how, style="caption", key="next_temperature"),
    ]
    if step.stopped == "stop_token":
        blocks.append(
            Text(
                _("The model wrote an end token: for it, the text is finished. Start again or change the prompt."),
                style="info",
                key="next_stopped",
            )
        )
    elif settings.written >= MAX_WRITTEN:
        blocks.append(
            Text(
                _("This page writes at most {n} tokens per prompt, so that every student gets a turn. Start again "
                  "or change the prompt.").format(n=MAX_WRITTEN),
                style="info",
                key="next_limit",
            )
        )
    return LessonSection(_("1 · The next token"), blocks=tuple(blocks), key="next")


def attention_section(decoder, settings: NextWordSettings, runs: Runs | None = None) -> LessonSection:
    """Section 2: the causal attention row of the step that wrote the token (one layer and head).

    Raises:
        ~retrieval_attention.errors.QueryError: a prompt the decoder refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer or head the model does not have.
    """
    from retrieval_attention.charts.decoder import attention_row_chart
    from retrieval_attention.export.specs import inline_spec, signs
    from retrieval_attention.i18n import fmt_number

    settings = _check(decoder, settings)
    _, lang = _gettext(settings.lang), settings.lang
    steps, step = _step(decoder, settings, runs)
    ids = decoder.token_ids(settings.prompt) + [s.token_id for s in steps[:-1]]  # (S,) the text so far
    tokens = [label(decoder, i) for i in ids]
    row = step.attention[settings.layer, settings.head]  # (S,) its weights over the text so far
    S = len(ids)
    chart = attention_row_chart(
        tokens, row,
        title=_("Layer {layer}, head {head}: where the query of “{token}” looked").format(
            layer=settings.layer, head=settings.head, token=tokens[-1]
        ),
        subtitle=_("its weights over the {S} tokens so far (sum 1); blue: the prompt, orange: written by the model").format(
            S=S
        ),
        value_title=_("weight"), new=len(steps) - 1,
    )  # fmt: skip
    spec = inline_spec(chart, **signs(lang), validate=False)
    best = int(row.argmax())
    blocks: list[Block] = [
        Controls(key="attention_controls"),
        LessonChart(spec, key="attention_chart", height=None),
        Metrics(
            (
                Metric(_("largest weight"), f"{fmt_number(float(row[best]), lang, 3)} · {tokens[best]}"),
                Metric(_("weight on the first token"), fmt_number(float(row[0]), lang, 3)),
                Metric(_("tokens it can see"), str(S), _("the text so far, itself included; nothing after it")),
            ),
            key="attention_metrics",
        ),
        Text(
            _(
                "Causal attention: the query of the last token is compared with the keys of every token so far and "
                "of none after them (there are none yet), so each row of the decoder's attention covers the past "
                "only. The token written next is read from this position's output."
            ),
            key="attention_text",
        ),
        Text(
            _(
                "Many heads put most of their weight on the first token when nothing else matches: a resting "
                "place for the softmax, whose weights must sum to 1. Try other layers and heads."
            ),
            style="caption",
            key="attention_first",
        ),
    ]
    return LessonSection(_("2 · Where it looked: the causal attention row"), blocks=tuple(blocks), key="attention")


def next_word_lesson(decoder, settings: NextWordSettings, runs: Runs | None = None) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and both sections.

    Args:
        decoder: the :class:`~retrieval_attention.decoder.Decoder` the page runs.
        settings: the page's widget values.
        runs: where the generation is kept (the app: the session's own); None for the process's.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.QueryError: a prompt the decoder refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer, head or count outside its range.
    """
    from retrieval_attention.export.specs import made_with, signs
    from retrieval_attention.i18n import fmt_setting

    _, lang = _gettext(settings.lang), settings.lang
    facts = (
        (_("Model"), model_title(decoder)),
        (_("Prompt"), settings.prompt),
        (_("Temperature T"), fmt_setting(settings.temperature, lang)),
        (_("Tokens written"), str(settings.written)),
        (_("Layer, head"), f"{settings.layer}, {settings.head}"),
    )
    return Lesson(
        title=next_word_title(lang),
        facts=facts,
        sections=(next_section(decoder, settings, runs), attention_section(decoder, settings, runs)),
        lang=lang,
        footer=made_with(lang),
        intro=next_word_intro(lang, model_title(decoder)),
        **signs(lang),
    )
