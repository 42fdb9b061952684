"""``python -m ces.cli``: the same as the ``ces`` command."""

from ces.cli import app

app()
