# consent-bot: docker build -t consent-bot . && docker run -v ./config.yaml:/config/config.yaml:ro -v consent-data:/data consent-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin consent \
    && mkdir -p /data /config \
    && chown consent /data

USER consent
# The decision register lives on this volume (the config's storage.path is overridden to point at it), and on
# Matrix the encryption store beside it (/data/consent-crypto, unless matrix.store_path says otherwise).
ENV CONSENT_BOT_STORAGE_PATH=/data/consent.db
VOLUME ["/data"]
# The public register, when enabled: CONSENT_BOT_REGISTER_ENABLED=true, CONSENT_BOT_REGISTER_BIND=0.0.0.0, -p 8080:8080.
EXPOSE 8080

CMD ["consent-bot", "run", "--config", "/config/config.yaml"]
