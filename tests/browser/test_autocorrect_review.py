"""Geometry review page: open a tile, accept, adjust, reject, re-correct the rest, export; check DB and file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from playwright.sync_api import expect
from shapely import affinity
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.models import Instance, Proposal, Role, Verdict, VerdictKind

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}
PASSWORD = "password123"


@pytest.fixture
def app_data(buildings_tile) -> Path:
    """A buildings project of one 256 px tile with AutoCorrect proposals, and a researcher."""
    return buildings_tile("rita", Role.researcher)


def _rows(model, *where):
    with session_scope() as session:
        rows = session.exec(select(model).where(*where).order_by(model.id)).all()
        session.expunge_all()
        return rows


def test_accept_adjust_reject_recorrect_and_export(log_in, page, streamlit_server, wait_for_app, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Geometry review").click()
    wait_for_app(page, text="Tile tile_000.tif")
    before = len(_rows(Proposal))

    instances = len(_rows(Instance))
    expect(page.get_by_text(f"0 of {instances} instances reviewed · yours 0")).to_be_visible()
    page.get_by_role("button", name="Accept correction").click()
    wait_for_app(page, text="accepted.")
    expect(page.get_by_text(f"1 of {instances} instances reviewed · yours 1")).to_be_visible()
    page.get_by_label("Shift east (m)").fill("1.5")
    page.get_by_label("Shift east (m)").press("Enter")
    page.wait_for_timeout(500)  # let the rerun that applies the value start before waiting on idle
    wait_for_app(page)
    page.get_by_role("button", name="Save adjustment").click()
    wait_for_app(page, text="adjusted.")
    page.get_by_role("button", name="Not visible").click()
    wait_for_app(page, text="not visible.")
    page.get_by_role("button", name="Re-correct the rest").click()
    wait_for_app(page, text="Re-corrected")

    verdicts = _rows(Verdict, Verdict.kind == VerdictKind.geometry)
    assert [v.action.value for v in verdicts] == ["accepted", "adjusted", "not_visible"]
    accepted, adjusted, _ = verdicts
    proposals = {p.id: p for p in _rows(Proposal)}
    assert accepted.final_geometry_wkt == proposals[accepted.proposal_id].payload["geometry_wkt"]
    base = shapely.from_wkt(proposals[adjusted.proposal_id].payload["geometry_wkt"])
    assert adjusted.dx_m == pytest.approx(1.5)
    assert shapely.from_wkt(adjusted.final_geometry_wkt).equals_exact(affinity.translate(base, 1.5, 0), 1e-6)
    remaining = len(_rows(Instance)) - 3
    assert len(proposals) == before + remaining  # one new proposal per instance still to review

    page.get_by_text("Model and export").click()
    page.get_by_role("button", name="Export GeoPackage").click()
    wait_for_app(page, text="Exported to")
    exported = gpd.read_file(app_data / "exports" / "blocks.gpkg")
    assert sorted(exported["verdict"]) == sorted(["accepted", "adjusted", "not_visible"] + ["unreviewed"] * remaining)
    row = exported[exported["verdict"] == "adjusted"].iloc[0]
    expected = gpd.GeoSeries([shapely.from_wkt(adjusted.final_geometry_wkt)],
                             crs=_raster_crs(adjusted.instance_id)).to_crs(exported.crs).iloc[0]
    assert row.geometry.equals_exact(expected, 1e-9)  # written back in the annotations' CRS


def _raster_crs(instance_id: int) -> str:
    from annotation_db.models import Raster

    with session_scope() as session:
        return session.get(Raster, session.get(Instance, instance_id).raster_id).crs


def _shown_instance(page, other_than: str | None = None) -> str:
    """The instance the dropdown shows, e.g. '#53 · to review · uncertainty 1.2 px', once one dropdown is
    left (a rerun shows the old one until it ends) and, if given, it shows another than `other_than`."""
    boxes = page.get_by_role("combobox", name="Instance")
    for _ in range(100):
        values = [boxes.nth(i).input_value() for i in range(boxes.count())]
        if len(values) == 1 and (other_than is None or values[0].split()[0] != other_than.split()[0]):
            return values[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"the instance dropdown shows {values}")


def test_after_a_verdict_the_dropdown_and_the_buttons_move_to_the_same_next_instance(
        log_in, page, streamlit_server, wait_for_app, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Geometry review").click()
    wait_for_app(page, text="Tile tile_000.tif")
    first = _shown_instance(page)
    page.get_by_role("button", name="Accept correction").click()
    wait_for_app(page, text="accepted.")
    second = _shown_instance(page)
    assert second.split()[0] != first.split()[0] and "to review" in second
    page.get_by_role("button", name="Keep original").click()
    wait_for_app(page, text="original.")
    third = _shown_instance(page)
    verdicts = _rows(Verdict, Verdict.kind == VerdictKind.geometry)
    assert [f"#{v.instance_id}" for v in verdicts] == [first.split()[0], second.split()[0]]
    assert "to review" in third and third.split()[0] not in (first.split()[0], second.split()[0])


def test_the_keyboard_alone_reviews_instances(log_in, page, streamlit_server, wait_for_app, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Geometry review").click()
    wait_for_app(page, text="Tile tile_000.tif")
    first = _shown_instance(page).split()[0]
    page.locator("h1").click()  # focus on the page, not on a widget
    page.keyboard.press("n")
    skipped = _shown_instance(page, other_than=first).split()[0]
    page.keyboard.press("p")
    assert _shown_instance(page, other_than=skipped).split()[0] == first
    page.keyboard.press("k")
    wait_for_app(page, text="original.")
    page.keyboard.press("o")
    wait_for_app(page, text="obsolete.")
    verdicts = _rows(Verdict, Verdict.kind == VerdictKind.geometry)
    assert [(f"#{v.instance_id}", v.action.value) for v in verdicts] == [(first, "original"), (skipped, "obsolete")]


def _base_shape(instance_id: int) -> str:
    """The shape the map offers to edit before any verdict: the confident correction, else the input."""
    [instance] = _rows(Instance, Instance.id == instance_id)
    proposals = _rows(Proposal, Proposal.instance_id == instance_id)
    payload = proposals[-1].payload if proposals else {}
    return payload["geometry_wkt"] if payload.get("confident") is not False else instance.geometry_wkt


def test_a_vertex_dragged_on_the_map_and_a_drawn_building_are_saved_and_exported(
        log_in, page, streamlit_server, wait_for_app, folium_frame, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Geometry review").click()
    wait_for_app(page, text="Tile tile_000.tif")
    instance_id = int(_shown_instance(page).split()[0][1:])
    save_shape = page.get_by_role("button", name="Save edited shape")
    expect(save_shape).to_be_disabled()  # nothing edited yet

    map_frame = folium_frame(page)
    map_frame.locator("a.leaflet-draw-edit-edit").click()
    vertex = map_frame.locator(".leaflet-editing-icon").first  # the first vertex of the selected shape
    place = vertex.bounding_box()
    x, y = place["x"] + place["width"] / 2, place["y"] + place["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 15, y, steps=4)
    page.mouse.move(x + 30, y, steps=4)  # 30 screen px east
    page.mouse.up()
    map_frame.locator('a[title="Save changes"]').click()
    wait_for_app(page)
    expect(save_shape).to_be_enabled()
    save_shape.click()
    wait_for_app(page, text="adjusted.")

    [verdict] = _rows(Verdict, Verdict.kind == VerdictKind.geometry)
    assert verdict.instance_id == instance_id and verdict.action.value == "adjusted" and verdict.dx_m in (None, 0)
    before = shapely.get_coordinates(shapely.from_wkt(_base_shape(instance_id)))
    after = shapely.get_coordinates(shapely.from_wkt(verdict.final_geometry_wkt))
    assert after.shape == before.shape
    moved = [i for i in range(len(before)) if abs(after[i] - before[i]).max() > 1e-6]
    assert moved == [0, len(before) - 1]  # the first vertex, which closes the ring too
    dx, dy = after[0] - before[0]
    assert dx > 0.5 and abs(dy) < dx / 4  # moved east in the raster's CRS, as dragged

    map_frame = folium_frame(page)
    map_frame.locator("a.leaflet-draw-draw-polygon").click()
    page.wait_for_timeout(300)
    corner = map_frame.locator(".leaflet-container").bounding_box()
    for count, (px, py) in enumerate([(150, 250), (230, 250), (230, 330)], start=1):
        page.mouse.move(corner["x"] + px, corner["y"] + py, steps=5)  # the tool's marker follows the mouse
        page.wait_for_timeout(100)
        page.mouse.down()
        page.wait_for_timeout(50)
        page.mouse.up()  # a click as a person makes it: leaflet-draw takes a vertex on a slow enough up
        expect(map_frame.locator(".leaflet-editing-icon")).to_have_count(count)
        page.wait_for_timeout(150)  # leaflet-draw ignores clicks for 50 ms after a vertex
    map_frame.locator('a[title="Finish drawing"]').click()
    wait_for_app(page)
    add = page.get_by_role("button", name="Add drawn shapes (1)")
    expect(add).to_be_enabled()
    add.click()
    wait_for_app(page, text="as drawn.")
    [drawn] = _rows(Instance, Instance.source_id.startswith("drawn-"))
    [drawn_verdict] = _rows(Verdict, Verdict.instance_id == drawn.id)
    assert drawn_verdict.action.value == "adjusted" and shapely.from_wkt(drawn.geometry_wkt).area > 0

    page.get_by_text("Model and export").click()
    page.get_by_role("button", name="Export GeoPackage").click()
    wait_for_app(page, text="Exported to")
    exported = gpd.read_file(app_data / "exports" / "blocks.gpkg")
    assert (exported["verdict"] == "adjusted").sum() == 2
    edited = gpd.GeoSeries([shapely.from_wkt(verdict.final_geometry_wkt)],
                           crs=_raster_crs(instance_id)).to_crs(exported.crs).iloc[0]
    assert exported.geometry.apply(lambda g: g.equals_exact(edited, 1e-9)).any()  # in the annotations' CRS


def _centre(locator) -> tuple[float, float]:
    place = locator.bounding_box()
    return place["x"] + place["width"] / 2, place["y"] + place["height"] / 2


def _focused_map(page, folium_frame):
    """The map's frame, focused: pressing in an unfocused map scrolls the page under the mouse."""
    frame = folium_frame(page)
    frame.locator(".leaflet-container").focus()
    page.wait_for_timeout(200)
    return frame


def _drag(page, start: tuple[float, float], end: tuple[float, float], alt: bool = False) -> None:
    """Press at `start`, move to `end` in steps and release (screen px), holding Alt if asked."""
    if alt:
        page.keyboard.down("Alt")
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()
    if alt:
        page.keyboard.up("Alt")


def _save_edited_shape(page, wait_for_app) -> Verdict:
    """Click "Save edited shape" once the map has reported the edit; returns the verdict it stored."""
    count = len(_rows(Verdict))
    save_shape = page.get_by_role("button", name="Save edited shape")
    expect(save_shape).to_be_enabled()
    save_shape.click()
    wait_for_app(page, text="adjusted.")
    verdicts = _rows(Verdict, Verdict.kind == VerdictKind.geometry)
    assert len(verdicts) == count + 1
    return verdicts[-1]


def _pixels(wkt: str, instance_id: int) -> np.ndarray:
    """A raster-CRS geometry's vertices as (column, row) px of its raster."""
    from annotation_db.models import Raster

    with session_scope() as session:
        raster = session.get(Raster, session.get(Instance, instance_id).raster_id)
        transform = rasterio.Affine(*raster.transform[:6])
    return np.array([~transform @ tuple(p) for p in shapely.get_coordinates(shapely.from_wkt(wkt))])


def test_the_selected_shape_is_moved_and_rotated_by_its_handles_and_a_dragged_vertex_snaps(
        log_in, page, streamlit_server, wait_for_app, folium_frame, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Geometry review").click()
    wait_for_app(page, text="Tile tile_000.tif")

    # move: 40 screen px east with Alt held (no snapping); every vertex shifts by the same vector
    moved_id = int(_shown_instance(page).split()[0][1:])
    handle = _focused_map(page, folium_frame).locator(".shape-move")
    expect(handle).to_have_count(1)
    x, y = _centre(handle)
    _drag(page, (x, y), (x + 40, y), alt=True)
    verdict = _save_edited_shape(page, wait_for_app)
    assert verdict.instance_id == moved_id
    before, after = _pixels(_base_shape(moved_id), moved_id), _pixels(verdict.final_geometry_wkt, moved_id)
    shift = after - before
    assert np.allclose(shift, shift[0], atol=0.02)  # a pure translation
    assert shift[0][0] > 1 and abs(shift[0][1]) < 0.02 * shift[0][0] + 0.02  # east, as dragged

    # rotate: the rotate handle swung 30 degrees about the move handle turns every vertex by that angle
    turned_id = int(_shown_instance(page, other_than=f"#{moved_id}").split()[0][1:])
    frame = _focused_map(page, folium_frame)
    expect(frame.locator(".shape-rotate")).to_have_count(1)
    (hx, hy), (cx, cy) = _centre(frame.locator(".shape-rotate")), _centre(frame.locator(".shape-move"))
    turn = np.radians(30)  # on screen, y down: clockwise as seen
    end = (cx + np.cos(turn) * (hx - cx) - np.sin(turn) * (hy - cy), cy + np.sin(turn) * (hx - cx) + np.cos(turn) * (hy - cy))
    _drag(page, (hx, hy), end, alt=True)
    verdict = _save_edited_shape(page, wait_for_app)
    assert verdict.instance_id == turned_id
    before, after = _pixels(_base_shape(turned_id), turned_id), _pixels(verdict.final_geometry_wkt, turned_id)
    centre = (before.min(axis=0) + before.max(axis=0)) / 2  # the shape's bounding-box centre, px
    radii = np.linalg.norm(before - centre, axis=1)
    assert np.allclose(np.linalg.norm(after - centre, axis=1), radii, atol=0.05)  # turned about that centre
    angles = np.degrees(np.arctan2(*(after - centre).T[::-1]) - np.arctan2(*(before - centre).T[::-1]))
    angles = (angles + 180) % 360 - 180
    assert np.allclose(angles, 30, atol=2)  # rows grow downward, so clockwise on screen is +30 in (col, row)

    # snap: a vertex dropped 4 px from another building's vertex lands exactly on it
    snapped_id = int(_shown_instance(page, other_than=f"#{turned_id}").split()[0][1:])
    frame = _focused_map(page, folium_frame)
    frame.locator("a.leaflet-draw-edit-edit").click()
    vertices = frame.locator(".leaflet-editing-icon")
    expect(vertices.first).to_be_visible()
    shown = _pixels(_base_shape(snapped_id), snapped_id)[:-1]
    (x0, y0), (x2, y2) = _centre(vertices.nth(0)), _centre(vertices.nth(2))
    scale = np.hypot(x2 - x0, y2 - y0) / np.hypot(*(shown[2] - shown[0]))  # screen px per raster px
    on_screen = lambda px: (x0 + scale * (px[0] - shown[0][0]), y0 + scale * (px[1] - shown[0][1]))  # noqa: E731
    shapes = [(i.id, i.geometry_wkt) for i in _rows(Instance) if i.id != snapped_id]
    shapes += [(p.instance_id, p.payload["geometry_wkt"]) for p in _rows(Proposal) if p.instance_id != snapped_id]
    targets = np.unique(np.concatenate([_pixels(wkt, i) for i, wkt in shapes]).round(6), axis=0)
    corner = frame.locator(".leaflet-container").bounding_box()
    candidates = []
    for target in targets:
        tx, ty = on_screen(target)
        inside = (corner["x"] + 30 < tx < corner["x"] + corner["width"] - 30
                  and corner["y"] + 30 < ty < corner["y"] + corner["height"] - 30)
        nearest_other = np.sort(np.linalg.norm((targets - target) * scale, axis=1))[1]
        if inside and nearest_other > 8:
            candidates.append((np.hypot(tx - x0, ty - y0), tuple(target)))
    assert candidates, "no other building's vertex is on screen"
    target = np.array(min(candidates)[1])
    tx, ty = on_screen(target)
    _drag(page, (x0, y0), (tx + 2, ty + 2))  # 2.8 px off, nearer to it than to any other vertex
    frame.locator('a[title="Save changes"]').click()
    wait_for_app(page)
    verdict = _save_edited_shape(page, wait_for_app)
    assert verdict.instance_id == snapped_id
    assert np.allclose(_pixels(verdict.final_geometry_wkt, snapped_id)[0], target, atol=0.01)
