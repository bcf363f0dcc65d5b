"""A document's formulas as MathML, for the saved file and the notebook (the page draws them with ``st.latex``).

Chromium, Firefox and Safari draw MathML themselves: no script, no font download, nothing the
file's Content-Security-Policy would block. :func:`formula_html` converts a formula's LaTeX with
``latex2mathml`` when the file is written, and keeps the source beside the picture (the
``<math>`` element's ``alttext`` and an ``application/x-tex`` annotation), so a screen reader can
read it and a student can copy it.

The converter's own output is never written as it comes: it copies ``\\text{...}`` into the
markup unescaped, and turns ``\\href`` and ``\\style`` into attributes. Its element tree is written
again here, element by element, keeping only MathML elements and presentation attributes, every
text HTML-escaped. A formula the converter refuses, or only half understands (an unknown command
comes out as ``\\foo``), is shown as its escaped LaTeX source, as before.

This is the only module of the project that imports ``latex2mathml``.
"""

from __future__ import annotations

import html
import logging
import re
from xml.etree.ElementTree import Element

__all__ = ["formula_html", "to_mathml"]

logger = logging.getLogger(__name__)

#: The elements a formula may hold (MathML Core's, and ``mstyle``/``mpadded``/``mphantom``).
_ELEMENTS = frozenset(
    "math semantics annotation mrow mi mn mo mtext mspace ms mfrac msqrt mroot msub msup msubsup munder "
    "mover munderover mmultiscripts mprescripts none mtable mtr mtd mstyle mpadded mphantom menclose merror".split()
)
#: The attributes kept (how the formula looks); everything else (``href``, ``style``, event handlers) goes.
_ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence form separator largeop movablelimits symmetric accent accentunder "
    "minsize maxsize lspace rspace width height depth linethickness displaystyle scriptlevel mathsize "
    "mathcolor mathbackground notation columnspacing rowspacing".split()
)
#: MathML 3's named spaces as lengths (MathML Core, which Chromium implements, has no names).
_NAMED_SPACES = {
    "veryverythinmathspace": "0.0556em",
    "verythinmathspace": "0.1111em",
    "thinmathspace": "0.1667em",
    "mediummathspace": "0.2222em",
    "thickmathspace": "0.2778em",
    "verythickmathspace": "0.3333em",
    "veryverythickmathspace": "0.3889em",
}
#: How many children an element must have (``\\frac{a}`` alone comes out as a fraction with one).
_ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "mroot": 2, "munder": 2, "mover": 2, "munderover": 3}
_ENTITY = re.compile(r"&#x([0-9a-fA-F]{1,6});")


class _UnreadableError(ValueError):
    """The converter's tree holds something this module will not write (an unknown command or element)."""


def _text(raw: str | None) -> str:
    """The converter's text (characters written as ``&#x...;`` among literal ones) as plain characters."""
    return _ENTITY.sub(lambda m: chr(int(m.group(1), 16)), raw or "")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _lines(el: Element) -> None:
    r"""Rows broken by ``\\`` (``gathered``) as a one-column table: MathML Core has no line breaks."""
    for child in el:
        _lines(child)
    children = list(el)
    if not any(c.tag == "mspace" and c.get("linebreak") == "newline" for c in children):
        return
    rows: list[list[Element]] = [[]]
    for c in children:
        if c.tag == "mspace" and c.get("linebreak") == "newline":
            rows.append([])
        else:
            rows[-1].append(c)
    for c in children:
        el.remove(c)
    table = Element("mtable", displaystyle="true")
    for row in rows:
        cell = Element("mtd")
        cell.extend(row)
        tr = Element("mtr")
        tr.append(cell)
        table.append(tr)
    el.append(table)


def _merge_decimal_commas(el: Element) -> None:
    """``0{,}05`` comes out as ``<mn>0</mn><mrow><mo>,</mo></mrow><mn>05</mn>``: one number, ``<mn>0,05</mn>``."""
    for child in el:
        _merge_decimal_commas(child)
    children = list(el)
    i = 0
    while i + 2 < len(children):
        a, comma, b = children[i : i + 3]
        if (
            a.tag == "mn"
            and b.tag == "mn"
            and comma.tag == "mrow"
            and len(comma) == 1
            and comma[0].tag == "mo"
            and _text(comma[0].text) == ","
        ):
            a.text = f"{_text(a.text)},{_text(b.text)}"
            a.tail = b.tail
            el.remove(comma)
            el.remove(b)
            children = list(el)
        else:
            i += 1


def _unary_signs(el: Element) -> None:
    """``= -\\infty``: a sign right after another operator is a sign, not a binary minus (TeX's rule, KaTeX's
    spacing); and ``\\infty`` is a quantity (the converter makes it an operator, spaced as one)."""
    previous: Element | None = None
    for child in el:
        _unary_signs(child)
        text = _text(child.text)
        if child.tag == "mo" and text == "∞":
            child.tag = "mi"
        elif (
            child.tag == "mo"
            and text in ("−", "+", "-")
            and previous is not None
            and previous.tag == "mo"
            and _text(previous.text) not in (")", "]", "|", "}")
        ):
            child.set("lspace", "0em")
            child.set("rspace", "0em")
        previous = child


def _lines_style(table: Element, row: int, column: int, n_rows: int, n_columns: int) -> str:
    """The CSS borders of one cell for an array's ``|`` and ``\\hline`` (MathML Core has no columnlines)."""

    def line(values: str | None, i: int) -> bool:
        parts = (values or "").split()
        return bool(parts) and parts[min(i, len(parts) - 1)] in ("solid", "dashed")

    style = []
    if column < n_columns - 1 and line(table.get("columnlines"), column):
        style.append("border-right: 1px solid")
    if row < n_rows - 1 and line(table.get("rowlines"), row):
        style.append("border-bottom: 1px solid")
    return "; ".join(style)


def _balanced(latex: str) -> bool:
    """Every ``{`` closed by its ``}`` (``\\{`` and ``\\}`` are braces drawn, not groups)."""
    depth = 0
    for brace in re.sub(r"\\[{}]", "", latex.replace("\\\\", "")):
        depth += {"{": 1, "}": -1}.get(brace, 0)
        if depth < 0:
            return False
    return depth == 0


def _spacing(operator: str) -> str:
    """Spacing as KaTeX (``st.latex``) sets it where MathML's operator dictionary differs: ``/`` is a
    plain symbol (``1/0.05``), a word such as ``\\max`` an operator name with a thin space after it."""
    if operator == "/":
        return ' lspace="0em" rspace="0em"'
    if len(operator) > 1 and operator.isalpha():
        return ' lspace="0em" rspace="0.1667em"'
    return ""


def _write(el: Element, out: list[str], style: str = "") -> None:
    """``el`` as HTML into ``out``: allowed elements and attributes only, every text escaped."""
    tag = el.tag
    if tag not in _ELEMENTS:
        raise _UnreadableError(f"element {tag!r}")
    if tag in _ARITY and len(el) != _ARITY[tag]:
        raise _UnreadableError(f"{tag!r} with {len(el)} parts")
    text = _text(el.text)
    if tag in ("mi", "mo") and text.startswith("\\"):
        raise _UnreadableError(f"unknown command {text!r}")
    attributes = []
    for name, value in el.attrib.items():
        if name == "width" and tag == "mspace" and value not in _NAMED_SPACES and not re.fullmatch(r"[\d.]+em", value):
            continue  # "negativethinmathspace" (\!): MathML Core has no negative space
        if name in _ATTRIBUTES:
            attributes.append(f' {name}="{_e(_NAMED_SPACES.get(value, value))}"')
    if tag == "mo" and not {"lspace", "rspace"} & set(el.attrib):
        attributes.append(_spacing(text))
    if style:
        attributes.append(f' style="{style}"')  # our own constant text (_lines_style), never the formula's
    out.append(f"<{tag}{''.join(attributes)}>{_e(text)}")
    if tag == "mtable":
        n_rows = len(el)
        n_columns = max((len(tr) for tr in el), default=0)
        for r, tr in enumerate(el):
            if tr.tag != "mtr":
                raise _UnreadableError(f"{tr.tag!r} in a table")
            out.append("<mtr>")
            for c, td in enumerate(tr):
                _write(td, out, _lines_style(el, r, c, n_rows, n_columns))
            out.append("</mtr>")
    else:
        for child in el:
            _write(child, out)
            out.append(_e(_text(child.tail)))
    out.append(f"</{tag}>")


def to_mathml(latex: str) -> str | None:
    """A displayed formula as one ``<math>`` element, or None when it cannot be converted faithfully.

    Args:
        latex: the formula's LaTeX (as ``st.latex`` takes it); it may hold user text.

    Returns:
        ``<math display="block" alttext="...">`` with the picture and the LaTeX source as its
        ``application/x-tex`` annotation; None for a formula the converter refuses or only half
        understands. Never raises.

    Example:
        >>> m = to_mathml(r"w = \\frac{1}{2}")
        >>> m.startswith('<math display="block" alttext="w = \\\\frac{1}{2}">'), "<mfrac>" in m
        (True, True)
        >>> to_mathml(r"\\frac{") is None, to_mathml(r"\\frac{a}") is None, to_mathml(r"\\notacommand x") is None
        (True, True, True)
    """
    if "&#" in latex or not _balanced(latex):  # the converter writes characters as &#x...; itself
        return None
    try:
        from latex2mathml.converter import convert_to_element

        root = convert_to_element(latex, display="block")
        _lines(root)
        _merge_decimal_commas(root)
        _unary_signs(root)
        body: list[str] = []
        for child in root:
            _write(child, body)
            body.append(_e(_text(child.tail)))
    except Exception as exc:  # any failure of a third-party parser: the file shows the source instead
        logger.info("formula shown as LaTeX source (%s: %s): %r", type(exc).__name__, exc, latex[:200])
        return None
    source = _e(latex)
    return (
        f'<math display="block" alttext="{source}"><semantics><mrow>{"".join(body)}</mrow>'
        f'<annotation encoding="application/x-tex">{source}</annotation></semantics></math>'
    )


def formula_html(latex: str) -> str:
    """A displayed formula for an HTML file: MathML when it converts, else its LaTeX source as code.

    Args:
        latex: the formula's LaTeX; it may hold user text.

    Returns:
        ``<div class="formula">`` holding the ``<math>`` element, or ``<pre class="formula">`` holding
        the escaped source. Never raises; never writes the formula's text unescaped.
    """
    mathml = to_mathml(latex)
    if mathml is None:
        return f'<pre class="formula"><code>{_e(latex)}</code></pre>'
    return f'<div class="formula">{mathml}</div>'
