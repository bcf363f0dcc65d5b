"""Bring your own corpus: upload or paste, validated, then kept for this browser session.

The sidebar widgets hand an accepted corpus to :func:`ui.components.store.set_session_corpus`;
the shared corpus and its index are never changed. A bad file shows its specific message and the
previous corpus stays in place.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

import retrieval_attention as ra
from ui.components.i18n import _, current_lang, fmt_number, ngettext
from ui.components.store import session_corpus, set_session_corpus
from ui.components.text import md

#: Largest upload accepted (also ``server.maxUploadSize`` in .streamlit/config.toml), and the
#: largest paste: what one session's own corpus may hold, with at most MAX_ROWS rows and every title
#: cut at ra.corpus.MAX_TITLE_CHARS characters (a session keeps one own corpus; a new one replaces it).
MAX_UPLOAD_MB = 5
#: Most records accepted: embedding runs at a few hundred titles per second on a laptop CPU, so
#: 20,000 titles already take about a minute; more would stall a class waiting on one server.
MAX_ROWS = ra.corpus.MAX_ROWS


def limits() -> str:
    """What an upload may be, in the session's language."""
    return _(
        "CSV (commas, semicolons or tabs), JSON or JSONL with a `title` column, or titles one per line; "
        "at most {mb} MB and {rows} rows, pasted or uploaded (embedding runs at a few hundred titles a "
        "second on a CPU); titles longer than {chars} characters are cut. Stays in this browser tab only."
    ).format(mb=MAX_UPLOAD_MB, rows=fmt_number(MAX_ROWS), chars=fmt_number(ra.corpus.MAX_TITLE_CHARS))


_SEEN, _MESSAGE = "own_seen", "own_message"  # session state: the last file handled, the note to show


def _accept(corpus: ra.Corpus) -> None:
    set_session_corpus(corpus)
    note = _("Using {source}: {n} keys.").format(source=md(corpus.source), n=fmt_number(len(corpus)))
    if corpus.cut_titles:
        note += "  \n" + ngettext(
            "{n} title was cut to what the model reads: its first {chars} characters.",
            "{n} titles were cut to what the model reads: their first {chars} characters.",
            corpus.cut_titles,
        ).format(n=fmt_number(corpus.cut_titles), chars=fmt_number(ra.corpus.MAX_TITLE_CHARS))
    if corpus.warnings:
        note += "  \n" + "  \n".join(md(w) for w in corpus.warnings[:5])
    st.session_state[_MESSAGE] = ("success", note)


def _refuse(message: str) -> None:
    kept = session_corpus()
    if kept is not None:
        where = _("Nothing was changed: still using {source}.").format(source=md(kept.source))
    else:
        where = _("Nothing was changed: still using the bundled videos.")
    st.session_state[_MESSAGE] = ("error", f"{md(message)}  \n{where}")


def _refuse_error(exc: ra.CorpusError) -> None:
    """Refuse with the library's message, in the session's language where the library keeps it as a template."""
    if isinstance(exc, ra.corpus.RowLimitError):
        _refuse(
            _("{source} has {count} rows; the limit is {limit}").format(
                source=exc.label, count=fmt_number(exc.rows), limit=fmt_number(exc.limit)
            )
        )
    elif isinstance(exc, ra.corpus.SaidCorpusError):
        _refuse(exc.said(current_lang()))
    else:
        _refuse(str(exc))


def _load_upload(upload: UploadedFile) -> None:
    raw = upload.getvalue()
    if len(raw) > MAX_UPLOAD_MB * 1024 * 1024:
        _refuse(
            _("{name} is {size} MB; the limit is {limit} MB").format(
                name=upload.name, size=fmt_number(len(raw) / 1e6, 1), limit=MAX_UPLOAD_MB
            )
        )
        return
    try:
        _accept(ra.parse_corpus(raw, upload.name, max_rows=MAX_ROWS))
    except ra.CorpusError as exc:
        _refuse_error(exc)


def _load_paste(text: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))  # the box's max_chars counts characters; a limit is bytes
    if size > MAX_UPLOAD_MB * 1024 * 1024:
        _refuse(
            _("The pasted text is {size} MB; the limit is {limit} MB, as for an upload").format(
                size=fmt_number(size / 1e6, 1), limit=MAX_UPLOAD_MB
            )
        )
        return
    try:
        _accept(ra.corpus.parse_titles(text, source="pasted titles", max_rows=MAX_ROWS))
    except ra.CorpusError as exc:
        _refuse_error(exc)


def own_data_controls() -> None:
    """Sidebar widgets for an own corpus; they update this session's corpus, never the shared one."""
    with st.sidebar.expander(_("Use your own data"), expanded=session_corpus() is not None):
        st.caption(limits())
        # No `type=` filter on purpose: Streamlit would raise its own exception for other suffixes;
        # parse_corpus refuses them (.npy, .pkl, .faiss, ...) with a specific message instead.
        upload = st.file_uploader(
            _("Upload a corpus (.csv, .json, .jsonl, .txt)"), key="own_file", max_upload_size=MAX_UPLOAD_MB
        )
        if upload is not None and upload.file_id != st.session_state.get(_SEEN):
            st.session_state[_SEEN] = upload.file_id
            _load_upload(upload)
        pasted = st.text_area(
            _("…or paste titles, one per line"), key="own_paste", height=120, max_chars=MAX_UPLOAD_MB * 1024 * 1024
        )
        a, b = st.columns(2)
        if a.button(_("Use pasted"), key="own_use_paste"):
            _load_paste(pasted)
        if b.button(_("Bundled videos"), key="own_reset", help=_("Back to the shared bundled corpus")):
            set_session_corpus(None)
            st.session_state[_MESSAGE] = ("success", _("Back to the bundled videos."))
        kind, text = st.session_state.get(_MESSAGE, (None, ""))
        if kind == "error":
            st.error(text)
        elif kind == "success":
            st.success(text)
