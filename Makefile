# switchboard: a thin wrapper over CMake so that a fresh Debian 12 machine
# needs two commands, `make run` and `make test` (see README.md).
#
#   make run     install missing packages (as root), build, run on conf/
#   make test    the same set-up, then the whole test suite
#   make asan    the suite under AddressSanitizer + UBSan (in build-asan/)
#   make tsan    the concurrent tests under ThreadSanitizer (in build-tsan/)

BUILD      ?= build
CONFIG     ?= conf/switchboard.ini
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SB_WERROR  ?= OFF
CMAKE_ARGS ?=
CTEST_ARGS ?=

.PHONY: all deps build run test asan tsan clean format

all: build

deps:
	@sh .ci/deps

build: deps
	@umask 022; cmake -S . -B $(BUILD) -DSB_WERROR=$(SB_WERROR) $(CMAKE_ARGS) >/dev/null
	@umask 022; cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p var
	./$(BUILD)/switchboard run -c $(CONFIG)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

asan:
	$(MAKE) test BUILD=build-asan CMAKE_ARGS="-DSB_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug"

tsan:
	$(MAKE) test BUILD=build-tsan CMAKE_ARGS="-DSB_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug" \
		CTEST_ARGS="-L concurrent"

format:
	git ls-files -z -- '*.c' '*.h' | xargs -0 clang-format -i

clean:
	rm -rf build build-asan build-tsan
