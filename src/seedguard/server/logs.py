"""JSON log lines. Only fields named here are written: never a body, a token or a header."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER = logging.getLogger("seedguard.server")
FIELDS = ("method", "route", "status", "ms", "client", "account", "event", "detail")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__  # the type only: messages may quote data
        return json.dumps(line, separators=(",", ":"))


_SAFE = frozenset("0123456789abcdefABCDEF.:[]-_/{}")
_handler: logging.StreamHandler[Any] | None = None


def _text(value: str) -> str:
    """A JSON string: written as is when it can need no escaping (addresses, routes, ids)."""
    return f'"{value}"' if _SAFE.issuperset(value) else json.dumps(value)


def access(
    method: str, route: str, status: int, ms: float, client: str, account: str | None
) -> None:
    """The access line, the same JSON as a logged record's, formatted without a LogRecord
    or json.dumps: it is written for every request, on the hot routes too."""
    handler = _handler
    if handler is None or not LOGGER.isEnabledFor(logging.INFO):
        if handler is None and LOGGER.isEnabledFor(logging.INFO):
            LOGGER.info(
                "request",
                extra={"method": method, "route": route, "status": status, "ms": ms,
                       "client": client, "account": account},
            )  # fmt: skip
        return
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    line = (
        f'{{"ts":"{stamp}","level":"info","msg":"request","method":{_text(method)},'
        f'"route":{_text(route)},"status":{int(status)},"ms":{ms},"client":{_text(client)}'
        + (f',"account":{_text(account)}' if account is not None else "")
        + "}\n"
    )
    handler.acquire()
    try:
        handler.stream.write(line)
        handler.flush()
    finally:
        handler.release()


def configure(level: str = "info") -> None:
    global _handler
    handler = logging.StreamHandler(sys.stderr)
    _handler = handler
    handler.setFormatter(JsonFormatter())
    for name in ("seedguard.server", "uvicorn", "uvicorn.error", "alembic"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True  # replaced by our access line
