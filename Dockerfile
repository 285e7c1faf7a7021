# loss-service: one uvicorn process per container; scale by running more containers.

# --- build: install the locked dependencies and the project into a virtualenv -------------------
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, in their own layer: it is reused until requirements.lock changes.
COPY requirements.lock ./
RUN pip install --no-deps --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install --no-deps .

# --- runtime: the virtualenv and nothing else of the build ----------------------------------------
FROM python:3.12-slim
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOSS_SERVICE_HOST=0.0.0.0 \
    LOSS_SERVICE_PORT=8000
USER 10001:10001
EXPOSE 8000
# Healthy = ready to take traffic; urllib keeps the image free of curl.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['LOSS_SERVICE_PORT'] + '/readyz', timeout=2)"]
# Exec form: the server is PID 1 and gets SIGTERM itself (it drains, then exits 0).
CMD ["loss-service", "serve"]
