# Pushd's container image: the static pushd binary alone on an empty base
# (scratch), run as a non-root user, data in the /data volume.
#
#   docker build -t pushd .
#       builds pushd from source in the Go image (needs a registry).
#   go tool task release TARGETS=linux/amd64
#   docker build --build-arg BIN=dist -t pushd .
#       packs the release binary dist/pushd-linux-$TARGETARCH instead.
#
# BIN=dist uses no base image at all: every stage it runs is scratch plus
# local files, so it builds where no registry can be reached. That is how
# deploy/container_test.go builds and runs it (buildah/podman, Debian's).
# Older buildah does not set TARGETARCH: pass --build-arg TARGETARCH=amd64.

ARG BIN=source

# BIN=source: build in the Go image, with the release build's flags.
FROM --platform=$BUILDPLATFORM golang:1.26.8 AS source
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN VERSION=$VERSION TARGETS=linux/$TARGETARCH DIST=/out bash deploy/release/build.sh \
 && mv /out/pushd-linux-$TARGETARCH /out/pushd

# BIN=dist: the binary from `go tool task release`.
FROM scratch AS dist
ARG TARGETARCH
COPY dist/pushd-linux-${TARGETARCH} /out/pushd

FROM ${BIN} AS bin

FROM scratch
COPY --from=bin /out/pushd /pushd
# /etc/passwd and /etc/group name the user 65532 "pushd"; /data is an empty
# directory of that user (its .keep is in .dockerignore), so a new volume
# there is writable. Neither WORKDIR nor a RUN can make it on scratch.
COPY deploy/container/rootfs/etc/ /etc/
COPY --chown=65532:65532 deploy/container/rootfs/data/ /data/
USER 65532:65532
ENV PUSHD_WS_ADDR=0.0.0.0:3131 \
    PUSHD_API_ADDR=0.0.0.0:3232 \
    PUSHD_DATA_DIR=/data
VOLUME /data
EXPOSE 3131 3232
# --healthcheck reads the same PUSHD_* environment and config file as the
# server; it GETs /readyz on the API address and needs no shell or curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/pushd", "--healthcheck"]
LABEL org.opencontainers.image.title="pushd" \
      org.opencontainers.image.description="Pusher Channels protocol 7 and webman/push compatible push server on NATS JetStream" \
      org.opencontainers.image.licenses="MIT"
ENTRYPOINT ["/pushd"]
