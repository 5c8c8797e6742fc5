# Makefile — the two quick-start commands (see README.md) wrapped around CMake.
#   make demo   installs missing Debian packages, builds, plans the bundled default scenario
#               and simulates it under every policy (figures in out/)
#   make test   installs missing Debian packages, builds, runs every test suite
#               (a plain build and an ASan+UBSan build), and compiles a Release build (and
#               a clang build where clang is installed): warnings are errors in all of them
#   make reproduce  the Deep-Edge case study's evaluation as one report: every policy against LC
#               load, deadlines, cluster size and failures, 95% CIs, figures (out/reproduce/report.md)
#   make run    runs the executor on scenarios/local-testbed.cfg (MPI workers + LC services)
#   make catalog  rebuilds models/devices/*.cfg from traces/ (deepedge fit --all)
#   make calibrate  measures this host and fits the emulated types into models/ (deepedge
#               calibrate; CALIBRATE_ARGS=--quick for about a minute)
#   make soak   a simulated week of a 1,000-device cluster and a 30-minute `deepedge run` with LC
#               load changes and crashes, memory and open files sampled (scripts/soak.sh)
#   make fuzz   coverage-guided fuzzing of every reader of outside input (libFuzzer, clang,
#               ASan + UBSan), FUZZ_SECONDS per target (tests/fuzz/README.md); make test
#               runs it for FUZZ_CI_SECONDS per target
#   make install PREFIX=DIR  a Release build whose programs find the catalog and plot scripts in
#               DIR/share/deepedge, installed with them into DIR (default /usr/local; exec/DEPLOY.md)
#   make cross-aarch64  cross-builds for aarch64 (the Jetson boards) in build-aarch64/ and runs
#               the unit suites under qemu-user (scripts/cross-aarch64.sh; not part of make test)
BUILD      ?= build
BUILD_SAN  ?= build-asan
BUILD_REL  ?= build-release
BUILD_CLANG ?= build-clang
BUILD_FUZZ ?= build-fuzz
BUILD_AARCH64 ?= build-aarch64
BUILD_INSTALL ?= build-install
PREFIX     ?= /usr/local
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 8
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SCENARIO   ?= scenarios/caltech-testbed.cfg

.PHONY: all deps build build-asan build-release build-clang build-fuzz fuzz fuzz-ci soak demo reproduce run test test-plain test-asan bench catalog calibrate cross-aarch64 install clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDE_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DDE_SANITIZE=ON -DDE_WERROR=ON >/dev/null
	cmake --build $(BUILD_SAN) -j $(JOBS)

# What a packager types (-O3, NDEBUG): it must compile without a warning too.
build-release: deps
	cmake -S . -B $(BUILD_REL) -DCMAKE_BUILD_TYPE=Release -DDE_WERROR=ON >/dev/null
	cmake --build $(BUILD_REL) -j $(JOBS)

# The same sources with clang, where it is installed (warnings differ between compilers).
build-clang: deps
	@if command -v clang >/dev/null 2>&1; then \
		CC=clang cmake -S . -B $(BUILD_CLANG) -DCMAKE_BUILD_TYPE=Release -DDE_WERROR=ON >/dev/null && \
		cmake --build $(BUILD_CLANG) -j $(JOBS); \
	else echo "build-clang: clang is not installed, skipped"; fi

# The fuzz targets linked with libFuzzer: clang, ASan + UBSan, coverage instrumentation.
build-fuzz: deps
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDE_FUZZ=ON -DDE_WERROR=ON >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_targets

fuzz: build-fuzz
	scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

# CI's share: every target for a few seconds (all together about two minutes).
fuzz-ci: build-fuzz
	scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_CI_SECONDS)

# Long runs, memory and open files sampled (scripts/soak.sh; about 40 minutes).
soak: build
	scripts/soak.sh sim 168 out/soak-sim
	scripts/soak.sh run 30 out/soak-run

demo: build
	./$(BUILD)/deepedge plan $(SCENARIO)
	./$(BUILD)/deepedge sim $(SCENARIO) --policy all

# The case study's evaluation as one report (out/reproduce/report.md and report.html).
reproduce: build
	./$(BUILD)/deepedge reproduce --out out/reproduce

# The executor on this host: 3 emulated devices, 2 real LC services (about a minute).
run: build
	./$(BUILD)/deepedge run scenarios/local-testbed.cfg --out out/local-testbed

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

test: test-plain test-asan build-release build-clang fuzz-ci

# Rebuilds models/devices/*.cfg from traces/ (traces/fits.cfg). The recorded fit date is the
# date of the last commit that touched traces/, so the files are reproducible byte for byte.
catalog: build
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct -- traces 2>/dev/null || date +%s) \
		./$(BUILD)/deepedge fit --all --out out/fit

# Measures this host and rewrites the emulated types of models/ (only if every fit succeeds;
# report in out/calibrate/calibration.md).
calibrate: build
	./$(BUILD)/deepedge calibrate $(CALIBRATE_ARGS)

bench: build
	./$(BUILD)/deepedge bench plan

# The programs look for models/, plots/ and scripts/ in PREFIX/share/deepedge (DE_DATA_DIR),
# not in this source tree: the same PREFIX on every host of a cluster (exec/DEPLOY.md).
install: deps
	cmake -S . -B $(BUILD_INSTALL) -DCMAKE_BUILD_TYPE=Release -DDE_WERROR=ON \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) -DDE_DATA_DIR=$(PREFIX)/share/deepedge >/dev/null
	cmake --build $(BUILD_INSTALL) -j $(JOBS) --target deepedge deepedge-exec
	cmake --install $(BUILD_INSTALL)

# aarch64 (Jetson) cross build with Debian's cross toolchain and :arm64 libraries, CUDA off,
# warnings as errors; the CUnit suites run under qemu-user. It installs what is missing itself.
cross-aarch64:
	BUILD_AARCH64=$(BUILD_AARCH64) scripts/cross-aarch64.sh

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_REL) $(BUILD_CLANG) $(BUILD_FUZZ) $(BUILD_AARCH64) $(BUILD_INSTALL)
