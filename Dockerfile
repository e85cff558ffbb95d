# linkarc: one static binary in a small image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/linkarc ./cmd/linkarc \
 && mkdir -p /out/state/index /out/state/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/linkarc /usr/local/bin/linkarc
# The viewer's search index (index/) and, unless LINKARC_STORE names one, the
# store ($XDG_DATA_HOME/linkarc) live here; a named volume mounted on it
# takes this ownership, so the nonroot user can write it.
COPY --from=build --chown=65532:65532 /out/state /var/lib/linkarc
ENV XDG_DATA_HOME=/var/lib/linkarc/data
ENTRYPOINT ["/usr/local/bin/linkarc"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
