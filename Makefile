# The two commands of the README quick start, wrapping CMake.
#   make demo   install what is missing, build, run the default scenario,
#               and print the path of its report.html
#   make test   install what is missing, build, run the whole suite
# Other targets: build, bench, fuzz, format, clean.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DEMO ?= scenarios/kv/quickstart.json
DEMO_OUT ?= out/demo

.PHONY: all deps build demo test test-fast valgrind bench fuzz format format-check clean

all: build

deps:
	@sh scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@./$(BUILD)/dsim run $(DEMO) -o $(DEMO_OUT)
	@# gnuplot runs in the output folder: its name is never part of gnuplot code.
	@cd "$(DEMO_OUT)" && gnuplot -e "csv='timeseries.csv'; cols='kv.reads kv.stale_reads'; \
		out='stale-reads.png'; shade_from=10; shade_to=20; shade_label='partition'; \
		title='N=3, R=1, W=1 through a partition: reads and stale reads per second'" "$(CURDIR)/plots/rates.gp"
	@echo "chart: $(DEMO_OUT)/stale-reads.png (and .svg)"
	@# The page again, now with the chart above among its images.
	@./$(BUILD)/dsim report $(DEMO_OUT) --quiet
	@echo "demo: the scenario is $(DEMO); its description says what to look for."
	@echo "report: $(DEMO_OUT)/report.html (open it in a browser: it needs no network)"

# The whole suite: the normal build, the sanitizer build, and the clang
# build's trace hashes compared with gcc's.
test: deps
	@sh scripts/test-all $(BUILD) $(JOBS)

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The fuzz targets of tests/fuzz/ (clang, libFuzzer, ASan + UBSan), each for
# FUZZ_SECONDS (default 600), with a corpus kept in $(BUILD)-fuzz/corpus-*;
# findings are written to $(BUILD)-fuzz/ (crash-*, leak-*, timeout-*).
FUZZ_SECONDS ?= 600
fuzz: deps
	@cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DDSIM_FUZZ=ON \
		-DDSIM_LTO=OFF >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_load fuzz_plot
	@mkdir -p $(BUILD)-fuzz/corpus-load $(BUILD)-fuzz/corpus-plot
	cd $(BUILD)-fuzz && ./tests/fuzz_load -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=1 \
		-rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -dict=$(CURDIR)/tests/fuzz/scenario.dict \
		corpus-load $(CURDIR)/scenarios $(CURDIR)/tests/scenarios
	cd $(BUILD)-fuzz && ./tests/fuzz_plot -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 \
		-rss_limit_mb=2048 -timeout=20 -print_final_stats=1 corpus-plot $(CURDIR)/tests/fuzz/plot-corpus

# Every shipped scenario (the benchmark shortened) under valgrind's memcheck,
# on an unoptimised build; fails on any error or leak.
valgrind: deps
	@sh scripts/install-deps --dev
	@cmake -S . -B $(BUILD)-valgrind -DCMAKE_BUILD_TYPE=Debug -DDSIM_LTO=OFF -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(BUILD)-valgrind -j $(JOBS) --target dsim
	@export DSIM_NO_PLOT=1; for f in $$(find scenarios -name '*.json' | sort); do \
		case $$f in */bench/phold.json) short="--set duration=20s";; */bench/*) short="--set duration=200ms";; *) short="";; esac; \
		valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=9 \
			./$(BUILD)-valgrind/dsim run $$f $$short --quiet --trace -o $(BUILD)-valgrind/out \
			|| exit 1; \
		echo "valgrind clean: $$f"; \
	done

# The PHOLD engine benchmark, the queue alone, and a Merkle anti-entropy
# exchange between two replicas of 10^6 keys (docs/performance.md).
bench: build
	@sh bench/run-phold.sh $(BUILD)
	@./$(BUILD)/queue_hold 1000
	@./$(BUILD)/queue_hold 16000
	@./$(BUILD)/merkle_exchange

format:
	@clang-format -i sim/*.c sim/*.h models/*.c models/*/*.c models/*/*.h cli/*.c tests/*.c tests/*.h bench/*.c

format-check:
	@clang-format --dry-run --Werror sim/*.c sim/*.h models/*.c models/*/*.c models/*/*.h cli/*.c tests/*.c tests/*.h bench/*.c

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-clang $(BUILD)-valgrind out
