"""Lets real Keras read the fake cache that `tests/compat/keras_cache.py` writes.

Keras's dataset loaders check each cached file against the real file's hash and download
it again when it differs; the fake files cannot match, and there is no network. This
module is on PYTHONPATH only for `make_reference.py`'s runs of real Keras: it makes
`keras.src.utils.file_utils.validate_file` accept any file once Keras imports it. It
changes nothing else.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

TARGET = "keras.src.utils.file_utils"


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            module.validate_file = lambda *args, **kwargs: True  # type: ignore[attr-defined]

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _PatchAfterImport())
