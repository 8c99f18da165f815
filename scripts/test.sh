#!/usr/bin/env bash
# Sets up, builds and runs every test suite: the doctest unit suites (also under ASan and
# UBSan), the integration tests
# (real server, real clients) and a short fuzz run of each libFuzzer target when clang's
# fuzzer runtime is present. Exits non-zero on any failure and ends with one line,
# "N passed, M failed", summed over all suites.
#
#   FUZZ_SECONDS=600 ./scripts/test.sh    runs each fuzz target longer (default 15 s)
#   CASCADE_ASAN=0 ./scripts/test.sh      skips the sanitizer build of the unit suites
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-15}

# Each phase's line gives the seconds since the start, to keep the suite within budget.
phase() { echo "== [$SECONDS s] $*"; }
./scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
phase "build"
if ! ./scripts/build.sh; then echo "build failed"; echo "0 passed, 1 failed"; exit 1; fi

passed=0
failed=0
suite_failed=0

# doctest prints: [doctest] test cases: 12 | 11 passed | 1 failed | 0 skipped
# report_doctest BIN OUTPUT_FILE RC: adds the suite's counts, showing its failures.
report_doctest() {
  local bin=$1 out rc=$3 p f
  out=$(<"$2")
  echo "== $bin"
  p=$(sed -n 's/^\[doctest\] test cases: *[0-9]* | *\([0-9]*\) passed.*/\1/p' <<<"$out" | tail -1)
  f=$(sed -n 's/^\[doctest\] test cases:.*| *\([0-9]*\) failed.*/\1/p' <<<"$out" | tail -1)
  if [[ -z $p || -z $f ]]; then p=0; f=1; fi
  if ((rc != 0 && f == 0)); then f=1; fi
  if ((f > 0)); then
    # The failing checks with their test case's name, then the summary.
    grep -B6 -A10 -E "ERROR:|FATAL ERROR|SIGSEGV|SIGABRT|crashed" <<<"$out" | head -200
    echo "$out" | tail -20
    suite_failed=1
  fi
  echo "   $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
}

# run_suites DIR [doctest args...]: every unit-* suite under DIR, two jobs at a time (a
# suite is mostly one busy thread, and the machine has two cores), reported in order. The
# engine suite, as long as all the others together, runs as two jobs split by source
# file: the database-level compaction and model tests, and the rest.
ENGINE_SPLIT='*/db_compaction_test.cc,*/db_model_test.cc'
run_suites() {
  local dir=$1 work bin jobs_=() i
  work=$(mktemp -d)
  while read -r bin; do
    if [[ $bin == */unit-engine ]]; then
      jobs_+=("$bin -sf=$ENGINE_SPLIT" "$bin -sfe=$ENGINE_SPLIT")
    else
      jobs_+=("$bin")
    fi
  done < <(find "$dir" -type f -name 'unit-*' -executable | sort)
  for i in "${!jobs_[@]}"; do
    while (($(jobs -rp | wc -l) >= 2)); do wait -n; done
    # The job's words: the binary, then its own filter if split (no spaces in either).
    # shellcheck disable=SC2086
    ( set -f; ${jobs_[$i]} --no-colors=true "${@:2}" >"$work/$i.out" 2>&1; echo $? >"$work/$i.rc" ) &
  done
  wait
  for i in "${!jobs_[@]}"; do
    report_doctest "${jobs_[$i]}" "$work/$i.out" "$(cat "$work/$i.rc" 2>/dev/null || echo 1)"
  done
  rm -rf "$work"
}

phase "unit suites"
run_suites build/tests

# The unit suites again under AddressSanitizer and UBSan (CASCADE_ASAN=0 skips them).
if [[ ${CASCADE_ASAN:-1} != 0 ]]; then
  # Only the unit suites run here, so only they are built (the server and tools are not).
  asan_build() {
    # clang, not gcc: on this code its sanitizer build compiles in 60% of gcc's time and
    # its unit suites run in half (measured: 250 s and 125 s against 422 s and 237 s).
    # -O1: the sanitizers' own checks dominate the run time, and at -O2 the build took
    # two and a half times as long.
    local dir=build-asan-clang
    local opts=(-Db_sanitize=address,undefined -Doptimization=1 -Ddebug=false
                -Dsanitizer_unit_build=true)
    if [[ ! -f $dir/build.ninja ]]; then
      CXX=clang++ meson setup "$dir" "${opts[@]}" >/dev/null || return 1
    else
      meson configure "$dir" "${opts[@]}" >/dev/null || return 1
    fi
    local targets
    targets=$(ninja -C "$dir" -t targets all | sed -n 's/^\(tests\/unit\/[a-z]*\/unit-[a-z]*\): .*/\1/p' | sort -u)
    # shellcheck disable=SC2086
    ninja -C "$dir" $targets >/dev/null || ninja -C "$dir" $targets
  }
  phase "sanitizer build"
  if asan_build; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
    # The heaviest data-volume cases (minutes under ASan, seconds without) run only in the
    # plain pass above, to keep the suite within its time budget.
    phase "sanitizer unit suites"
    heavy='a table returns every version of 100k*,a crash during a checkpoint*,random bit flips anywhere in a table*'
    run_suites build-asan-clang/tests "-tce=$heavy"
  else
    echo "sanitizer build failed"; failed=$((failed + 1))
  fi
fi

# Integration tests: pytest with Debian's interpreter (the one that sees python3-redis).
if compgen -G "tests/integration/test_*.py" >/dev/null; then
  phase "integration"
  out=$(CASCADE_BIN="$ROOT/build/cascade-server" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration 2>&1); rc=$?
  summary=$(tail -1 <<<"$out")
  p=$(grep -o '[0-9]* passed' <<<"$summary" | grep -o '[0-9]*' || echo 0)
  f=$(grep -o '[0-9]* failed' <<<"$summary" | grep -o '[0-9]*' || echo 0)
  e=$(grep -o '[0-9]* error' <<<"$summary" | grep -o '[0-9]*' || echo 0)
  f=$((f + e))
  if ((rc != 0 && f == 0)); then f=1; fi
  if ((f > 0)); then echo "$out" | tail -80; fi
  echo "   $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
fi

# Fuzz smoke: each target runs FUZZ_SECONDS from its seed corpus.
probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
if echo "$probe" | clang++ -x c++ -fsanitize=fuzzer,address -o /dev/null - >/dev/null 2>&1; then
  if [[ ! -f build-fuzz/build.ninja ]]; then
    CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dtests=false >/dev/null
  fi
  if ninja -C build-fuzz >/dev/null; then
    for bin in build-fuzz/tests/fuzz/fuzz-*; do
      [[ -f $bin && -x $bin ]] || continue
      name=$(basename "$bin"); corpus="tests/fuzz/corpus/${name#fuzz-}"
      work=$(mktemp -d)
      echo "== $name (${FUZZ_SECONDS}s)"
      if "$bin" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=0 \
           -artifact_prefix="$work/" "$work" "$corpus" >"$work/log" 2>&1; then
        passed=$((passed + 1)); echo "   1 passed, 0 failed"
      else
        failed=$((failed + 1)); tail -40 "$work/log"; echo "   0 passed, 1 failed"
      fi
      rm -rf "$work"
    done
  else
    echo "fuzz build failed"; failed=$((failed + 1))
  fi
else
  echo "== fuzz: clang's libFuzzer runtime not found, skipped"
fi

phase "done"
echo "$passed passed, $failed failed"
((failed == 0))
