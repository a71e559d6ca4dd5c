# The mini tier (issue 5): the world's builder (datasets/mini), the mini-set format
# (engine/data/miniset) and k-means (engine/features/kmeans).

uf_unit_test(test_miniset)
set_tests_properties(unit.test_miniset PROPERTIES LABELS "unit;mini")

# The world: built once (the full build, as `uotft run` uses it), then checked against its design with
# independent readers (numpy, zlib, fontTools: every glyph's face really draws its character).
set(UF_MINI_OUT ${CMAKE_CURRENT_BINARY_DIR}/mini)
add_test(NAME mini.build_world COMMAND sh ${PROJECT_SOURCE_DIR}/datasets/mini/build
         --bin $<TARGET_FILE:uotft-mkmini> --out ${UF_MINI_OUT}/world)
set_tests_properties(mini.build_world PROPERTIES LABELS mini FIXTURES_SETUP mini_world)
add_test(NAME oracle.mini_world COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/mini/check_world.py
         ${UF_MINI_OUT}/world)
set_tests_properties(oracle.mini_world PROPERTIES LABELS "mini;oracle" FIXTURES_REQUIRED mini_world)
add_test(NAME mini.build_deterministic COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/build_twice.sh
         $<TARGET_FILE:uotft-mkmini> ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/twice)
add_test(NAME mini.builder_bad_input COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/builder_bad_input.sh
         $<TARGET_FILE:uotft-mkmini> ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/bad)
set_tests_properties(mini.build_deterministic mini.builder_bad_input PROPERTIES LABELS mini)

# k-means: unit tests, scikit-learn's KMeans as the reference, bad input through the CLI.
uf_unit_test(test_kmeans)
set_tests_properties(unit.test_kmeans PROPERTIES LABELS "unit;mini")
add_test(NAME oracle.kmeans_sklearn COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/kmeans_sklearn.py
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/kmeans-oracle)
set_tests_properties(oracle.kmeans_sklearn PROPERTIES LABELS "oracle;mini")
add_test(NAME cli.kmeans_bad_input COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/kmeans_bad_input.sh
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/kmeans-bad)
set_tests_properties(cli.kmeans_bad_input PROPERTIES LABELS "cli;mini")

# The sets through the data layer's reader (what the loader trains from).
add_test(NAME mini.data_reader COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/data_reader.sh
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world)
set_tests_properties(mini.data_reader PROPERTIES LABELS "mini;data" FIXTURES_REQUIRED mini_world)
