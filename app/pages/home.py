"""Projects and their review progress, per project and per annotator."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotation_db.stats import read_stats

st.title("Projects")
rows = read_stats()

if not rows:
    st.info("No projects yet. Researchers create them on the **Import & export** page.")
    st.stop()


def _item_count(row: dict) -> int:
    return row["items"].get("instances", row["items"].get("clips", 0))


def _item_label(row: dict) -> str:
    items = row["items"]
    if "instances" in items:
        return f"{items['instances']} instances on {items['rasters']} tiles"
    missing = items["clips"] - items["clips_with_media"]
    return f"{items['clips']} clips" + (f" ({missing} without media)" if missing else "")


table = pd.DataFrame([{
    "Project": row["project"],
    "Kind": row["kind"],
    "Items": _item_label(row),
    "Proposals": row["proposals"],
    "Verdicts": sum(row["verdicts"].values()),
    "Reviewed": row["reviewed_items"],
    "Progress": row["reviewed_items"] / max(_item_count(row), 1),
} for row in rows])

left, middle, right = st.columns(3)
left.metric("Projects", len(rows))
middle.metric("Items", sum(_item_count(r) for r in rows))
right.metric("Verdicts", int(table["Verdicts"].sum()))

st.dataframe(table, hide_index=True, key="projects_table", column_config={
    "Progress": st.column_config.ProgressColumn("Progress", format="percent", min_value=0,
                                                max_value=1),
})

st.subheader("Per project")
for row in rows:
    with st.expander(f"{row['project']} · {row['kind']}"):
        st.write(_item_label(row))
        if row["reference_verdicts"]:
            st.caption(f"{row['reference_verdicts']} imported reference annotation(s)")
        if row["verdicts"]:
            st.bar_chart(pd.Series(row["verdicts"], name="verdicts"), horizontal=True, height=160)
        if row["annotators"]:
            st.dataframe(pd.DataFrame([{"Annotator": name, "Verdicts": n["verdicts"],
                                        "Items": n["items"]}
                                       for name, n in row["annotators"].items()]),
                         hide_index=True)
        else:
            st.caption("No verdicts yet.")
