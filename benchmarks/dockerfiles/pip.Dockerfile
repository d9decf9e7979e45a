# A best-practice Dockerfile for a requirements.txt app, as lean as the one users write: one stage from the same
# build image the builder uses (so both sides start from the same layers), a venv, requirements copied and
# installed before the code (a code change does not reinstall), pip's cache in a cache mount.
FROM localhost/rpack/python-build:latest
# The benchmark passes a value unique to its run, so no step is cached from an earlier run (podman's --no-cache
# would also keep the fresh build's steps from the next builds' cache).
ARG BENCH_RUN
USER root
# The builder gives its buildpacks the same CA settings (builder/builder.toml [[build.env]]).
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
RUN python3 -m venv /venv
WORKDIR /workspace
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install -r requirements.txt
COPY . .
ENV PATH=/venv/bin:$PATH PORT=8080
CMD ["sh", "-c", "exec gunicorn --bind \"0.0.0.0:${PORT}\" app:app"]
