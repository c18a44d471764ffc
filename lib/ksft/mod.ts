/**
 * `luosim/ksft`: tools/testing/selftests/kselftest.h (kselftest.ts) and
 * kselftest_harness.h (harness.ts) for luosim programs, printing what the C
 * headers print.
 */
export * from "./kselftest.ts";
export * from "./harness.ts";
