"""The browser half of the benchmark: show a widget in the notebook's one cell, time it, drag in it.

Each widget is driven as a person would: labnb and jupyter-bbox-widget move the box by pressing inside it;
ipyannotations cannot move a box, so its documented edit mode ("Edit" toggle, "Point size" at its
maximum, then drag a corner) resizes it instead, which is the closest gesture it has. Screen positions
come from each widget's own geometry: labnb's debug handle (``toScreen``), the bbox widget's ``<img>``
rectangle, ipyannotations' fitted canvas.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, WebSocket, sync_playwright

from annotator_support import data
from annotator_support.lab import CHROMIUM_ARGS, Lab, chromium_path

VIEWPORT = {"width": 1400, "height": 1200}
PROBE = (Path(__file__).parent / "probe.js").read_text()
DRAG = (240.0, 140.0)  # screen px: the dragged box (or corner) goes there and back
PAN = (-300.0, -200.0)
SETTLE_TIMEOUT_MS = 120_000
#: Frames up to this long after the release count too: labnb redraws its layers once the view has been
#: still for 120 ms (js/src/layers.ts SETTLE_MS), the bbox widget re-renders on mouseup.
TAIL_MS = 200
RING = 2000  # labnb keeps its last 2,000 frame times (js/src/layers.ts FrameTimes)
TX, TY, TW, TH = data.TARGET
CORNER = (TX + TW, TY + TH)  # ipyannotations drags the bottom-right corner


def p95(values: list[float]) -> float | None:
    return float(np.percentile(values, 95)) if values else None


class Harness:
    def __init__(self, lab: Lab, work: Path, image: Path, log: Callable[[str], None]) -> None:
        self.lab, self.work, self.image, self.log = lab, work, image, log
        self.wire_bytes = 0
        # ipyannotations draws into a canvas whose size is fixed in Python; its default, 700x500, shows the
        # image at about labnb's size (labnb: a 640 px tall widget; jupyter-bbox-widget: the cell's width).
        self.canvas_size = (700, 500)
        self._stack = contextlib.ExitStack()

    # -- life cycle --------------------------------------------------------------------------------------
    def __enter__(self) -> Harness:
        try:
            self._open()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _open(self) -> None:
        pw = self._stack.enter_context(sync_playwright())
        self.browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        self._stack.callback(self.browser.close)
        self.page: Page = self.browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        self.page.on("websocket", self._on_websocket)
        self.page.goto(self.lab.notebook_url("bench.ipynb"))
        self.page.wait_for_function(
            "() => { const p = window.jupyterapp && jupyterapp.shell.currentWidget;"
            " return !!(p && p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel"
            " && p.content && p.content.widgets.length); }",
            timeout=90_000,
        )
        self.page.evaluate("async () => { await jupyterapp.shell.currentWidget.sessionContext.ready; }")
        self.page.evaluate(PROBE)
        # the file browser closed, as a user with a wide image would: the cell gets the page's width
        self.page.evaluate(
            "() => jupyterapp.shell.leftCollapsed || jupyterapp.commands.execute('application:toggle-left-area')"
        )
        self.page.wait_for_timeout(300)

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self._stack.close()

    def _on_websocket(self, ws: WebSocket) -> None:
        if "/api/kernels/" in ws.url:
            ws.on("framereceived", self._count)

    def _count(self, payload: str | bytes) -> None:
        self.wire_bytes += len(payload.encode() if isinstance(payload, str) else payload)

    # -- kernel ------------------------------------------------------------------------------------------
    def exec(self, code: str) -> str:
        out: str = self.page.evaluate("code => __bench.exec(code)", code)
        return out

    def wait_idle(self, quiet_ms: int = 300) -> float:
        waited: float = self.page.evaluate("ms => __bench.waitIdle(ms)", quiet_ms)
        return waited

    def setup(self, counts: tuple[int, ...], huge: Path | None = None) -> float:
        t = time.perf_counter()
        self.exec(
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent.parent)!r})\n"
            "from annotator_support import kernel_side as KS\n"
            f"KS.setup({str(self.work)!r}, {str(self.image)!r}, {list(counts)!r}, {str(huge) if huge else None!r})\n"
        )
        return time.perf_counter() - t

    def environment(self) -> dict[str, Any]:
        """Versions, and the page's own frame times with no widget shown: idle, and under the same pointer
        moves as a drag (JupyterLab's hover handling, the probe itself), the floor under every figure."""
        self._reset()
        self.page.evaluate("() => __bench.frames.start()")
        self.page.wait_for_timeout(1000)
        frames = self.page.evaluate("() => __bench.frames.stop()")["frames"]
        ts = [f[0] for f in frames]
        idle = [end - t for t, _, end in frames]
        moves = self._gesture("none", (400.0, 300.0), DRAG, 60, button=None)["frame_ms"]
        versions = {}
        for dist in ("jupyter-bbox-widget", "ipyannotations", "ipycanvas", "anywidget", "ipywidgets", "jupyterlab"):
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                versions[dist] = importlib.metadata.version(dist)
        return {
            "chromium": self.browser.version,
            "viewport": VIEWPORT,
            "idle_frame_interval_ms": float(np.median(np.diff(ts))) if len(ts) > 2 else None,
            "page_idle_frame_p95_ms": p95(idle),
            "page_pointer_moves_frame_p95_ms": p95(moves),
            "versions": versions,
            "ipyannotations_canvas_size": list(self.canvas_size),
        }

    # -- display -----------------------------------------------------------------------------------------
    def _reset(self) -> None:
        self.exec("KS.close_last()")
        left = self.page.evaluate("() => __bench.clear()")
        assert left == 0, "the cell's output did not clear"
        self.wait_idle()

    def display(self, kind: str, n: int) -> dict[str, Any]:
        self._reset()
        code = f"KS.start_cell()\nW = KS.make({kind!r}, {n}, {self.canvas_size!r})\nW"
        wire0 = self.wire_bytes
        self.page.evaluate("() => performance.clearMarks()")
        size = [data.HUGE_WIDTH, data.HUGE_HEIGHT] if kind == "labnb_huge" else [data.WIDTH, data.HEIGHT]
        try:
            rec = self.page.evaluate("([code, w, h]) => __bench.display(code, w, h)", [code, *size])
        except PlaywrightError as exc:
            self.log(f"{kind}: the image never showed ({exc.message.splitlines()[0]}); this display counts as missing")
            self.wait_idle()
            return dict.fromkeys(
                (
                    "first_paint_ms",
                    "cell_to_paint_ms",
                    "full_res_drawn_ms",
                    "cell_to_full_res_ms",
                    "probe_delay_ms",
                    "how",
                    "image_bytes",
                    "comm_bytes",
                )
            )
        self.wait_idle()
        # labnb paints a small preview first; its marks say when the full-resolution image followed
        marks = dict(self.page.evaluate("() => performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])"))
        full_res = marks.get("labnb:image-drawn") or marks.get("labnb:full-res-tile-drawn")
        preview = marks.get("labnb:preview-drawn")
        sent = json.loads(self.exec("print(KS.sent_summary())"))
        paint_epoch = rec["epochOrigin"] + rec["tPaint"]
        return {
            "first_paint_ms": rec["tPaint"] - rec["t0"],
            "cell_to_paint_ms": paint_epoch - sent["t_cell_ms"],
            "full_res_drawn_ms": None if full_res is None else full_res - rec["t0"],
            # the cell's first line to labnb's full-resolution bitmap drawn (its mark, at the drawImage call)
            "cell_to_full_res_ms": None if full_res is None else rec["epochOrigin"] + full_res - sent["t_cell_ms"],
            # how much later the probe notes pixels than labnb's mark says they were drawn (on the preview)
            "probe_delay_ms": None if preview is None else rec["tPaint"] - preview,
            "how": rec["how"],
            "image_bytes": sent["image_bytes"],
            "image_messages": sent["image_messages"],
            "comm_bytes": sent["json_bytes"] + sent["buffer_bytes"],
            "wire_bytes": self.wire_bytes - wire0,
            "displayed_css_px": self._displayed_size(kind),
        }

    def zoom_to_full_resolution(self) -> float | None:
        """On the huge image just shown: zoom in at its centre (keyboard "+", as a user would, 1:1 reached in
        a dozen steps) and return ms until a full-resolution tile was drawn there (its performance mark)."""
        self.page.evaluate("() => performance.clearMarks('labnb:full-res-tile-drawn')")
        stage = self.page.locator('[data-testid="stage"]').last
        box = stage.bounding_box()
        assert box is not None
        self.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        stage.click()
        t0 = self.page.evaluate("() => performance.now()")
        for _ in range(40):
            if self.page.evaluate("() => __bench.labnb().state().zoom") >= 1:
                break
            self.page.keyboard.press("+")
            self.page.wait_for_timeout(20)
        try:
            self.page.wait_for_function(
                "() => performance.getEntriesByName('labnb:full-res-tile-drawn').length > 0", timeout=120_000
            )
        except PlaywrightError:
            return None
        t1: float = self.page.evaluate("() => performance.getEntriesByName('labnb:full-res-tile-drawn')[0].startTime")
        return t1 - float(t0)

    def _displayed_size(self, kind: str) -> list[float] | None:
        if kind == "labnb_huge":
            return None
        if kind == "labnb":
            return self.page.evaluate(
                f"""() => {{ const a = __bench.labnb(); if (!a) return null;
                const [x0, y0] = a.toScreen(0, 0); const [x1, y1] = a.toScreen({data.WIDTH}, {data.HEIGHT});
                return [x1 - x0, y1 - y0]; }}"""
            )
        if kind == "bbox":
            r = self.page.evaluate("() => __bench.imgRect()")
            return [r["width"], r["height"]]
        x0, y0 = self._ipyann_screen(0, 0)
        x1, y1 = self._ipyann_screen(data.WIDTH, data.HEIGHT)
        return [x1 - x0, y1 - y0]

    # -- geometry ----------------------------------------------------------------------------------------
    def _ipyann_screen(self, x: float, y: float) -> tuple[float, float]:
        """ipyannotations' fit_image: the image scaled into the canvas, centred, integer sizes."""
        r = self.page.evaluate("() => __bench.canvasRect()")
        cw, ch = r["cw"], r["ch"]
        k = max(data.WIDTH / cw, data.HEIGHT / ch)
        w, h = int(data.WIDTH / k), int(data.HEIGHT / k)
        ox, oy = cw // 2 - w // 2, ch // 2 - h // 2
        sx, sy = r["width"] / cw, r["height"] / ch
        return r["left"] + (ox + x * w / data.WIDTH) * sx, r["top"] + (oy + y * h / data.HEIGHT) * sy

    def _screen(self, kind: str, x: float, y: float) -> tuple[float, float]:
        if kind == "labnb":
            sx, sy = self.page.evaluate("([x, y]) => __bench.labnb().toScreen(x, y)", [x, y])
            return float(sx), float(sy)
        if kind == "bbox":
            r = self.page.evaluate("() => __bench.imgRect()")
            return r["left"] + x * r["width"] / r["nw"], r["top"] + y * r["height"] / r["nh"]
        return self._ipyann_screen(x, y)

    def target(self, kind: str) -> list[float]:
        out: list[float] = json.loads(self.exec(f"import json; print(json.dumps(KS.target_geometry({kind!r}, W)))"))
        return out

    # -- pointer input -----------------------------------------------------------------------------------
    def _gesture(
        self,
        kind: str,
        start: tuple[float, float],
        delta: tuple[float, float],
        steps: int,
        *,
        button: str | None = "left",
        hold: str | None = None,
        step_ms: float = 8.0,
    ) -> dict[str, Any]:
        """Press at ``start``, move by ``delta`` in ``steps`` paced moves, release; frames recorded meanwhile."""
        m, kb = self.page.mouse, self.page.keyboard
        m.move(*start)
        if hold:
            kb.down(hold)
        self.page.evaluate("() => __bench.frames.start()")
        wire0 = self.wire_bytes
        if button:
            m.down(button=button)  # type: ignore[arg-type]
        t = time.perf_counter()
        for i in range(1, steps + 1):
            m.move(start[0] + delta[0] * i / steps, start[1] + delta[1] * i / steps)
            pause = t + i * step_ms / 1000 - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        moving_s = time.perf_counter() - t
        if button:
            m.up(button=button)  # type: ignore[arg-type]
        if hold:
            kb.up(hold)
        rec = self.page.evaluate("([t, tail]) => __bench.frames.stopWhenSettled(t, tail)", [SETTLE_TIMEOUT_MS, TAIL_MS])
        self._settle(kind)
        return {
            "frame_ms": [end - ts for ts, _, end in rec["frames"]],
            "longtask_ms": sum(d for _, d in rec["longtasks"]),
            "moves_per_s": steps / moving_s,
            "settle_ms": rec["settle"],
            "settle_timed_out": rec["timedOut"],
            "wire_bytes": self.wire_bytes - wire0,
        }

    def _labnb_self_frames(self) -> int:
        n: int = self.page.evaluate("() => { const a = __bench.labnb(); return a ? a.state().frameTimes.length : -1; }")
        return n

    # -- one case: a widget with n objects, dragged and panned ---------------------------------------------
    def interact(self, kind: str, n: int, gestures: int, steps: int, budget_s: float) -> dict[str, Any]:
        """Drag the target there and back, ``gestures`` times in all, or fewer when the case has used up
        ``budget_s`` (ipyannotations with 5,000 boxes keeps its kernel busy for tens of seconds per drag);
        at least one. Then pan (labnb only), with the same rule."""
        self.display(kind, n)
        (self.work / "shots").mkdir(exist_ok=True)
        self.page.screenshot(path=str(self.work / "shots" / f"{kind}_{n}.png"))  # to see what was measured
        if kind == "labnb" and self.page.evaluate("() => !__bench.labnb()"):
            self.log("labnb: no debug handle (window.__labnb) in this build: drag and pan not measured")
            return _empty()
        if kind == "ipyannotations":
            # Its "Edit" toggle, and its "Point size" slider at the maximum: a corner is grabbed within
            # point_size *image* pixels, and at 666 px for 4000 the default (5) is less than one screen pixel.
            self.exec("W.edit_button.value = True\nW.point_size_slider.value = 20")
            self.wait_idle()
        grab = CORNER if kind == "ipyannotations" else (TX + TW / 2, TY + TH / 2)
        before = self.target(kind)
        start = self._screen(kind, *grab)
        drags, self_times = self._repeat(kind, start, DRAG, gestures, steps, budget_s, {}, lambda: self.target(kind))
        moved = drags[0]["after_first"]
        expect = DRAG[0] * self._image_per_screen(kind)
        shift = moved[2] - before[2]
        out = {
            **_summary("drag", drags),
            "drag_self_p95_ms": p95(self_times) if kind == "labnb" else None,
            "drag_moved_image_px": round(shift, 1),
            "drag_expected_image_px": round(expect, 1),
            "drag_verified": bool(abs(shift - expect) <= 0.1 * expect + 4),
            "drag_gesture": "resize a corner (edit mode)" if kind == "ipyannotations" else "move the box",
            "pan_p95_ms": None,
            "pan_self_p95_ms": None,
            "pan_verified": None,
        }
        if kind == "labnb":
            self.display(kind, n)  # a fresh view: its ring of frame times (2,000) then holds every pan frame
            pan_start = self._screen(kind, *data.PAN_START)
            origin = self._screen(kind, 0, 0)
            pans, pan_self = self._repeat(
                kind, pan_start, PAN, gestures, steps, budget_s, PAN_GESTURE, lambda: self._screen(kind, 0, 0)
            )
            panned = pans[0]["after_first"]
            out.update(_summary("pan", pans))
            out["pan_self_p95_ms"] = p95(pan_self)
            out["pan_verified"] = abs(panned[0] - origin[0] - PAN[0]) <= 2 and abs(panned[1] - origin[1] - PAN[1]) <= 2
        return out

    def _repeat(
        self,
        kind: str,
        start: tuple[float, float],
        delta: tuple[float, float],
        count: int,
        steps: int,
        budget_s: float,
        gesture: dict[str, Any],
        after_first: Callable[[], Any],
    ) -> tuple[list[dict[str, Any]], list[float]]:
        back = (start[0] + delta[0], start[1] + delta[1])
        done: list[dict[str, Any]] = []
        self_times: list[float] = []
        t = time.perf_counter()
        while len(done) < count and (not done or time.perf_counter() - t < budget_s):
            there = len(done) % 2 == 0
            k0 = self._labnb_self_frames() if kind == "labnb" else 0
            origin, move = (start, delta) if there else (back, (-delta[0], -delta[1]))
            g = self._gesture(kind, origin, move, steps, **gesture)
            if kind == "labnb":
                self_times += self._labnb_new_self_frames(k0)
            if not done:
                g["after_first"] = after_first()
            done.append(g)
        return done, self_times

    def _labnb_new_self_frames(self, k0: int) -> list[float]:
        vals: list[float] = self.page.evaluate(
            "() => { const a = __bench.labnb(); return a ? a.state().frameTimes : []; }"
        )
        if len(vals) >= RING:  # the ring wrapped: which frames are new is unknown
            self.log("labnb: frameTimes ring full, its own frame times for this gesture are left out")
            return []
        return vals[max(k0, 0) :]

    def _settle(self, kind: str) -> None:
        if kind == "labnb":
            self.page.evaluate("() => __bench.labnb().idle()")
        self.wait_idle(300)

    def _image_per_screen(self, kind: str) -> float:
        x0, _ = self._screen(kind, 0, 0)
        x1, _ = self._screen(kind, data.WIDTH, 0)
        return data.WIDTH / (x1 - x0)


#: labnb pans with a plain drag on empty canvas in the select tool (also middle button or Space+drag;
#: js/src/input.ts, js/src/tools/select.ts). The pan starts in a zone kept free of boxes.
PAN_GESTURE: dict[str, Any] = {}


def _summary(what: str, gestures: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return float(np.median([g[key] for g in gestures]))

    frames = [np.asarray(g["frame_ms"]) for g in gestures]
    return {
        f"{what}_p95_ms": _median_p95(gestures),
        f"{what}_p50_ms": float(np.median([np.median(f) for f in frames if len(f)])),
        f"{what}_max_ms": float(max(f.max() for f in frames if len(f))),
        f"{what}_frames_over_16ms": float(np.mean(np.concatenate(frames) > 16.7)),
        f"{what}_frames": int(sum(len(f) for f in frames)),
        f"{what}_gestures": len(gestures),
        f"{what}_longtask_ms": med("longtask_ms"),
        f"{what}_moves_per_s": med("moves_per_s"),
        f"{what}_settle_ms": med("settle_ms"),
        f"{what}_settle_timed_out": any(g["settle_timed_out"] for g in gestures),
        f"{what}_kernel_to_page_bytes": med("wire_bytes"),
    }


def _median_p95(gestures: list[dict[str, Any]]) -> float | None:
    vals = [p95(g["frame_ms"]) for g in gestures]
    vals = [v for v in vals if v is not None]
    return float(np.median(vals)) if vals else None


def _empty() -> dict[str, Any]:
    keys = ("drag_p95_ms", "drag_self_p95_ms", "pan_p95_ms", "pan_self_p95_ms", "drag_verified", "pan_verified")
    return dict.fromkeys(keys)
