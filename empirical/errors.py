"""The experiment package's own user-error types (both are :class:`OptrobustError`).

The CLI maps exactly the library's error types to exit status 2 with one line on stderr;
these two name the file problems a user causes, so they are among them.  Each also
derives from the built-in a caller might already catch.
"""

from __future__ import annotations

from optrobust.errors import InvalidInputError

__all__ = ["CheckpointError", "MissingFileError"]


class MissingFileError(InvalidInputError, FileNotFoundError):
    """A file or data set the user named (checkpoint, MNIST, CIFAR-10) is not there."""


class CheckpointError(InvalidInputError):
    """A file that is not a readable checkpoint written by :func:`empirical.train.train`."""
