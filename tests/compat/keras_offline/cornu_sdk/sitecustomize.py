"""Lets Cornu (and Keras) read the fake cache that `tests/compat/keras_cache.py` writes.

Cornu's loaders check each cached file against the real file's hash, as Keras's do, and
download it again when it differs; the fake files cannot match, and there is no network.
With this folder on PYTHONPATH (`PYTHONPATH=<repo root>:<repo root>/tests/compat/
keras_offline/cornu_sdk`), `validate_file` accepts any file in `cornu.utils.file_utils`
and in `keras.src.utils.file_utils`, once each is imported: Python imports only the first
`sitecustomize` on the path, so this one also does the parent folder's work for Keras.
It changes nothing else, and nothing in a process that does not have it on its path.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

TARGETS = ("cornu.utils.file_utils", "keras.src.utils.file_utils")


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in TARGETS:
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
