# The health-agent demo service (and its fake upstream: `demo upstream`).
# A static binary on a distroless base, running as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/demo ./cmd/demo

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/demo /demo
USER nonroot:nonroot
EXPOSE 8080 8000
ENTRYPOINT ["/demo"]
