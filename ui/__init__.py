"""The Gradio web chat over a ``rag`` index: ``ui.app.create_app`` and ``ui.app.serve``.

Importing ``ui`` is cheap; Gradio (about 6 s to import) loads on first use of these names.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
