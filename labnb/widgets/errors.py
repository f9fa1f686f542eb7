"""What a widget shows of an error, in one place for every widget.

ipywidgets swallows exceptions raised in message handlers, so widgets catch them and show them (their
``error`` trait). labnb's own errors are written for the user and name the item and the problem: their
message alone is shown, with no "LabnbError:" prefix; anything else is a bug, named as such with its type
so it can be reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labnb.errors import LabnbError


def error_text(exc: BaseException) -> str:
    """The text a widget shows for ``exc``."""
    if isinstance(exc, LabnbError):
        return str(exc) or "the request was refused"
    return f"Unexpected error ({type(exc).__name__}): {exc}"


def answer(widget: Any, content: Any, handle: Callable[[Any], None], refused: Callable[[], None] | None = None) -> None:
    """Handle one request from the browser (``handle(content)``) and reply to it once the traits are updated:
    ``{"type": "reply", "seq": n, "ok": bool, "error": str}``, the error also shown in ``widget.error`` (an
    exception raised in a comm callback would be swallowed). ``refused`` runs after an error (the grader
    sends its draft again, as it stands)."""
    seq = content.get("seq") if isinstance(content, dict) else None
    error = ""
    try:
        handle(content)
        widget.error = ""
    except Exception as exc:  # shown in the widget: ipywidgets swallows callback errors
        error = error_text(exc)
        widget.error = error
        if refused is not None:
            refused()
    widget.send({"type": "reply", "seq": seq, "ok": error == "", "error": error})
