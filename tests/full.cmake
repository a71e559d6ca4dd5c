# The full tier on a tiny world (issue 12): ImageNet, the eight targets and the two weight files in
# their publishers' formats, written by tests/full/make_world.py into the build tree as datasets/fetch
# lays out the real downloads (world/data/<name>/, world/recipes/<name>.tsv). Tests that read it
# require the fixture full_world.
set(UF_FULL_WORLD ${CMAKE_BINARY_DIR}/full/world)
add_test(NAME full.world COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/full/make_world.py ${UF_FULL_WORLD} ${REF})
set_tests_properties(full.world PROPERTIES LABELS full FIXTURES_SETUP full_world)

# the world through the code that reads and checks the real downloads: uotft data, datasets/verify,
# uotft forward (against torch)
add_test(NAME full.world_reads COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/full/world_reads.py
         $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${UF_FULL_WORLD})
set_tests_properties(full.world_reads PROPERTIES LABELS full FIXTURES_REQUIRED full_world)
