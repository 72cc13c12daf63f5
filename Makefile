# A thin layer over CMake. `make run` and `make test` install what is missing first.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SAMPLE_DB ?= $(BUILD)/sample.sqlite
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan test-tsan clean sample-db

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

sample-db: build
	@bash scripts/sample-db.sh $(BUILD)/kadastr $(SAMPLE_DB)

run: sample-db
	@bash scripts/run.sh $(BUILD)/kadastr $(SAMPLE_DB)

test: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 600

test-asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DKD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"

# ThreadSanitizer over what runs threads: the server and the load pipeline
test-tsan:
	$(MAKE) build BUILD=build-tsan CMAKE_FLAGS="-DKD_TSAN=ON -DCMAKE_BUILD_TYPE=Debug"
	cd build-tsan && TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp halt_on_error=1" \
	  ctest -j $(JOBS) --output-on-failure --timeout 600 -R 'serve|ogc|load|sample_region|shape_index|answers'

clean:
	rm -rf $(BUILD) build-asan build-tsan
