# Diptych — SDXL and Janus-Pro side by side, offline.
#   make run    set up, build and open the app
#   make test   set up, go vet, all tests (GUI tests under a private Xvfb)

SHELL := /bin/bash
GO ?= go
TAGS := sqlite_fts5 migrated_fynedo
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN := bin/diptych
PKGS := ./...
TEST_TIMEOUT ?= 25m

.PHONY: all setup deps runtime build run test vet fixtures bench clean deb windows

all: build

setup: deps runtime

# Debian packages needed to build (cgo for Fyne/GLFW/X11 and SQLite), to run
# the GUI tests under Xvfb, and npm to fetch the ONNX Runtime library.
deps:
	@tools/setup_deps.sh

runtime:
	@tools/fetch_ort.sh .runtime

build:
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) .

run: setup build
	./$(BIN)

vet:
	$(GO) vet -tags '$(TAGS)' $(PKGS)

test: setup vet
	tools/with_xvfb.sh $(GO) test -tags '$(TAGS)' -p 2 -timeout $(TEST_TIMEOUT) $(PKGS)

bench: setup
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchmem $(PKGS)

# Regenerates the tiny models and reference outputs in testdata/ with the
# Python reference implementations (needs PyPI; never run by CI).
fixtures:
	tools/make_fixtures.sh

clean:
	rm -rf bin dist
