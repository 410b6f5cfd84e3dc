"""Log set-up shared by the server process and its workers."""

from __future__ import annotations

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str) -> None:
    """One line per record on stderr; a no-op when logging is already set up."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)
