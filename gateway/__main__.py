"""``python -m gateway`` is the ``bingxian`` command (used where the script is not on PATH)."""

from gateway.cli import app

app()
