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

# The preparation on small inputs: features and class means of any data set
# through torchvision-layout weights, resumable and sharded; bounded-memory k-means.
set(UF_FULL_OUT ${CMAKE_CURRENT_BINARY_DIR}/full)

# k-means on 200000 x 128 points: the points mapped, not copied (peak resident size), --means exact
add_test(NAME full.kmeans_memory COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/full/kmeans_memory.py
         $<TARGET_FILE:uotft> ${UF_FULL_OUT}/kmeans-memory)
set_tests_properties(full.kmeans_memory PROPERTIES LABELS full)  # not sanitize: ASan's shadow memory would count

# features of a data set split (the reader fixtures of tests/data.cmake) against torchvision: ResNet-18 at
# 224 px on ImageNet's tar of tars and CUB's tgz, and a MoCo-layout ResNet-50's MLP head at 64 px
add_test(NAME oracle.features_torch COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/full/features_torch.py
         $<TARGET_FILE:uotft> ${UF_DATA_OUT}/fixtures ${UF_FULL_OUT}/features-torch)
set_tests_properties(oracle.features_torch PROPERTIES LABELS "oracle;full" FIXTURES_REQUIRED data_fixtures)
# stopped, 'killed' and resumed runs, and merged shards, byte-identical to one uninterrupted run
add_test(NAME full.features_resume COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/full/features_resume.sh
         $<TARGET_FILE:uotft> ${UF_DATA_OUT}/fixtures ${UF_FULL_OUT}/features-resume)
# corrupt weights, missing archives, stale or corrupt checkpoints, bad shards: refused, the file named
add_test(NAME cli.features_bad_input COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/full/features_bad_input.sh
         $<TARGET_FILE:uotft> ${UF_DATA_OUT}/fixtures ${UF_FULL_OUT}/features-bad-input)
set_tests_properties(full.features_resume PROPERTIES LABELS "unit;full" FIXTURES_REQUIRED data_fixtures)
set_tests_properties(cli.features_bad_input PROPERTIES LABELS "cli;full" FIXTURES_REQUIRED data_fixtures)

# the whole full tier at --set scale=tiny on the world: downloads verified, features, clusters, every
# manifest's runs, tables and figures, then found again (a few minutes on 2 cores)
add_test(NAME full.tier_tiny COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/full/tier_tiny.sh
         $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${UF_FULL_WORLD} ${REF}/released-class-means ${UF_FULL_OUT}/tier-tiny)
set_tests_properties(full.tier_tiny PROPERTIES LABELS full FIXTURES_REQUIRED full_world FIXTURES_SETUP full_tier)

# ctest -L replication-full: every full manifest at the paper's setting on the real downloads, one test
# each, compared with the paper; skipped (not passed) without the data (tests/full/replication.sh)
file(GLOB UF_MANIFESTS ${PROJECT_SOURCE_DIR}/experiments/*.ini)
foreach(ini ${UF_MANIFESTS})
  file(STRINGS ${ini} tiers REGEX "^tiers = .*full")
  if(tiers)
    get_filename_component(name ${ini} NAME_WE)
    add_test(NAME replication_full.${name} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/full/replication.sh
             $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${ini})
    set_tests_properties(replication_full.${name} PROPERTIES LABELS replication-full SKIP_RETURN_CODE 77
                         TIMEOUT 0)
  endif()
endforeach()

# sharded as uotft slurm shards it (issue 13): preparation shards merged, run shards collected, equal to
# the unsharded products and tables byte for byte
add_test(NAME full.shards COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/full/shards.sh
         $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${UF_FULL_WORLD} ${UF_FULL_OUT}/tier-tiny/store ${UF_FULL_OUT}/shards)
set_tests_properties(full.shards PROPERTIES LABELS full FIXTURES_REQUIRED "full_world;full_tier")
