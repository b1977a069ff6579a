"""Log capture helpers: every attribute of a record (message, args, extras, exception) as text."""

import logging


def record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage()]
    for name, value in vars(record).items():
        if name in ("msg", "args"):
            continue
        parts.append(f"{name}={value!r}")
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def leaked(records, secrets) -> list[tuple[str, str]]:
    """(secret, logger name) for every record that carries one of `secrets`."""
    found = []
    for record in records:
        text = record_text(record)
        found.extend((secret, record.name) for secret in secrets if secret and secret in text)
    return found
