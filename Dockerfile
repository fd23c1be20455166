# syntax=docker/dockerfile:1
# One small image: a static samtycke binary on distroless, running as the nonroot user.
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t samtycke .
#   docker compose up        (with current ClickHouse and Redis; see docker-compose.yml)

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/samtycke ./server/cmd/samtycke \
 && /out/samtycke version \
 && mkdir -p /out/data

# static-debian12 has CA certificates and time zone data, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/samtycke /samtycke
# The data dir (spool, generated keys) must be writable by nonroot (65532); a new named volume
# mounted here starts as a copy of it, ownership included.
COPY --from=build --chown=65532:65532 /out/data /var/lib/samtycke
ENV SAMTYCKE_LISTEN=0.0.0.0:8080 \
    SAMTYCKE_DATA_DIR=/var/lib/samtycke
VOLUME /var/lib/samtycke
EXPOSE 8080
USER 65532:65532
# No HEALTHCHECK: the image has no shell or HTTP client, and samtycke has no health-check
# sub-command (yet). Probe GET /healthz and /readyz from the orchestrator instead.
ENTRYPOINT ["/samtycke"]
CMD ["serve"]
