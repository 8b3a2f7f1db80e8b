# switchboard: a thin wrapper over CMake so that a fresh Debian 12 machine
# needs two commands, `make run` and `make test` (see README.md).
#
#   make run     install missing packages (as root), build, run on conf/
#   make test    the same set-up, then the whole test suite
#   make asan    the suite under AddressSanitizer + UBSan (in build-asan/)
#   make tsan    the concurrent tests under ThreadSanitizer (in build-tsan/)
#   make install PREFIX=/usr/local   the engine, connectors and SDK

BUILD      ?= build
CONFIG     ?= conf/switchboard.ini
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SB_WERROR  ?= OFF
CMAKE_ARGS ?=
CTEST_ARGS ?=

PREFIX     ?= /usr/local

.PHONY: all deps build run test asan tsan install clean format

all: build

deps:
	@sh .ci/deps

build: deps
	@umask 022; cmake -S . -B $(BUILD) -DSB_WERROR=$(SB_WERROR) $(CMAKE_ARGS) >/dev/null
	@umask 022; cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p -m 700 var
	./$(BUILD)/switchboard run -c $(CONFIG)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

asan:
	$(MAKE) test BUILD=build-asan CMAKE_ARGS="-DSB_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug"

tsan:
	$(MAKE) test BUILD=build-tsan CMAKE_ARGS="-DSB_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug" \
		CTEST_ARGS="-L concurrent"

# install the engine, the connectors and the SDK under PREFIX (its own build
# folder, so the installed binary knows its plugin folder)
install: deps
	@umask 022; cmake -S . -B build-install -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSB_BUILD_TESTS=OFF \
		-DSB_WERROR=$(SB_WERROR) >/dev/null
	@umask 022; cmake --build build-install -j $(JOBS)
	@umask 022; cmake --install build-install

format:
	git ls-files -z -- '*.c' '*.h' | xargs -0 clang-format -i

clean:
	rm -rf build build-asan build-tsan build-install
