# syntax=docker/dockerfile:1
# The Khabar image: `khabar worker` by default; docker-compose.yml also runs `khabar feed` from it.
#   docker build -t khabar .
#   docker run --rm -e KHABAR_BROKER=kafka:9092 khabar
FROM python:3.11-slim

# The same uv release as the Makefile, so uv.lock is read by the version that wrote it.
ARG UV_VERSION=0.13.9

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install "uv==${UV_VERSION}"

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the sources (README.md is the package's readme, which the build backend reads).
COPY README.md ./
COPY agents/ agents/
COPY schemas/ schemas/
COPY streams/ streams/
COPY deploy/ deploy/
RUN uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:${PATH}" \
    KHABAR_DATA_DIR=/data \
    KHABAR_WEB_HOST=0.0.0.0 \
    KHABAR_WEB_PORT=6066

# Non-root. /data holds the worker's RocksDB table state. A named volume mounted there
# starts with this directory's ownership.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/khabar khabar \
    && mkdir -p /data \
    && chown khabar:khabar /data
USER khabar

# Faust web endpoint: /metrics for Prometheus, and the liveness/readiness probes.
EXPOSE 6066

CMD ["khabar", "worker"]
