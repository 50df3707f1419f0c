# regpush container action image. Built by the runner on each job from this
# file; builds regpush from source on Debian bookworm and ships it with skopeo.
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libcurl4-openssl-dev libjansson-dev \
      libyaml-dev libssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN touch build/.deps-build 2>/dev/null || (mkdir -p build && touch build/.deps-build); \
    make build/regpush

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates skopeo libcurl4 libjansson4 libyaml-0-2 tar && \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/regpush /usr/local/bin/regpush
ENTRYPOINT ["/usr/local/bin/regpush"]
