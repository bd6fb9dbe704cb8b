# The two commands of the README: `make demo` and `make check`.
# Everything builds with CMake into build/ (build-asan/ for the sanitizer run).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
DURATION   ?= 60

.PHONY: all build deps check check-asan check-sanitize demo bench clean fuzz soak valgrind \
        check-hailort check-arm64 deb install

all: build

deps-%:
	@scripts/deps.sh $*

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# All tests: unit (cmocka) and black-box (pytest) through ctest.
check: deps-check build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 600

# The same suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan check-sanitize: deps-check
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHDM_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 900

# The main job: manager + services on the simulator, real requests, readable output.
demo: deps-demo build
	scripts/demo.sh $(BUILD)

bench: deps-bench build
	bench/run.sh $(BUILD)

# Compile the hailort backend against a HailoRT source tree's headers:
#   make check-hailort HAILORT_INCLUDE=/path/to/hailort/libhailort/include
check-hailort: deps-build
	scripts/check-hailort.sh "$(HAILORT_INCLUDE)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
