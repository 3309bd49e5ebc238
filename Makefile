# stretchctl — `make demo` runs the main job on the local lab, `make test`
# runs every test (the lab's integration tests start real Kafka).
GO       ?= go
BIN      := bin/stretchctl
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
PKGS     := ./...

.PHONY: all build test unit lint deps demo bench clean generate

all: build

# stretchctl is pure Go; its librdkafka helper (drills with
# --producer-library librdkafka) needs cgo and sits next to it.
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/stretchctl
	CGO_ENABLED=1 $(GO) build -o $(dir $(BIN))stretchctl-rdkafka ./cmd/stretchctl-rdkafka

# deps installs what the tests need on a fresh Debian machine: Java and
# Maven for the lab's Kafka (its jars come from Maven Central on first use),
# and the Go modules.
deps:
	@scripts/deps.sh
	$(GO) mod download

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test, the integration tests against the real lab included. -p 1:
# packages that start a lab must not compete for the CPU (latency checks).
test: deps lint
	$(GO) test -p 1 -count=1 -timeout 40m $(PKGS)

# generate rewrites, with the controller-gen that scripts/envtest.sh
# builds, the DeepCopy methods of the CRD-safe config types and of the
# operator's API, the CRDs and the operator's RBAC role (tests check they
# are current).
generate:
	cg=$$(bash scripts/envtest.sh)/bin/controller-gen; \
	$$cg object paths=./config && \
	$$cg object paths=./api/... && \
	$$cg crd paths=./api/... output:crd:dir=manifests/crd && \
	$$cg rbac:roleName=stretchctl-operator paths=./operator/... output:rbac:dir=manifests/rbac

# Only the fast, lab-free tests.
unit:
	$(GO) test -short -count=1 $(PKGS)

demo: build
	@scripts/demo.sh $(BIN)

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./lab/... ./rules/...
	$(GO) test -run '^$$' -bench Frame -benchmem ./tui/
	$(GO) test -run '^$$' -bench Idle -benchtime 1x ./tui/
	$(GO) test -run '^$$' -bench Reconcile5000 -benchtime 20x -benchmem ./operator/
	$(GO) test -run '^$$' -bench OperatorIdleRSS -benchtime 1x ./operator/
	bench/lab-up.sh $(BIN)
	bench/check-vs-kafka-topics.sh $(BIN)
	bench/probe-agent.sh $(BIN)
	bench/probe-vs-kafka-perf.sh $(BIN)
	bench/drill.sh $(BIN)
	bench/libraries.sh $(BIN)
	bench/campaign.sh $(BIN)

clean:
	rm -rf bin out
