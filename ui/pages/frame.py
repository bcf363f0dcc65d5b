"""Page: the frame articles 001 and 003 assume (issue 27, section 4), drawn from 我爱吃苹果 → "I love eating apples".

An RNN encoder–decoder and its bottleneck; attention, where every decoder step reads every encoder
state; where self, causal and cross attention sit in the Transformer, with the feed-forward layer and
the stacking in one sentence each. The diagrams are DOT text from :mod:`retrieval_attention.charts.frame`,
drawn by ``st.graphviz_chart`` in the browser. No model runs on this page.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.charts.frame import (
    FRAME_TEXT,
    TARGET_TOKENS,
    attention_dot,
    rnn_dot,
    subscript,
    transformer_dot,
)
from ui.components.article_nav import PAGES as ARTICLE_PAGES
from ui.components.i18n import _, chart_labels


def main() -> None:
    st.title(_("The frame: from RNN to Transformer"))
    st.markdown(
        _(
            "Articles 001 and 003 assume this picture. Three diagrams of article 001's example, "
            "我爱吃苹果 → “I love eating apples”: where attention came from, and where it sits in a Transformer."
        )
    )
    text = chart_labels(FRAME_TEXT)

    st.header(_("1 · An RNN squeezes the sentence into one vector"))
    st.graphviz_chart(rnn_dot(text))
    st.markdown(
        _(
            "The encoder reads 我, 爱, 吃, 苹, 果 one at a time, each state h built from the one before. Its last "
            "state, c, is all the decoder gets: every English word is written from that one vector. The longer "
            "the sentence, the more c must hold. Article 001 calls this the bottleneck."
        )
    )

    st.header(_("2 · Attention: every decoder step reads every encoder state"))
    words = list(TARGET_TOKENS)
    word = st.segmented_control(_("Decoder step: the word being written"), words, default=words[0], key="fr_step")
    step = words.index(word) + 1 if word in words else 1  # a cleared control shows the first step
    st.graphviz_chart(attention_dot(step, text))
    st.markdown(
        _(
            "At step {i} the decoder's state s{prev} is the **query**. Every encoder state hⱼ is a **key**: it is "
            "scored against the query, and a softmax turns the scores into weights α{i_sub}ⱼ. The same hⱼ are the "
            "**values**: c{i_sub} = Σⱼ α{i_sub}ⱼ hⱼ. Each step gets its own c, so no single vector has to hold the "
            "whole sentence."
        ).format(i=step, i_sub=subscript("", step), prev=subscript("", step - 1))
    )
    st.page_link(ARTICLE_PAGES["alignment"], label=_("These weights on real word vectors: 我爱吃苹果 aligned"),
                 icon=":material/translate:")  # fmt: skip

    st.header(_("3 · The Transformer: three attentions in one model"))
    st.graphviz_chart(transformer_dot(text))
    st.markdown(
        "\n".join(
            [
                "- "
                + _(
                    "**Self-attention** (encoder): queries, keys and values all come from the same sentence, so "
                    "each of 我, 爱, 吃, 苹, 果 reads all five, itself included."
                ),
                "- "
                + _(
                    "**Causal (masked) self-attention** (decoder): the words written so far read one another, but "
                    "no position reads the ones after it; their scores are set to −∞ before the softmax."
                ),
                "- "
                + _(
                    "**Cross-attention** (decoder): the queries come from the decoder, the keys and values from "
                    "the encoder's output: section 2's attention, scored with a scaled dot product instead of "
                    "Bahdanau's small network."
                ),
                "- "
                + _(
                    "**Feed-forward**: after attention, every position goes through the same small two-layer "
                    "network on its own; attention mixes positions, the feed-forward layer transforms each one."
                ),
                "- "
                + _(
                    "**Stacking**: the block is repeated N times, each layer reading the previous layer's output "
                    "(N = 6 in the original Transformer; all-MiniLM-L6-v2, the model on the next pages, is an "
                    "encoder of 6 layers with no decoder)."
                ),
            ]
        )
    )
    st.page_link("ui/pages/transformer.py", label=_("The three attentions on a real model"), icon=":material/hub:")


main()
