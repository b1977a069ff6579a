# Production image: slim Python, non-root, gunicorn, static files collected at build time.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000

WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system app && useradd --system --gid app --home /app app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .
# devtools/ (the fake KIE server) is development-only: .dockerignore keeps it out; fail if it slips in.
RUN test ! -e devtools
# collectstatic needs settings but no real secrets or services.
RUN DJANGO_ENV=build python manage.py collectstatic --noinput

USER app
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/api/health/live" || exit 1

# Web by default (bin/serve: gunicorn with uvicorn workers on the ASGI app, so slow clients hold no
# thread; WEB_CONCURRENCY processes, 3 by default); run workers from the same image with:
# python manage.py db_worker
CMD ["bin/serve"]
