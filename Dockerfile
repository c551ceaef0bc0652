# syntax=docker/dockerfile:1
# The bot image: slim, non-root, healthcheck through `bot health` (heartbeat on /metrics).

FROM python:3.11-slim AS build
WORKDIR /src
# gcc compiles the decision core, the run loop (build_core.py, mypyc) and the C framer; only this stage has it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md build_core.py ./
COPY journal/ journal/
COPY machine/ machine/
COPY projections/ projections/
COPY exchange/ exchange/
COPY cli/ cli/
RUN pip install --no-cache-dir "mypy>=1.10" "setuptools>=68" \
    && python build_core.py --force \
    && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOG_LEVEL=INFO \
    BOT_JOURNAL_DIR=/app/data/journal \
    BOT_METRICS_URL=http://127.0.0.1:9108/metrics \
    ALERT_DEDUPE_STORE=/app/data/alert_dedupe.json
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 --user-group bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data
WORKDIR /app
USER 10001:10001
EXPOSE 9108
VOLUME ["/app/data"]
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 CMD ["bot", "health"]
ENTRYPOINT ["bot"]
CMD ["live", "--exchange", "binance", "--journal", "/app/data/journal", "--metrics-port", "9108"]
