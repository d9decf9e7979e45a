# A best-practice Dockerfile for a requirements.txt app over the same stack images the builder uses:
# multi-stage, a venv, requirements first (code changes do not reinstall), pip's cache in a cache mount.
FROM localhost/rpack/python-build:latest AS build
# The benchmark passes a value unique to its run, so no step is cached from an earlier run (podman's --no-cache
# would also keep the fresh build's steps from the next builds' cache).
ARG BENCH_RUN
USER root
# The builder gives its buildpacks the same CA settings (builder/builder.toml [[build.env]]).
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
RUN python3 -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install -r /tmp/requirements.txt

FROM localhost/rpack/python-run:latest
COPY --from=build /venv /venv
WORKDIR /workspace
COPY . .
ENV PATH=/venv/bin:$PATH PORT=8080
CMD ["sh", "-c", "exec gunicorn --bind \"0.0.0.0:${PORT}\" app:app"]
