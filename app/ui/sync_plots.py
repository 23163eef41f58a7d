"""Charts of the sync review page: score by offset, score along the clip, tolerance histogram (Fig. 6.5)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd


def offset_chart(scores: dict[int, float], best: int, chosen: int) -> alt.Chart:
    """How likely each offset is (softmax of the model's scores, which are all about -22 and differ
    only in their spread); the best in orange, the offset being played in blue."""
    offsets = np.array(list(scores), dtype=int)
    values = np.array(list(scores.values()), dtype=float)
    probability = np.exp(values - values.max())
    probability /= probability.sum()
    table = pd.DataFrame({"offset (frames)": offsets, "probability": probability.round(4)})
    table["which"] = ["best" if o == best else "playing" if o == chosen else "other" for o in offsets]
    colour = alt.Color("which:N", scale=alt.Scale(domain=["best", "playing", "other"],
                                                  range=["#ef6c00", "#1565c0", "#90a4ae"]), legend=None)
    bars = alt.Chart(table, height=180, title="How likely each offset is").mark_bar().encode(
        x=alt.X("offset (frames):O"), y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1])), color=colour,
        tooltip=["offset (frames)", "probability"])
    marks = pd.DataFrame({"offset (frames)": [best, chosen], "label": ["model", "playing"]}).drop_duplicates(
        "offset (frames)")
    rules = alt.Chart(marks).mark_text(dy=-6, fontSize=11).encode(
        x=alt.X("offset (frames):O"), y=alt.value(0), text="label:N")
    return bars + rules


def curve_chart(curve: list[list[float]]) -> alt.Chart:
    """Probability of the best offset in a sliding window along the clip (Fig. 6.7)."""
    table = pd.DataFrame(curve, columns=["time (s)", "score"])
    return alt.Chart(table, height=160, title="Score along the clip (best offset)").mark_line(point=True).encode(
        x="time (s):Q", y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 1])), tooltip=["time (s)", "score"])


def tolerance_chart(histogram: dict[int, tuple[int, int]]) -> alt.Chart:
    """Share of "in sync" answers per offset shown, with the number of answers (Fig. 6.5)."""
    table = pd.DataFrame([{"offset (frames)": o, "in sync": yes / total, "answers": total}
                          for o, (yes, total) in histogram.items()])
    return alt.Chart(table, height=220, title="Judged in sync, by offset shown").mark_bar().encode(
        x=alt.X("offset (frames):O"), y=alt.Y("in sync:Q", scale=alt.Scale(domain=[0, 1])),
        tooltip=["offset (frames)", "in sync", "answers"])
