"""The glossary page's document: the terms of attention side by side in English, 中文 and Español, as the articles write them.

Simplified Chinese follows articles 001-003 (查询 / 键 / 值, 注意力, 缩放点积, 多头, 因果掩码), the
Traditional column follows article 000 (查詢 / 鍵 / 值, 多頭注意力, 點積, 單熱向量), and Spanish follows
article 004 (consulta / clave / valor, autoatención, producto punto, incrustación). The same words
are used by every page's translation in ``ui/locales`` and the package's catalogue: this table is
where a term is chosen.

The terms are data shown in all three languages at once, so they are not translated; the line that
says what each one is, and the column headers, are.

Example:
    >>> table = glossary_table("es")
    >>> table.columns[:4], table.rows[0][:4]
    (('English', '中文', 'chino tradicional (artículo 000)', 'Español'), ('query', '查询', '查詢', 'consulta'))
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval_attention.export.blocks import LessonSection, LessonTable, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.i18n import LANGUAGES, N_

__all__ = ["GLOSSARY", "Term", "glossary_intro", "glossary_lesson", "glossary_table", "glossary_title"]


@dataclass(frozen=True)
class Term:
    """One term in the three languages."""

    en: str  # English, the app's source language
    zh: str  # Simplified Chinese, as articles 001-003 write it
    zh_hant: str  # Traditional Chinese, as article 000 writes it (or would: see ``source``)
    es: str  # Spanish, as article 004 writes it where it uses the term
    meaning: str  # one line saying what it is here; an English msgid, translated when shown
    source: str  # the articles the Chinese and Spanish words come from


GLOSSARY: tuple[Term, ...] = (
    Term("query", "查询", "查詢", "consulta", N_("What is looked for: the text in the search bar; in a transformer, the token that asks."), "000, 002, 004"),
    Term("key", "键", "鍵", "clave", N_("What the query is compared with: the video titles; every token's key vector."), "000, 002, 004"),
    Term("value", "值", "值", "valor", N_("What comes back, weighted: the videos; every token's value vector."), "000, 001, 004"),
    Term("attention", "注意力", "注意力", "atención", N_("A weighted average of all the values; the weights say how well the query matches each key."), "000-004"),
    Term("attention score", "注意力分数", "注意力分數", "puntuación de relevancia", N_("q·k for one key, before the softmax."), "000, 003, 004"),
    Term("attention weight", "注意力权重", "注意力權重", "peso de atención", N_("One key's share of the answer; the weights sum to 1."), "001, 003"),
    Term("dot product", "点积", "點積", "producto punto", N_("q·k: large when two vectors point the same way; for unit vectors it is the cosine."), "000, 001, 004"),
    Term("scaled dot-product attention", "缩放点积注意力", "縮放點積注意力", "atención de producto punto escalado", N_("softmax(q·k / √d) · V: the dot product divided by √d before the softmax."), "002, 003"),
    Term("softmax", "softmax", "softmax", "softmax", N_("Turns scores into positive weights that sum to 1."), "001, 003"),
    Term("temperature (T)", "温度 (T)", "溫度 (T)", "temperatura (T)", N_("Divides the scores before the softmax: a small T lets one key take everything, a large T gives every key the same weight."), "—"),
    Term("hard lookup", "精确查找（字典）", "精確查找（字典）", "búsqueda exacta (diccionario)", N_("A dictionary: the exact key or nothing; one weight is 1, all the others 0."), "000, 002"),
    Term("one-hot vector", "独热向量", "單熱向量", "vector one-hot", N_("All zeros but a single 1: the weights of a hard lookup."), "000"),
    Term("soft attention", "软注意力（比例检索）", "軟注意力（比例檢索）", "atención suave", N_("Every key kept, each with its weight: retrieval in proportion to the weights."), "000"),
    Term("top-k search", "top-k 搜索", "top-k 搜索", "búsqueda top-k", N_("Keep only the k best-scoring keys and drop the rest."), "000"),
    Term("average pooling", "平均池化", "平均池化", "promedio", N_("Every key gets the same weight: what a very large temperature gives."), "—"),
    Term("token", "标记（token）", "標記（token）", "token", N_("A piece of text the model reads as one unit: a word or part of a word."), "001, 002"),
    Term("embedding", "嵌入", "嵌入", "incrustación", N_("The vector a text or a token becomes; similar meanings lie close together."), "001, 002, 004"),
    Term("self-attention", "自注意力", "自注意力", "autoatención", N_("Queries, keys and values all come from the same sequence."), "000, 001, 003, 004"),
    Term("cross-attention", "交叉注意力", "交叉注意力", "atención cruzada", N_("Queries from one sequence (the decoder), keys and values from another (the encoder)."), "000, 003"),
    Term("causal mask", "因果掩码", "因果遮罩", "máscara causal", N_("−∞ on every later position before the softmax, so no token attends to the future."), "003"),
    Term("multi-head attention", "多头注意力", "多頭注意力", "atención multicabeza", N_("Several attentions side by side, each with its own W_Q, W_K, W_V; their outputs are concatenated."), "000, 001, 003"),
    Term("attention head", "注意力头", "注意力頭", "cabeza de atención", N_("One of those attentions, with its own weights."), "002"),
    Term("projection matrices W_Q, W_K, W_V", "投影矩阵", "投影矩陣", "matrices de proyección", N_("Learned matrices that turn an embedding into its query, key and value."), "000, 002, 004"),
    Term("encoder / decoder", "编码器 / 解码器", "編碼器 / 解碼器", "codificador / decodificador", N_("The two halves of a translation model: one reads the source, the other writes the target."), "000, 001, 003"),
    Term("target attention", "目标注意力", "目標注意力", "atención al objetivo", N_("In a recommender: the query from the candidate item, keys and values from the user's history."), "000"),
    Term("Gaussian smoothing", "高斯平滑", "高斯平滑", "suavizado gaussiano", N_("Weights fixed by distance in time alone: attention that ignores content."), "002"),
)  # fmt: skip


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def glossary_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Glossary")


def glossary_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the table holds and where its words come from."""
    _ = _gettext(lang)
    return (
        Text(
            _(
                "The words the app and the articles use, in the three languages. The Chinese terms are the ones "
                "articles 001-003 use (Simplified); the Traditional column is article 000's; the Spanish terms "
                "are article 004's."
            ),
            key="intro",
        ),
    )


def glossary_table(lang: str = "en") -> LessonTable:
    """Every :data:`GLOSSARY` term as a row: English, 中文, the Traditional column, Español, the meaning
    (in ``lang``) and the articles the words come from; a static table (every meaning wraps)."""
    _ = _gettext(lang)
    hant, meaning, source = _("Traditional Chinese (article 000)"), _("What it is"), _("Articles")
    en, zh, es = (LANGUAGES[code] for code in ("en", "zh", "es"))
    rows = tuple((t.en, t.zh, t.zh_hant, t.es, _(t.meaning), t.source) for t in GLOSSARY)
    return LessonTable((en, zh, hant, es, meaning, source), rows, key="glossary", static=True)


def glossary_lesson(lang: str = "en") -> Lesson:
    """The whole page as one document: its title, its introduction and the table.

    Args:
        lang: the language of the headers, the meanings and the introduction.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    return Lesson(
        title=glossary_title(lang),
        facts=(),
        sections=(LessonSection("", blocks=(glossary_table(lang),), key="glossary"),),
        lang=lang,
        footer=made_with(lang),
        intro=glossary_intro(lang),
        **signs(lang),
    )
