# The two commands of the README: `make demo` and `make check`.
# Everything builds with CMake into build/ (build-asan/ for the sanitizer run).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
DURATION   ?= 60
MAKEFLAGS  += --no-print-directory

.PHONY: all build deps check check-asan check-sanitize check-tsan demo bench clean fuzz soak valgrind \
        check-hailort check-arm64 deb install

all: build

deps-%:
	@scripts/deps.sh $*

# The configure step always runs (half a second when nothing changed): a
# configure that failed, or one made before a dependency was installed, is
# never taken for a good one.
build: deps-build
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

# All tests: unit (cmocka) and black-box (pytest) through ctest, then
# scripts/test-audit.py proves that every test in the tree ran (a test that
# was not built, not registered or skipped fails `make check`, saying why;
# tests/expected-skips.txt lists the accepted skips).  The tests are always
# configured on here, whatever an earlier configure chose.
check: deps-check
	cmake -S . -B $(BUILD) -DHDM_TESTS=ON $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	rm -rf $(BUILD)/test-results
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 600 \
	  --output-junit ctest-results.xml
	scripts/test-audit.py $(BUILD)

# The same suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan check-sanitize: deps-check
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHDM_SANITIZE=ON -DHDM_TESTS=ON \
	  $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	rm -rf $(ASAN_BUILD)/test-results
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 900 --output-junit ctest-results.xml
	scripts/test-audit.py $(ASAN_BUILD)

# ThreadSanitizer on the tests whose code runs on several threads: the
# scheduler, the registry and its lane workers, the sim's shared NPU, the
# HailoRT backend's lanes, and the manager's lane integration tests.
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= unit\.test_(sched|registry|sim_npu|hailort_backend|backend_sim)$$|integration\.sched\.test_lanes
check-tsan: deps-check
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHDM_TSAN=ON $(CMAKE_ARGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 900 -R '$(TSAN_TESTS)'

# The main job: manager + services on the simulator, real requests, readable output.
# HOLD=1 keeps the stack up afterwards (until Ctrl-C) to look at the dashboard.
demo: deps-demo build
	HOLD=$(HOLD) scripts/demo.sh $(BUILD)

bench: deps-bench build
	bench/run.sh $(BUILD)

# Compile the hailort backend against a HailoRT source tree's headers:
#   make check-hailort HAILORT_INCLUDE=/path/to/hailort/libhailort/include
check-hailort: deps-build
	scripts/check-hailort.sh "$(HAILORT_INCLUDE)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# ---- sturdiness (issue 8; docs/SECURITY.md) ---------------------------------
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_FLAGS   ?= -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

# libFuzzer harnesses (clang): each runs FUZZ_SECONDS, new inputs are merged
# into tests/fuzz/corpus/<harness>/, crashers kept there as crash-*.
fuzz: deps-fuzz
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHDM_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHAILO_BACKEND=off \
	  -DCMAKE_C_FLAGS="$(FUZZ_FLAGS)" -DCMAKE_CXX_FLAGS="$(FUZZ_FLAGS)" $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run-fuzzers.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

# Manager + both services under mixed traffic, restarts and disconnects.
soak: deps-check build
	HDM_BUILD_DIR=$(abspath $(BUILD)) HDM_SOURCE_DIR=$(CURDIR) \
	  /usr/bin/python3 tests/soak/soak.py --duration $(DURATION)

# The manager integration tests with the manager under valgrind memcheck.
VALGRIND ?= valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
  --track-fds=no --quiet
valgrind: deps-check build
	@command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
	HDM_BUILD_DIR=$(abspath $(BUILD)) HDM_SOURCE_DIR=$(CURDIR) HDM_MANAGER_WRAPPER="$(VALGRIND)" \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/manager \
	  tests/integration/badinput/test_manager_frames.py tests/integration/faults/test_device_faults.py

# ---- Raspberry Pi / arm64 (issue 9; docs/RASPBERRY-PI.md) ---------------------
ARM64_BUILD ?= build-arm64
DEB_BUILD   ?= build-deb

# Cross-build for arm64 and run the unit tests and the manager's black-box
# tests as arm64 programs under qemu-user.
check-arm64:
	CMAKE_ARGS="$(CMAKE_ARGS)" JOBS=$(JOBS) scripts/check-arm64.sh $(ARM64_BUILD)

# hailo-ai-services_<version>_<arch>.deb in $(DEB_BUILD)/ (CPack; packaging/):
# this machine's architecture, and on amd64 also arm64, cross-built in
# $(ARM64_BUILD).  Extra C flags: DEB_CFLAGS_APPEND=-mcpu=cortex-a76 make deb.
deb: deps-build
	CMAKE_ARGS="$(CMAKE_ARGS)" JOBS=$(JOBS) packaging/build-deb.sh $$(dpkg --print-architecture) $(DEB_BUILD)
	if [ "$$(dpkg --print-architecture)" = amd64 ]; then \
	  scripts/check-arm64.sh --deps-only && \
	  CMAKE_ARGS="$(CMAKE_ARGS)" JOBS=$(JOBS) packaging/build-deb.sh arm64 $(ARM64_BUILD) $(DEB_BUILD); \
	fi
