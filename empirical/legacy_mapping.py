"""Deprecated dict-style access to result dataclasses that used to be plain dicts.

:func:`empirical.compare.compare` and :func:`empirical.reproduce.reproduce` returned plain
dicts up to this release; they now return frozen dataclasses.  For one release a result
still answers ``result["key"]``, ``result.get("key")``, ``"key" in result``, ``keys()``,
``items()``, ``values()`` and iteration exactly as the old dict did (the values are those of
``result.to_dict()``), each emitting a :class:`DeprecationWarning` that names the attribute
to use instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["LegacyMappingAccess"]


class LegacyMappingAccess:
    """Mixin: read-only, deprecated mapping access over ``self.to_dict()``.

    Subclasses define ``to_dict() -> dict``, the exact dict the function returned before.
    """

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _legacy(self, what: str) -> dict[str, Any]:
        name = type(self).__name__
        warnings.warn(f"{name} is a dataclass now; dict access ({what}) is deprecated and "
                      f"will be removed in the next release: use its attributes, or "
                      f"{name}.to_dict() for the old dict", DeprecationWarning, stacklevel=3)
        return self.to_dict()

    def __getitem__(self, key: str) -> Any:
        return self._legacy(f"[{key!r}]")[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Deprecated: ``getattr(result, key, default)`` or ``result.to_dict().get``."""
        return self._legacy(f".get({key!r})").get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._legacy(f"{key!r} in ...")

    def keys(self) -> Any:
        """Deprecated: ``result.to_dict().keys()``."""
        return self._legacy(".keys()").keys()

    def items(self) -> Any:
        """Deprecated: ``result.to_dict().items()``."""
        return self._legacy(".items()").items()

    def values(self) -> Any:
        """Deprecated: ``result.to_dict().values()``."""
        return self._legacy(".values()").values()

    def __iter__(self) -> Iterator[str]:
        return iter(self._legacy("iteration"))
