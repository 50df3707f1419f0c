# regpush container action image: a fully static regpush (musl, built from
# Debian bookworm's own sources by `make static`) on Debian trixie with
# trixie's skopeo. Releases pin a prebuilt image by digest (action.yml in
# each release tag says image: docker://…@sha256:…, scripts/release.sh);
# main says image: Dockerfile, so a development checkout builds this file
# from the repository alone.
#
# `make image` (scripts/build-image.sh) builds it with buildah: BASE is the
# trixie root that mmdebstrap made (no registry is reachable there), and
# the context holds build/static/regpush, the binary `make static` built
# and `make test-static` tested, which the build stage then takes as it is.
# SKOPEO_VERSION and CA_VERSION pin the packages (and label the image);
# left empty, trixie's current versions are installed.
#
# No buildah: it needs a user namespace or CAP_SYS_ADMIN for everything,
# and a container action gets neither (regpush refuses engine: buildah
# there). /usr/lib/cni (the container-network-stack that containers-common
# pulls in, 55 MB) is never unpacked: skopeo does not use it.
ARG BASE=debian:trixie-slim
ARG BUILD_BASE=debian:bookworm-slim

FROM ${BUILD_BASE} AS build
WORKDIR /src
COPY . .
# scripts/static-deps.sh installs its tools, adds deb-src lines and builds
# OpenSSL, curl, jansson, libyaml and libsodium from bookworm's sources (cached in
# /var/cache/regpush when that is mounted).
RUN if [ -f build/static/regpush ]; then \
      echo "regpush: the prebuilt build/static/regpush (make static)"; \
    else \
      apt-get update -q && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        make ca-certificates >/dev/null && \
      make static; \
    fi && \
    install -m 0755 build/static/regpush /regpush

FROM ${BASE}
ARG BASE
ARG SKOPEO_VERSION=
ARG CA_VERSION=
ARG REVISION=
ARG VERSION=
COPY docker/dpkg-exclude /etc/dpkg/dpkg.cfg.d/regpush
RUN apt-get update -q && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates${CA_VERSION:+=$CA_VERSION} skopeo${SKOPEO_VERSION:+=$SKOPEO_VERSION} >/dev/null && \
    apt-get clean && \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* /var/cache/debconf/*-old \
      /var/lib/dpkg/*-old
COPY docker/policy.json /etc/containers/policy.json
COPY docker/registries.conf /etc/containers/registries.conf
COPY --from=build /regpush /usr/local/bin/regpush
# What is in the image, for the record: regpush, the base, every package.
RUN { /usr/local/bin/regpush version; \
      echo "base ${BASE} ($(. /etc/os-release && echo "$PRETTY_NAME"), debian_version $(cat /etc/debian_version))"; \
      dpkg-query -W -f='${Package}=${Version}\n'; } >/VERSIONS
LABEL org.opencontainers.image.title=regpush \
      org.opencontainers.image.description="DD-REGISTRY-001 container image pushes, promotions and retention" \
      org.opencontainers.image.base.name=${BASE} \
      org.opencontainers.image.revision=${REVISION} \
      org.opencontainers.image.version=${VERSION} \
      dev.regpush.skopeo.version=${SKOPEO_VERSION} \
      dev.regpush.ca-certificates.version=${CA_VERSION}
ENTRYPOINT ["/usr/local/bin/regpush"]
