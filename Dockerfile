# syntax=docker/dockerfile:1
# Banter in one image for Heroku's container stack. Every build step calls
# scripts/build.sh, the script the README's commands use.

# 1. The web client, built into static/.
FROM node:22.12.0-bookworm-slim AS web
WORKDIR /app
COPY . .
RUN bash scripts/build.sh web

# 2. The server. Dependencies are built in a layer of their own, kept while only the
#    sources change.
FROM rust:1.95-slim-bookworm AS server
# jemalloc (the server's allocator) is built from its C sources with make.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
COPY crates/protocol/Cargo.toml crates/protocol/
COPY crates/term/Cargo.toml crates/term/
COPY crates/bench/Cargo.toml crates/bench/
RUN mkdir -p src tests/api crates/protocol/src crates/term/src crates/bench/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs tests/api/main.rs crates/protocol/src/lib.rs crates/term/src/lib.rs \
      crates/bench/src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src tests crates
COPY scripts/ scripts/
COPY sql/ sql/
COPY tests/ tests/
COPY crates/ crates/
# `banter bench rolling` carries the balancer's configuration inside the binary.
COPY dev/haproxy/ dev/haproxy/
COPY src/ src/
RUN touch src/main.rs src/lib.rs crates/*/src/lib.rs && bash scripts/build.sh server

# 3. The runtime: a slim Debian with TLS roots and curl, running as a non-root user.
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 banter
WORKDIR /app
COPY --from=server /app/target/release/banter /usr/local/bin/banter
COPY --from=web /app/static /app/static
ENV STATIC_DIR=/app/static \
    RUST_LOG=info
# The banter user, by number so the runtime need not resolve the name.
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["sh", "-c", "curl -fsS http://127.0.0.1:${PORT:-8080}/healthz || exit 1"]
# Binds 0.0.0.0:$PORT (Heroku sets PORT).
CMD ["banter", "serve"]
