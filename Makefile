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

.PHONY: all setup deps runtime build run test vet fixtures bench clean deb test-deb windows tarball package icons fullsize fullsize-deps bench-full

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

# Full-size random-weight Janus-Pro-1B (three combinations) and SDXL base/refiner, built with
# the real transformers/diffusers classes and exported to the published layouts, into
# $(FULLSIZE_CACHE) (outside the repository; tens of GB; resumable: finished steps are skipped).
# Needs PyPI and about 17 GB of free RAM; never run by CI.
FULLSIZE_CACHE ?= $(or $(DIPTYCH_FULLSIZE_CACHE),$(HOME)/.cache/diptych-fullsize)
FULLSIZE_PY := tools/.venv/bin/python
ORT_PY_VERSION := $(shell readlink -f .runtime/libonnxruntime.so 2>/dev/null | sed -n 's/.*libonnxruntime\.so\.//p')

fullsize-deps:
	test -x $(FULLSIZE_PY) || python3.11 -m venv tools/.venv
	$(FULLSIZE_PY) -m pip install -r tools/requirements.txt
	# the peer loop runs the same ONNX Runtime version as Diptych's library
	test -z "$(ORT_PY_VERSION)" || test -d $(FULLSIZE_CACHE)/ort$(subst .,,$(ORT_PY_VERSION)) || \
		$(FULLSIZE_PY) -m pip install --no-deps --target $(FULLSIZE_CACHE)/ort$(subst .,,$(ORT_PY_VERSION)) onnxruntime==$(ORT_PY_VERSION)

fullsize: fullsize-deps
	DIPTYCH_FULLSIZE_CACHE=$(FULLSIZE_CACHE) nice -n 19 $(FULLSIZE_PY) tools/fullsize/build_janus.py
	test ! -f tools/fullsize/build_sdxl.py || DIPTYCH_FULLSIZE_CACHE=$(FULLSIZE_CACHE) nice -n 19 $(FULLSIZE_PY) tools/fullsize/build_sdxl.py

# Side-by-side full-size benchmark (Diptych CLI, onnxruntime-python loop, PyTorch, bandwidth
# bound): writes docs/benchmarks.md, .csv, .png. About an hour on 2 cores.
bench-full: fullsize build
	DIPTYCH_FULLSIZE_CACHE=$(FULLSIZE_CACHE) tools/fullsize/bench.sh

# Debian package with the CPU ONNX Runtime bundled: dist/diptych_<ver>_amd64.deb
deb: runtime
	VERSION=$(VERSION) tools/build_deb.sh

# Builds the .deb, installs it into a fresh debootstrap root and runs
# `diptych doctor --json` there (root, about a minute).
test-deb:
	DIPTYCH_TEST_DEB=1 $(GO) test -tags '$(TAGS)' -count=1 -run TestDebOnCleanDebian -timeout 20m ./packaging

# Windows amd64 with mingw-w64: dist/windows/diptych.exe (+ lib/onnxruntime.dll and a zip unless NO_RUNTIME=1)
windows:
	VERSION=$(VERSION) tools/build_windows.sh

# `fyne package` Linux tarball: dist/diptych_<ver>_linux_amd64.tar.xz
tarball:
	VERSION=$(VERSION) tools/fyne_package.sh

package: deb tarball windows

# Re-render assets/icons/*.png after editing assets/icon.svg (librsvg2-bin)
icons:
	tools/build_icons.sh

clean:
	rm -rf bin dist build
