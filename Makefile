# The whole test suite needs Redis (127.0.0.1:6379) and PostgreSQL
# (127.0.0.1:5432); `make test` says how to start them when they are not
# reachable, and starts nothing itself.

GO ?= go
TESTFLAGS ?=

.PHONY: test check-services vet staticcheck demo

test: check-services
	$(GO) test -race -count=1 -timeout 25m $(TESTFLAGS) ./...

check-services:
	@./scripts/check-services.sh

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

demo:
	$(GO) run ./cmd/demo
