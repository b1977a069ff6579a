"""JSON logs on stdout, each line with the request id of the request that wrote it."""


def logging_settings(*, level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "aiasmr.api.logging.RequestIdFilter"}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            # The access log line replaces Django's own 4xx/5xx request warnings.
            "django.request": {"level": "CRITICAL"},
            "botocore": {"level": "WARNING"},
            "stripe": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
        },
    }
