"""A text's drawn width, estimated, and the text wrapped to a width: for diagram boxes and chart titles.

A CJK character counts as wide as the type size, any other as 0.56 of it (an upper bound for the
charts' sans-serif); a line breaks at a space or between two CJK characters. The diagrams
(:mod:`retrieval_attention.charts.diagram`) and the chart titles
(:func:`~retrieval_attention.charts.theme.wrap_lines`) both use it; it imports nothing of the package.
No streamlit here.
"""

from __future__ import annotations

import unicodedata

__all__ = ["text_width", "wrap"]


def text_width(text: str, size: float) -> float:
    """An upper estimate of ``text``'s drawn width in pixels at ``size`` px (sans-serif, CJK full width).

    Example:
        >>> text_width("我爱", 10), round(text_width("abcde", 10), 1)
        (20.0, 28.0)
    """
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return size * (wide + 0.56 * (len(text) - wide))


def _pieces(text: str) -> list[str]:
    """Where a line may break: after a space, and around every CJK character (each piece keeps its space)."""
    pieces: list[str] = []
    word = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF" and not ch.isspace():
            if word and not word.endswith(" ") and unicodedata.east_asian_width(ch) in "WF" and ch in "，：；。、）":
                word += ch  # CJK punctuation stays with what precedes it
                continue
            if word:
                pieces.append(word)
            word = ch
        else:
            if word and unicodedata.east_asian_width(word[-1]) in "WF" and word[-1] not in "（":
                pieces.append(word)
                word = ""
            word += ch
            if ch == " ":
                pieces.append(word)
                word = ""
    if word:
        pieces.append(word)
    return pieces


def _whole_parentheses(pieces: list[str]) -> list[str]:
    """``pieces`` with each parenthesised group, "(…)" or full-width "（…）", joined into one piece."""
    joined: list[str] = []
    depth = 0
    for piece in pieces:
        if depth > 0:
            joined[-1] += piece
        else:
            joined.append(piece)
        depth = max(0, depth + sum(ch in "(（" for ch in piece) - sum(ch in ")）" for ch in piece))
    return joined


def wrap(text: str, width: float, size: float, whole_parentheses: bool = False) -> list[str]:
    """``text`` in lines no wider than ``width`` px at ``size`` px (a single word wider than that keeps its line).

    A newline in ``text`` always breaks; a line breaks after a space, or between two CJK characters
    (with ``whole_parentheses``, not inside "(…)" or "（…）").

    Example:
        >>> wrap("one vector for the whole sentence", 120, 15)
        ['one vector for', 'the whole', 'sentence']
        >>> wrap("键的排名（1 = 权重最大）", 120, 16), wrap("键的排名（1 = 权重最大）", 120, 16, whole_parentheses=True)
        (['键的排名（1 =', '权重最大）'], ['键的排名', '（1 = 权重最大）'])
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        pieces = _pieces(paragraph)
        for piece in _whole_parentheses(pieces) if whole_parentheses else pieces:
            if line and text_width((line + piece).rstrip(), size) > width:
                lines.append(line.rstrip())
                line = piece
            else:
                line += piece
        lines.append(line.rstrip())
    return lines
