"""Driving one rendered Annotator view from a test: real mouse and keyboard in image coordinates.

Coordinates in the API below are full-resolution image pixels unless a name says ``screen``. They are
mapped to the page through the view's test handle ``window.__labnb.annotators[i].toScreen(x, y)``
(js/README.md, "Test hooks"), so a test reads like "drag from (100, 80) to (300, 240) of the image" whatever
the zoom, and asserts what reached the store.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Dialog, Error, Locator, Page

    from labnb.widgets.annotator import Annotator

T = TypeVar("T")

#: Playwright's names for the modifiers of the keymap's key strings ("Ctrl" means Cmd on a Mac).
_MODIFIERS = {"ctrl": "Control", "control": "Control", "cmd": "Meta", "meta": "Meta", "shift": "Shift", "alt": "Alt"}

HOOK = "window.__labnb.annotators"


def playwright_key(spec: str) -> str:
    """A keymap key (``"Ctrl+Shift+z"``, ``"+"``, ``"ArrowRight"``) as Playwright's ``press`` wants it."""
    if spec == "+":
        return "+"
    parts = [*spec[:-2].split("+"), "+"] if spec.endswith("++") else spec.split("+")
    *mods, key = parts
    return "+".join([*(_MODIFIERS.get(m.lower(), m) for m in mods), key])


def eventually(check: Callable[[], T], timeout: float = 10.0, interval: float = 0.1) -> T:
    """Call ``check`` until it returns without an AssertionError (its value), or raise the last error.

    For conditions that hold once the browser's debounced edits (300 ms) have been saved by Python."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(interval)


def handle_idle(page: Page, hook: str, index: int, timeout: float) -> bool:
    """Whether the ``index``-th debug handle of ``hook`` (``window.__labnb.annotators``, ``.reviews``,
    ``.graders``) became idle within ``timeout`` seconds."""
    return bool(
        page.evaluate(
            f"""async ([i, ms]) => {{
                const timer = new Promise((resolve) => setTimeout(() => resolve(false), ms));
                return await Promise.race([{hook}[i].idle().then(() => true), timer]);
            }}""",
            [index, int(timeout * 1000)],
        )
    )


def png_pixels(png: bytes) -> np.ndarray[Any, Any]:
    """An ``(h, w, 3)`` uint8 array of a PNG screenshot."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def near(color: Sequence[int], expected: Sequence[int], tolerance: int = 40) -> bool:
    return bool(np.max(np.abs(np.asarray(color[:3], dtype=int) - np.asarray(expected[:3], dtype=int))) <= tolerance)


class PageWatch:
    """Records dialogs (dismissed at once) and uncaught page errors while a test runs."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", self._on_error)
        page.on("console", self._on_console)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_error(self, error: Error) -> None:
        self.errors.append(f"{error.name}: {error.message}\n{error.stack or ''}")

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    def stop(self) -> None:
        self.page.remove_listener("dialog", self._on_dialog)
        self.page.remove_listener("pageerror", self._on_error)
        self.page.remove_listener("console", self._on_console)

    def check(self) -> None:
        if self.console_errors:  # shown with a failing test's captured output; not failures themselves
            print("browser console errors:", *self.console_errors, sep="\n  ")
        assert not self.dialogs, f"the page opened dialogs (script ran): {self.dialogs}"
        assert not self.errors, "uncaught errors in the page:\n" + "\n".join(self.errors)


class AnnotatorView:
    """One rendered view of an :class:`Annotator` (the ``index``-th shown in the page)."""

    def __init__(self, page: Page, widget: Annotator, index: int) -> None:
        self.page = page
        self.widget = widget
        self.index = index

    # -- elements ------------------------------------------------------------------------------------
    @property
    def root(self) -> Locator:
        return self.page.locator('[data-testid="annotator"]').nth(self.index)

    @property
    def stage(self) -> Locator:
        return self.root.locator('[data-testid="stage"]')

    def hook(self, selector: str) -> Locator:
        return self.root.locator(selector)

    def tool_button(self, tool: str) -> Locator:
        return self.root.locator(f'[data-tool="{tool}"]')

    def class_button(self, name: str) -> Locator:
        return self.root.locator(f"[data-class={_css_string(name)}]")

    # -- the test handle -----------------------------------------------------------------------------
    def _call(self, expression: str, *args: Any) -> Any:
        """Evaluate ``(a, ...args) => expression`` with ``a`` this view's handle."""
        return self.page.evaluate(
            f"([i, args]) => {{ const a = {HOOK}[i]; return (({_params(len(args))}) => {expression})(...args); }}",
            [self.index, list(args)],
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until the view's handle exists, its image has been fitted (zoom > 0) and nothing is pending."""
        self.page.wait_for_function(
            f"i => !!(window.__labnb && {HOOK} && {HOOK}.length > i && {HOOK}[i].state().zoom > 0)",
            arg=self.index,
            timeout=timeout * 1000,
        )
        self.idle(timeout)

    def idle(self, timeout: float = 15.0) -> None:
        """Until the view has nothing pending (every edit acknowledged by Python) and no frame scheduled."""
        ok = handle_idle(self.page, HOOK, self.index, timeout)
        assert ok, f"annotator view {self.index} not idle after {timeout} s: {self.state()}"

    def state(self) -> dict[str, Any]:
        """``{tool, label, zoom, selected, shapes, pending, frameTimes}`` of the view."""
        result: dict[str, Any] = self._call("a.state()")
        return result

    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        sx, sy = self._call("a.toScreen(x, y)", x, y)
        return float(sx), float(sy)

    def to_image(self, sx: float, sy: float) -> tuple[float, float]:
        x, y = self._call("a.toImage(x, y)", sx, sy)
        return float(x), float(y)

    @property
    def zoom(self) -> float:
        return float(self.state()["zoom"])

    def pixel_tolerance(self, screen_pixels: float = 2.0) -> float:
        """How far (image pixels) a point may land from where the mouse was, at the current zoom."""
        return screen_pixels / self.zoom + 1.0

    # -- mouse and keyboard --------------------------------------------------------------------------
    def scroll_into_view(self) -> None:
        """Bring the stage into the viewport (a second view sits below the first): the mouse and the
        screenshots only reach what is on screen."""
        self.stage.scroll_into_view_if_needed()

    def move(self, x: float, y: float, steps: int = 1) -> None:
        self.scroll_into_view()
        self.page.mouse.move(*self.to_screen(x, y), steps=steps)

    def click(self, x: float, y: float, modifiers: Iterable[str] = ()) -> None:
        """Click the image point ``(x, y)``, holding ``modifiers`` ("Shift", "Alt", "Control")."""
        mods = list(modifiers)
        self.move(x, y, steps=2)
        for m in mods:
            self.page.keyboard.down(m)
        self.page.mouse.down()
        self.page.mouse.up()
        for m in reversed(mods):
            self.page.keyboard.up(m)

    def dblclick(self, x: float, y: float) -> None:
        self.move(x, y, steps=2)  # scrolls the stage into view
        self.page.mouse.dblclick(*self.to_screen(x, y))

    def drag(
        self, start: tuple[float, float], end: tuple[float, float], steps: int = 10, modifiers: Iterable[str] = ()
    ) -> None:
        """Press at ``start``, move in ``steps`` to ``end``, release, holding ``modifiers`` (image
        coordinates, mapped once at the start so that a view that pans while dragging does not bend the path)."""
        mods = list(modifiers)
        self.scroll_into_view()
        sx, sy = self.to_screen(*start)
        ex, ey = self.to_screen(*end)
        self.page.mouse.move(sx, sy, steps=2)
        for m in mods:
            self.page.keyboard.down(m)
        self.page.mouse.down()
        self.page.mouse.move(ex, ey, steps=steps)
        self.page.mouse.up()
        for m in reversed(mods):
            self.page.keyboard.up(m)

    def press(self, spec: str) -> None:
        """Press a key written as in the keymap (``"Ctrl+z"``, ``"b"``, ``"?"``)."""
        self.page.keyboard.press(playwright_key(spec))

    def action(self, name: str) -> None:
        """Press the key the widget's keymap gives ``name`` (``"undo"``, ``"tool_box"``, ...)."""
        self.press(self.widget.keymap[name])

    def focus(self) -> None:
        """Give the widget the keyboard as a user does: hover the stage and click its status bar."""
        box = self.stage.bounding_box()
        assert box is not None, "the stage is not visible"
        self.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        self.root.focus()

    def pick_tool(self, tool: str) -> None:
        self.tool_button(tool).click()
        assert self.tool_button(tool).get_attribute("aria-pressed") == "true", f"tool {tool} not active"

    def pick_class(self, name: str) -> None:
        self.class_button(name).click()
        assert self.class_button(name).get_attribute("aria-pressed") == "true", f"class {name} not current"

    # -- pixels ----------------------------------------------------------------------------------------
    def screenshot(self) -> np.ndarray[Any, Any]:
        """The whole viewport as an ``(h, w, 3)`` array indexed by screen (client) coordinates."""
        self.scroll_into_view()
        return png_pixels(self.page.screenshot())

    def color_at(self, x: float, y: float, shot: np.ndarray[Any, Any] | None = None) -> tuple[int, int, int]:
        """The colour on screen at image point ``(x, y)``."""
        shot = self.screenshot() if shot is None else shot
        sx, sy = self.to_screen(x, y)
        r, g, b = (int(v) for v in shot[round(sy), round(sx)])
        return r, g, b


def _params(n: int) -> str:
    return ", ".join(["x", "y", "z", "u", "v", "w"][:n])


def _css_string(value: str) -> str:
    """``value`` as a quoted CSS string for an attribute selector (any characters, including quotes)."""
    return '"' + "".join(c if c.isalnum() or c in " _-:." else f"\\{ord(c):x} " for c in value) + '"'
