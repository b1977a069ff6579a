"""Structured logging helpers: every line carries the request id when there is one."""

import logging

from aiasmr.api.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or None
        return True


access_log = logging.getLogger("aiasmr.access")
security_log = logging.getLogger("aiasmr.security")
business_log = logging.getLogger("aiasmr.business")
