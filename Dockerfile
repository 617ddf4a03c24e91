# consent-bot: docker build -t consent-bot . (README, "Running it", gives the docker run line)
# BASE: another image with Python 3.11 or newer and its venv module (the tests build on a local Debian image).
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/consent-bot/bin:$PATH

# The pinned dependencies first, in a layer of their own: a change to the code does not download them again.
COPY requirements.lock /tmp/requirements.lock
RUN python3 -m venv /opt/consent-bot \
    && pip install --no-deps -r /tmp/requirements.lock

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin consent \
    && mkdir -p /data /config \
    && chown consent /data

USER consent
# The decision register lives on this volume (the config's storage.path is overridden to point at it), and on
# Matrix the encryption store beside it (/data/consent-crypto, unless matrix.store_path says otherwise).
ENV CONSENT_BOT_STORAGE_PATH=/data/consent.db \
    CONSENT_BOT_OPS_ENABLED=true
VOLUME ["/data"]
# The public register, when enabled: CONSENT_BOT_REGISTER_ENABLED=true, CONSENT_BOT_REGISTER_BIND=0.0.0.0, -p 8080:8080.
# Health and metrics (ops.port 8081) listen on the container's 127.0.0.1 only, unless CONSENT_BOT_OPS_BIND says otherwise.
EXPOSE 8080

# Ready: the database answers, the platform answered lately, the outbox is not stuck, no deadline is late.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 \
    CMD ["consent-bot", "health", "--config", "/config/config.yaml"]
STOPSIGNAL SIGTERM
CMD ["consent-bot", "run", "--config", "/config/config.yaml"]
