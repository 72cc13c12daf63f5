# A thin layer over CMake. `make run` and `make test` install what is missing first.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SAMPLE_DB ?= $(BUILD)/sample.sqlite
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan clean sample-db

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

clean:
	rm -rf $(BUILD) build-asan
