# I/O (pickles, PyTorch weight files, SHA-256): unit tests of the pickle machine; oracles where Python
# writes NumPy pickles (the released ones re-made byte for byte) and torch files in the zip, legacy and
# tar formats, and uotft must read them exactly; bad input and the released-means recipe through the CLI.
set(UF_IO_OUT ${CMAKE_CURRENT_BINARY_DIR}/io)

# uf_io_test(name label [ARGS...]): tests/unit/<name>.c run with the arguments
function(uf_io_test name label)
  add_executable(${name} unit/${name}.c)
  target_link_libraries(${name} PRIVATE uotft_engine)
  add_test(NAME io.${name} COMMAND ${name} ${ARGN})
  set_tests_properties(io.${name} PROPERTIES LABELS ${label})
endfunction()

uf_io_test(test_pickle unit)

add_test(NAME oracle.io_pickles COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/io_pickles.py
         ${UF_IO_OUT}/pickles ${REF} ${PROJECT_SOURCE_DIR})
add_test(NAME oracle.io_torch_files COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/io_torch_files.py
         ${UF_IO_OUT}/torch)
set_tests_properties(oracle.io_pickles PROPERTIES LABELS oracle FIXTURES_SETUP io_pickles)
set_tests_properties(oracle.io_torch_files PROPERTIES LABELS oracle FIXTURES_SETUP io_torch)

uf_io_test(test_io_pickle_oracle oracle ${UF_IO_OUT}/pickles ${REF})
uf_io_test(test_io_torch_oracle oracle ${UF_IO_OUT}/torch)
set_tests_properties(io.test_io_pickle_oracle PROPERTIES FIXTURES_REQUIRED io_pickles)
set_tests_properties(io.test_io_torch_oracle PROPERTIES FIXTURES_REQUIRED io_torch)

add_test(NAME cli.io_convert COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/io_convert.sh $<TARGET_FILE:uotft>
         ${UF_IO_OUT} ${PROJECT_SOURCE_DIR} ${REF})
set_tests_properties(cli.io_convert PROPERTIES LABELS cli FIXTURES_REQUIRED "io_pickles;io_torch")
