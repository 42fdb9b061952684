"""User-facing errors.

Every problem caused by the user's input (a model file, a config, a CSV table, a
command-line flag) is raised as :class:`CesError`.  The CLI prints ``str(err)`` as a
single line and exits with code 2; nothing else in the package knows about exit
codes.  The message names, where known, the file, the YAML key path (with the
line number) and what is allowed.
"""

from __future__ import annotations


class CesError(Exception):
    """A user-input error: one line, no traceback, exit code 2."""

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None,
                 line: int | None = None):
        self.message = message
        self.file = file
        self.path = path
        self.line = line
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
        if self.path:
            where = f"{where} {self.path}" if where else self.path
        text = f"{where}: {self.message}" if where else self.message
        return " ".join(text.split("\n"))


class ExprError(CesError):
    """An invalid expression (syntax, refused construct, unknown name, cycle)."""


class ModelCheckError(CesError):
    """A run-time model check failed (row sums, probabilities out of [0,1], mass)."""
