# regpush container action image: a fully static regpush (musl, built from
# Debian bookworm's own sources by `make static`) on Debian bookworm-slim
# with skopeo and buildah. The runner builds this file on every job
# ("Build regpush"); scripts/build-image.sh builds it here with buildah.

FROM debian:bookworm-slim AS build
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      make ca-certificates >/dev/null
WORKDIR /src
COPY . .
# scripts/static-deps.sh installs its tools, adds deb-src lines and builds
# OpenSSL, curl, jansson and libyaml into /var/cache/regpush (mounted from
# the host by scripts/build-image.sh, so a cached prefix is reused).
RUN make static && cp build/static/regpush /regpush

FROM debian:bookworm-slim
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates skopeo buildah >/dev/null && \
    rm -rf /var/lib/apt/lists/*
COPY docker/policy.json /etc/containers/policy.json
COPY docker/registries.conf /etc/containers/registries.conf
COPY --from=build /regpush /usr/local/bin/regpush
# No USER: the runner's workspace is root's. buildah in a container without
# CAP_SYS_ADMIN needs chroot isolation and the vfs driver.
ENV BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
ENTRYPOINT ["/usr/local/bin/regpush"]
