# MDM Hub: migrations, then gunicorn. Configuration only by environment variables:
#   MDM_DATABASE_URL (default: SQLite under /data), MDM_DOMAINS_PATH, WEB_CONCURRENCY, MDM_PORT
# gunicorn's timeout and limits: mdm/web/gunicorn_conf.py (override with GUNICORN_CMD_ARGS)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MDM_DATA_DIR=/data \
    MDM_MIGRATIONS_DIR=/app/migrations \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mdm ./mdm
COPY contracts ./contracts
COPY migrations ./migrations
RUN pip install . \
    && useradd --create-home --uid 10001 mdm \
    && mkdir -p /data && chown mdm:mdm /data

USER mdm
EXPOSE 8000
VOLUME ["/data"]
CMD ["sh", "-c", "mkdir -p $PROMETHEUS_MULTIPROC_DIR && mdm db upgrade && exec gunicorn -c python:mdm.web.gunicorn_conf --bind 0.0.0.0:${MDM_PORT:-8000} 'mdm.app:create_app()'"]
