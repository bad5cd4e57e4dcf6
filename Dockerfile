# Mend in a slim image, run as an unprivileged user. Build: docker build -t mend .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/mend \
 && /opt/mend/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/mend/bin/pip install --no-cache-dir .

FROM python:3.11-slim
# No shell login, no home worth the name: the process only needs its own files and /data.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mend \
 && mkdir -p /data /cache && chown mend:mend /data /cache
COPY --from=build /opt/mend /opt/mend
WORKDIR /app
COPY dialogues ./dialogues
ENV PATH=/opt/mend/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DIALOGUES_DIR=/app/dialogues \
    DATABASE_PATH=/data/mend.sqlite3 \
    CACHE_DIR=/cache \
    WEBHOOK_LISTEN=0.0.0.0 \
    WEBHOOK_PORT=8443
USER mend
EXPOSE 8443
# /healthz answers 503 once the replica is closing, so the balancer drains it first.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s \
  CMD python -c "import os,urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEBHOOK_PORT','8443'), timeout=2)"
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
