# Handoff bot: small, non-root, health-checked. Dependencies at the versions pinned in constraints.txt.
# Build: docker build -t handoff .   (the build context is only what .dockerignore lets in: the sources)
FROM python:3.11.13-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY handlers ./handlers
COPY playbooks ./playbooks
COPY slack_sandbox ./slack_sandbox
RUN pip wheel --no-cache-dir --disable-pip-version-check -c constraints.txt --wheel-dir /wheels .

FROM python:3.11.13-slim-bookworm
RUN useradd --create-home --uid 10001 handoff
# The wheels and the constraints are mounted for this one step (BuildKit, the default builder since Docker 23),
# so they take no layer of the image: it holds the installed packages only.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,from=build,source=/src/constraints.txt,target=/tmp/constraints.txt \
    pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /wheels \
      -c /tmp/constraints.txt handoff
USER handoff
WORKDIR /home/handoff
# PORT: where `handoff serve` listens, and what the health check asks.
ENV PYTHONUNBUFFERED=1 LOG_FORMAT=json PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'); sys.exit(0 if urllib.request.urlopen(url, timeout=2).status == 200 else 1)"
# The shell expands $PORT; `exec` makes handoff PID 1, so SIGTERM from `docker stop` reaches it.
# Other commands run as `docker run IMAGE handoff check-config /config/handoff.yaml`.
CMD ["sh", "-c", "exec handoff serve --host 0.0.0.0 --port \"${PORT}\""]
