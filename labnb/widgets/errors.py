"""What a widget shows of an error, in one place for every widget.

ipywidgets swallows exceptions raised in message handlers, so widgets catch them and show them (their
``error`` trait). labnb's own errors are written for the user and name the item and the problem: their
message alone is shown, with no "LabnbError:" prefix; anything else is a bug, named as such with its type
so it can be reported.
"""

from __future__ import annotations

from labnb.errors import LabnbError


def error_text(exc: BaseException) -> str:
    """The text a widget shows for ``exc``."""
    if isinstance(exc, LabnbError):
        return str(exc) or "the request was refused"
    return f"Unexpected error ({type(exc).__name__}): {exc}"
