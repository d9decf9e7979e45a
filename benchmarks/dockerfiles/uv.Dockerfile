# A best-practice Dockerfile for a uv project (pyproject.toml + uv.lock), as lean as the one users write: one
# stage from the same build image the builder uses, the pinned uv (hash-checked, as the uv buildpack installs it),
# dependencies synced from the lock before the code is copied, uv's cache in a cache mount.
FROM localhost/rpack/python-build:latest
# The benchmark passes a value unique to its run, so no step is cached from an earlier run (podman's --no-cache
# would also keep the fresh build's steps from the next builds' cache).
ARG BENCH_RUN
USER root
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    UV_NATIVE_TLS=true UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/venv
ARG UV_VERSION=0.9.5
ARG UV_SHA256=6507bbbcd788553ec4ad5a96fa19364dc0f58b023e31d79868773559a83ec181
RUN echo "uv==${UV_VERSION} --hash=sha256:${UV_SHA256}" > /tmp/uv.txt \
    && python3 -m pip install -q --no-deps --require-hashes --target /opt/uv -r /tmp/uv.txt
WORKDIR /workspace
# COPY, not uv's guide's bind mounts: podman (buildah 1.28) leaves bind-mounted files out of the step's cache key,
# so a changed lock would not re-run the sync.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv /opt/uv/bin/uv sync --locked --no-dev --no-install-project
COPY . .
ENV PATH=/venv/bin:$PATH PORT=8080
CMD ["sh", "-c", "exec uvicorn main:app --host 0.0.0.0 --port \"${PORT}\""]
