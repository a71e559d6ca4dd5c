# Fuzzing (tests/fuzz/): one harness per parser of outside input. Always: a replay build of each,
# linked with tests/fuzz/replay.c, runs its committed corpus as test fuzz.<parser> (any compiler,
# seconds), so CI catches a regression on an input the fuzzer once found. With -DUOTFT_FUZZ=ON and
# clang: the libFuzzer binaries fuzz_<parser> as well (tests/fuzz/README.md says how to run them).
set(UF_FUZZ_PARSERS npy pickle torch_zip torch_legacy mat mset manifest tsv image archive)
set(UF_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
foreach(p ${UF_FUZZ_PARSERS})
  add_executable(fuzz_replay_${p} fuzz/fuzz_${p}.c fuzz/replay.c)
  target_link_libraries(fuzz_replay_${p} PRIVATE uotft_engine)
  add_test(NAME fuzz.${p} COMMAND fuzz_replay_${p} ${UF_FUZZ_DIR}/corpus/${p})
  # sanitize too: ci/sanitize.sh replays every corpus under ASan + UBSan
  set_tests_properties(fuzz.${p} PROPERTIES LABELS "fuzz;sanitize")
  if(UOTFT_FUZZ)
    add_executable(fuzz_${p} fuzz/fuzz_${p}.c)
    target_link_libraries(fuzz_${p} PRIVATE uotft_engine)
    target_link_options(fuzz_${p} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()
