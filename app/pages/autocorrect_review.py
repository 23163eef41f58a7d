"""Geometry review (thesis chapter 3): accept, keep, adjust or drop AutoCorrect's per-instance corrections."""

from __future__ import annotations

import streamlit as st

from annotation_db import geo_review as gr
from annotation_db.progress import review_progress
from core.config import get_settings, inside_data_dir
from ui.flash import flash, saving, show_flashes
from ui.geo_edit import MapEdits, add_editor, map_edits
from ui.geo_map import review_map
from ui.lease import keep_view_lease
from ui.maps import render_map
from ui.pickers import choose_project
from ui.session import require_user
from ui.undo import undo_button

ACTIONS = (  # (action, button label, icon, keyboard shortcut)
    ("accepted", "Accept correction", ":material/check_circle:", "A"),
    ("original", "Keep original", ":material/undo:", "K"),
    ("not_visible", "Not visible", ":material/visibility_off:", "V"),
    ("obsolete", "Obsolete", ":material/delete:", "O"),
)
HOTKEYS = ("Keys: A accept · K keep original · V not visible · O obsolete · S save adjustment · E save edited shape"
           " · N next · P previous · U undo your last verdict")
EDIT_HELP = ("On the map: the selected shape is in cyan. Drag its ✥ handle to move it and its ⟳ handle to turn it. "
             "The pencil tool moves vertices (drag a square), adds one (drag a midpoint) or deletes one (click it); "
             "Save on the map's toolbar ends the edit. Moved shapes and vertices snap to the vertices of nearby "
             "shapes (hold Alt to place freely). The line or polygon tool draws a missing track or building.")

user = require_user()
st.title("Geometry review")

projects = gr.geo_projects()
project_name = choose_project(projects, "geo_project", "railway or buildings")


def _progress() -> None:
    """n of m instances of the project reviewed by anyone, k by this user (redrawn with each verdict)."""
    done = review_progress(project_name, user.id, "geometry")
    st.progress(done.share, text=done.text("instances reviewed"))


def _run_predict(raster_ids: list[int] | None = None) -> int:
    from training.autocorrect.predict import propose

    bar = st.progress(0.0, text="Correcting…")
    count = propose(project_name, raster_ids, progress=lambda done, total: bar.progress(
        done / max(total, 1), text=f"Corrected {done} of {total}"))
    bar.progress(1.0, text=f"Corrected {count} instances")
    return count


def _researcher_tools() -> None:
    if not user.is_researcher:
        return
    with st.expander("Model and export", icon=":material/model_training:"):
        if st.button("Run predict for the whole project", key="geo_predict"):
            flash(f"Wrote {_run_predict()} proposals.")
            st.rerun()
        st.button("Export GeoPackage", key="geo_export", on_click=_export)
        path = st.session_state.get("geo_export_path")
        if path and path.endswith(f"{project_name}.gpkg"):
            with open(path, "rb") as handle:
                st.download_button("Download GeoPackage", handle.read(), file_name=f"{project_name}.gpkg",
                                   key="geo_download")


def _export() -> None:
    try:
        out = inside_data_dir(get_settings().data_dir / "exports" / f"{project_name}.gpkg")
        count = gr.export_geometries(project_name, out, user.id)
    except (ValueError, PermissionError) as exc:
        flash(f"Nothing was exported: {exc}", warning=True)
        return
    st.session_state["geo_export_path"] = str(out)
    flash(f"Exported to {out.name}: {count} features (final geometries in the annotations' own CRS), "
          "ready to download below.")


def _save(tile: gr.TileItem, instance_id: int, action: str, **fields) -> None:
    with saving():
        gr.save_geometry(project_name, user.id, tile, instance_id, action, **fields)
        flash(f"Saved instance #{instance_id}: {action.replace('_', ' ')}.")
    order = [i.instance_id for i in tile.instances]
    at = order.index(instance_id)
    later = order[at + 1:] + order[:at]  # the queue's order, wrapping round
    waiting = {i.instance_id for i in tile.instances if i.action is None}
    # the dropdown's own state, set before it is drawn: it and the buttons move to the same instance
    st.session_state[_picker(tile.raster_id)] = next((i for i in later if i in waiting), instance_id)
    for key in ("geo_dx", "geo_dy", "geo_rot"):
        st.session_state.pop(key, None)  # the adjustment starts again from zero


def _save_adjustment(tile: gr.TileItem, item: gr.InstanceItem) -> None:
    """Store the shift and rotation as the inputs hold them at the click (a value typed just before is
    committed by that click, after the button was drawn)."""
    state = st.session_state
    _save(tile, item.instance_id, "adjusted", dx_m=state.get("geo_dx", 0.0), dy_m=state.get("geo_dy", 0.0),
          rotation_deg=state.get("geo_rot", 0.0),
          from_correction=state.get("geo_base") != "Original" and item.proposal_wkt is not None)


def _save_shape(tile: gr.TileItem, instance_id: int, wkt: str) -> None:
    """Store the shape edited on the map (raster CRS WKT) as the instance's adjusted geometry."""
    try:
        _save(tile, instance_id, "adjusted", geometry_wkt=wkt)
    except ValueError as exc:
        flash(f"Instance #{instance_id} not saved: {exc}", warning=True)


def _add_drawn(tile: gr.TileItem, shapes: tuple[str, ...]) -> None:
    """Add the shapes drawn on the map (raster CRS WKT) as new, reviewed instances of the tile."""
    added = []
    with saving():
        for wkt in shapes:
            try:
                added.append(gr.add_instance(project_name, user.id, tile, wkt))
            except ValueError as exc:
                flash(f"A drawn shape was not added: {exc}", warning=True)
    if added:
        flash("Added " + ", ".join(f"#{i}" for i in added) + " as drawn.")
    st.session_state["geo_map_version"] = st.session_state.get("geo_map_version", 0) + 1  # a map without them


def _edit_buttons(tile: gr.TileItem, selected: int, edits: MapEdits) -> None:
    """Save the reshaped selected shape, or add the drawn ones (enabled once the map holds such an edit)."""
    left, right = st.columns(2)
    left.button("Save edited shape", key="geo_save_shape", icon=":material/edit:", shortcut="E", width="stretch",
                disabled=edits.reshaped is None, on_click=_save_shape, args=(tile, selected, edits.reshaped))
    right.button(f"Add drawn shapes ({len(edits.drawn)})" if edits.drawn else "Add drawn shapes",
                 key="geo_add_drawn", icon=":material/add_location_alt:", width="stretch",
                 disabled=not edits.drawn, on_click=_add_drawn, args=(tile, edits.drawn))
    st.caption(EDIT_HELP)


def _editable(item: gr.InstanceItem) -> str:
    """The shape the map offers to edit: this person's saved one, else the confident correction, else the input."""
    if item.final_wkt:
        return item.final_wkt
    return item.proposal_wkt if item.proposal_wkt and item.confident is not False else item.noisy_wkt


def _picker(raster_id: int) -> str:
    """The key of a tile's Instance dropdown; its value is the selected instance id."""
    return f"geo_instance_{raster_id}"


def _move(tile: gr.TileItem, options: list[int], current: int, step: int) -> None:
    """Select the instance `step` places away in the list shown, wrapping round."""
    st.session_state[_picker(tile.raster_id)] = options[(options.index(current) + step) % len(options)]


def _reselect(undone) -> None:
    """After an undo: select the instance again, its adjustment from zero."""
    st.session_state[_picker(undone.raster_id)] = undone.instance_id
    for key in ("geo_dx", "geo_dy", "geo_rot"):
        st.session_state.pop(key, None)


def _undo_button() -> None:
    undo_button(project_name, user.id, "geometry", "geo_undo",
                lambda undone: f"Undid your verdict on instance #{undone.instance_id}: it is to review again.",
                after=_reselect, width="stretch")


def _recorrect(tile: gr.TileItem) -> None:
    count = _run_predict([tile.raster_id])
    flash(f"Re-corrected {count} remaining instances with your fixes in the memory map.")


def _tile() -> gr.TileItem | None:
    return gr.claim_tile(project_name, user.id)


@st.fragment
def review_panel() -> None:
    """One tile's instances, the verdict buttons and the map; a verdict reruns only this panel."""
    show_flashes()
    _progress()
    tile = _tile()
    if tile is None:
        st.success("No tile left to review in this project.")
        _undo_button()
        return
    _tile_panel(tile)


def _tile_panel(tile: gr.TileItem) -> None:
    """The instance picker, verdict buttons, adjustment and map of the leased tile."""
    only_confident = st.toggle("Only confident corrections", key="geo_only_confident",
                               help="Hide the instances the model had no confident correction for.")
    shown = [i for i in tile.instances if not (only_confident and i.confident is False)] or tile.instances
    labels = {i.instance_id: f"#{i.instance_id} · {i.action.replace('_', ' ') if i.action else 'to review'}"
              + (" · no confident correction" if i.confident is False else "")
              + (f" · uncertainty {i.uncertainty:.1f} px" if i.uncertainty is not None else "")
              for i in shown}
    pending = [i.instance_id for i in shown if i.action is None]
    unsure = sum(i.confident is False for i in tile.instances)
    st.subheader(f"Tile {tile.name}")
    st.caption(f"{len(pending)} of {len(shown)} instances left, confident corrections first"
               + (f"; {unsure} without a confident correction (kept as imported)" if unsure else "")
               + ". Red: noisy annotation, yellow: model correction, green: accepted.")
    map_column, side = st.columns([3, 2], gap="large")
    with side:
        options = list(labels)
        if st.session_state.get(_picker(tile.raster_id)) not in labels:  # none yet, or hidden by the filter
            st.session_state[_picker(tile.raster_id)] = pending[0] if pending else options[0]
        selected = st.selectbox("Instance", options, format_func=labels.get, key=_picker(tile.raster_id))
        item = next(i for i in tile.instances if i.instance_id == selected)
        if item.model_version:
            st.caption(f"Correction by {item.model_version}" + (
                ": **no confident correction**, the annotation is shown as it was" if item.confident is False else ""))
        columns = st.columns(2)
        for n, (action, label, icon, key) in enumerate(ACTIONS):
            no_correction = item.proposal_wkt is None or item.confident is False
            columns[n % 2].button(label, key=f"geo_{action}", icon=icon, on_click=_save,
                                  args=(tile, selected, action), disabled=action == "accepted" and no_correction,
                                  width="stretch", shortcut=key)
        back, forward = st.columns(2)
        back.button("Previous", key="geo_previous", icon=":material/arrow_back:", shortcut="P", width="stretch",
                    on_click=_move, args=(tile, options, selected, -1))
        forward.button("Next", key="geo_next", icon=":material/arrow_forward:", shortcut="N", width="stretch",
                       on_click=_move, args=(tile, options, selected, 1))
        _undo_button()
        st.caption(HOTKEYS)
        st.markdown("**Adjust**")
        base = st.radio("Start from", ["Model correction", "Original"], horizontal=True, key="geo_base",
                        disabled=item.proposal_wkt is None)
        from_correction = base == "Model correction" and item.proposal_wkt is not None
        dx = st.number_input("Shift east (m)", -50.0, 50.0, 0.0, 0.1, key="geo_dx")
        dy = st.number_input("Shift north (m)", -50.0, 50.0, 0.0, 0.1, key="geo_dy")
        rot = st.number_input("Rotation (degrees, counter-clockwise)", -45.0, 45.0, 0.0, 0.5, key="geo_rot")
        st.button("Save adjustment", key="geo_adjusted", icon=":material/tune:", on_click=_save_adjustment,
                  shortcut="S", args=(tile, item))
        st.button("Re-correct the rest", key="geo_recorrect", icon=":material/auto_fix_high:", on_click=_recorrect,
                  args=(tile,), disabled=not pending, help="Runs the model again on the instances without a verdict, "
                  "with every fixed instance of this tile in its memory map.")

    preview = gr.adjusted_wkt(item.proposal_wkt if from_correction else item.noisy_wkt, dx, dy, rot)
    layers = {
        "Noisy annotation": [(i.instance_id, i.noisy_wkt) for i in tile.instances],
        "Model correction": [(i.instance_id, i.proposal_wkt) for i in tile.instances
                             if i.proposal_wkt and i.action is None],
        "Accepted": [(i.instance_id, i.final_wkt) for i in tile.instances
                     if i.final_wkt and i.action in ("accepted", "adjusted", "original")],
        "Preview": [(selected, preview)] if (dx, dy, rot) != (0.0, 0.0, 0.0) else [],
    }
    editable = _editable(item)
    with map_column:
        m = review_map(tile.path, tile.width, tile.height, tile.transform, layers, selected)
        others = [w for i in tile.instances if i.instance_id != selected
                  for w in (i.noisy_wkt, i.proposal_wkt, i.final_wkt) if w]
        add_editor(m, tile.kind, selected, editable, tile.transform, others)
        # a map per instance (and per added batch): edits of one never show up as edits of another
        state = render_map(m, key=f"geo_map_{tile.raster_id}_{selected}_{st.session_state.get('geo_map_version', 0)}",
                           height=560, returned_objects=["all_drawings"])
    with side:
        _edit_buttons(tile, selected, map_edits(state, selected, editable, tile.transform))


_researcher_tools()
review_panel()
keep_view_lease(_tile, "geometry")
