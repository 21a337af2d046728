# Handoff's image: `docker build -t handoff .` from the repository root.
# Two stages: the build stage installs the locked, hash-checked dependencies and the bot into a
# virtualenv; the runtime stage copies only that virtualenv onto a fresh slim base.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /src
# dependencies first (a layer that changes only with the lock file), every one checked by hash
COPY requirements.lock ./
RUN /venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
# the bot itself: its dependencies came from the lock file above, nothing else is resolved
RUN /venv/bin/pip install --no-deps .

FROM python:3.11-slim
# no .pyc writes and a writable matplotlib cache in /tmp: the root file system can be read-only
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PORT=3000
RUN groupadd --system --gid 10001 handoff \
    && useradd --system --uid 10001 --gid handoff --no-create-home --shell /usr/sbin/nologin handoff
COPY --from=build /venv /venv
# the one writable place for SQLite (mount a volume here); PostgreSQL needs none
RUN mkdir /data && chown 10001:10001 /data
WORKDIR /data
USER 10001:10001
EXPOSE 3000
# liveness: the process answers and reaches its database (python: the slim image has no curl)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
# SIGTERM: /readyz turns 503, requests drain for HANDOFF_DRAIN_SECONDS, then the bot stops
STOPSIGNAL SIGTERM
ENTRYPOINT ["handoff"]
CMD ["run"]
