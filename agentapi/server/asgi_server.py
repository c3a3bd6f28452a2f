"""uvicorn's server and config, imported without uvicorn's command line.

``import uvicorn`` runs its package ``__init__``, which imports ``uvicorn.main``: click,
multiprocessing, the reload supervisors and watchfiles, none of which the daemon uses,
at a cost of start-up time and memory. The daemon needs only ``uvicorn.config`` and
``uvicorn.server``, so the package is registered without running its ``__init__``; the
first access to any other attribute of the package (``uvicorn.run``) runs it then, so
other users of uvicorn in the same process still see the whole package.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any


def _register_package_lazily() -> ModuleType | None:
    """The package, registered but not initialised; None when it was imported already."""
    if "uvicorn" in sys.modules:
        return None
    spec = importlib.util.find_spec("uvicorn")
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def finish(name: str) -> Any:
        # Run the real __init__ once, in the same module object, then answer.
        del package.__getattr__
        loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = finish  # type: ignore[method-assign]
    sys.modules["uvicorn"] = package
    return package


_lazy_package = _register_package_lazily()

from uvicorn.config import Config  # noqa: E402
from uvicorn.server import Server  # noqa: E402

if _lazy_package is not None:
    # uvicorn's own modules import these from the package (``from uvicorn import Config``).
    setattr(_lazy_package, "Config", Config)  # noqa: B010
    setattr(_lazy_package, "Server", Server)  # noqa: B010

__all__ = ["Config", "Server"]
