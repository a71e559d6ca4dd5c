# Data layer (issue 4): recipes, fetch/verify, MAT-files, data set readers on fixtures written in
# each data set's real layout, decoding, transforms against torchvision/PIL, the loader.
# Label data on all; bad input through the CLI also cli; Python references also oracle.
set(UF_DATA_OUT ${CMAKE_CURRENT_BINARY_DIR}/data)

# uf_data_unit(name [ARGS...]): tests/unit/<name>.c, run with the given arguments
function(uf_data_unit name)
  add_executable(${name} unit/${name}.c)
  target_link_libraries(${name} PRIVATE uotft_engine)
  target_compile_definitions(${name} PRIVATE UF_REF="${REF}")
  add_test(NAME data.${name} COMMAND ${name} ${ARGN})
  set_tests_properties(data.${name} PROPERTIES LABELS "data;unit")
endfunction()

# uf_data_oracle(name script [ARGS...]): a Python reference writer that others depend on
function(uf_data_oracle name script)
  add_test(NAME oracle.${name} COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/${script} ${ARGN})
  set_tests_properties(oracle.${name} PROPERTIES LABELS "data;oracle" FIXTURES_SETUP ${name})
endfunction()

add_test(NAME data.fetch_verify COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/data_fetch.sh ${PROJECT_SOURCE_DIR})
add_test(NAME data.recipes COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/data_recipes.sh ${PROJECT_SOURCE_DIR}
         ${UOTFT_SHARED}/paper/DATASETS.md)
set_tests_properties(data.fetch_verify data.recipes PROPERTIES LABELS "data;cli")

uf_data_oracle(data_mat data_mat_fixtures.py ${UF_DATA_OUT}/mat ${REF})
uf_data_unit(test_data_mat ${UF_DATA_OUT}/mat ${REF})
set_tests_properties(data.test_data_mat PROPERTIES FIXTURES_REQUIRED data_mat)

# readers: fixtures in each data set's layout, then `uotft data` on them (and on bad copies)
uf_data_oracle(data_fixtures data_fixtures.py ${UF_DATA_OUT}/fixtures ${REF})
add_test(NAME data.readers COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/data_readers.py
         $<TARGET_FILE:uotft> ${UF_DATA_OUT}/fixtures)
set_tests_properties(data.readers PROPERTIES LABELS "data;cli;oracle" FIXTURES_REQUIRED data_fixtures)

# transforms: samplers checked here; pixels against torchvision and PIL by the oracle
uf_data_unit(test_data_transform --samplers)
add_test(NAME data.transforms COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/data_transforms.py
         $<TARGET_FILE:test_data_transform> ${UF_DATA_OUT}/transforms)
set_tests_properties(data.transforms PROPERTIES LABELS "data;oracle")

# loader: determinism across thread counts, epochs, skipped corrupt images
uf_data_unit(test_data_loader ${UF_DATA_OUT}/fixtures)
set_tests_properties(data.test_data_loader PROPERTIES FIXTURES_REQUIRED data_fixtures)
uf_data_unit(test_data_archive ${UF_DATA_OUT}/fixtures)
set_tests_properties(data.test_data_archive PROPERTIES FIXTURES_REQUIRED data_fixtures)

# row lists (selected source classes or clusters, fractions, long tails, validation splits), in memory
uf_data_unit(test_data_rows)

# region decoding: JPEGs of every layout written in the test, random regions equal a full decode cropped
uf_data_unit(test_data_jpeg_crop)
