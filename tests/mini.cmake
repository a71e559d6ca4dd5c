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

# ---- pre-training, features, probes (issue 5, items 2-5) ----

# MoCo v2 against torch: InfoNCE, the MLP head's backward, three whole steps
add_test(NAME oracle.mini_moco_ref COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/mini_moco.py
         ${UF_MINI_OUT}/moco-ref)
set_tests_properties(oracle.mini_moco_ref PROPERTIES LABELS "oracle;mini" FIXTURES_SETUP mini_moco_ref)
add_executable(test_mini_moco unit/test_mini_moco.c)
target_link_libraries(test_mini_moco PRIVATE uotft_engine)
add_test(NAME oracle.mini_moco COMMAND test_mini_moco ${UF_MINI_OUT}/moco-ref)
set_tests_properties(oracle.mini_moco PROPERTIES LABELS "oracle;mini" FIXTURES_REQUIRED mini_moco_ref)

# the loader's view seed (MoCo's two views) and mid-epoch start (resuming)
uf_unit_test(test_mini_loader)
set_tests_properties(unit.test_mini_loader PROPERTIES LABELS "unit;mini")

# checkpoint extras (the note and extra tables the pre-training's state files carry)
uf_unit_test(test_mini_ckpt)
set_tests_properties(unit.test_mini_ckpt PROPERTIES LABELS "unit;mini")

# pre-training: resumed and killed runs end bit-identical, bad states refused (reduced runs)
add_test(NAME mini.pretrain_resume COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/pretrain_resume.sh
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world ${UF_MINI_OUT}/pretrain-resume)
set_tests_properties(mini.pretrain_resume PROPERTIES LABELS mini FIXTURES_REQUIRED mini_world)

# uotft features read back with numpy (the released means' layout), uotft probe against scikit-learn
add_test(NAME oracle.mini_features COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/mini_features.py
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world ${UF_MINI_OUT}/features-oracle)
set_tests_properties(oracle.mini_features PROPERTIES LABELS "oracle;mini" FIXTURES_REQUIRED mini_world)

# bad input to pretrain, features, probe and the mini preparation: exit status, file and reason
add_test(NAME cli.mini_bad_input COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/bad_input.sh
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world ${UF_MINI_OUT}/bad-input)
set_tests_properties(cli.mini_bad_input PROPERTIES LABELS "cli;mini" FIXTURES_REQUIRED mini_world)

# ---- fine-tuning (issue 9) ----

# stopped and SIGKILLed runs end bit-identical to an uninterrupted one (unlabelled, Co-Tuning)
add_test(NAME mini.finetune_resume COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/finetune_resume.sh
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world ${PROJECT_SOURCE_DIR}/results/mini/pretrain/supervised.ckpt
         ${UF_MINI_OUT}/finetune-resume)
set_tests_properties(mini.finetune_resume PROPERTIES LABELS mini FIXTURES_REQUIRED mini_world TIMEOUT 600)
# bad selections, settings, backbones and targets refused with their reason, no result left
add_test(NAME cli.finetune_bad_input COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/finetune_bad_input.sh
         $<TARGET_FILE:uotft> ${UOTFT_PYTHON} ${UF_MINI_OUT}/world
         ${PROJECT_SOURCE_DIR}/results/mini/pretrain/supervised.ckpt
         ${PROJECT_SOURCE_DIR}/results/mini/pretrain/moco-v2.ckpt ${UF_MINI_OUT}/finetune-bad-input)
set_tests_properties(cli.finetune_bad_input PROPERTIES LABELS "cli;mini" FIXTURES_REQUIRED mini_world)

# the committed backbones (results/mini/pretrain): their first 16 steps re-run bit for bit
add_test(NAME mini.pretrain_committed COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/pretrain_committed.sh
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world ${PROJECT_SOURCE_DIR}/results/mini/pretrain
         ${UF_MINI_OUT}/pretrain-committed)
set_tests_properties(mini.pretrain_committed PROPERTIES LABELS mini FIXTURES_REQUIRED mini_world)

# The mini tier's results (one test per manifest, so `ctest -R table4` runs both tiers),
# regenerated from the committed backbones, equal the committed ones. mini.table4 prepares the
# features and k-means the others read.
foreach(name table4 fig4a selection backbones)
  add_test(NAME mini.${name} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/results.sh $<TARGET_FILE:uotft>
           ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results ${name})
  set_tests_properties(mini.${name} PROPERTIES LABELS "mini;replication" FIXTURES_REQUIRED "mini_world;mini_prepared")
endforeach()
set_tests_properties(mini.table4 PROPERTIES FIXTURES_SETUP mini_prepared FIXTURES_REQUIRED mini_world)
# the path other machines take (tolerances instead of bit equality), here on purpose
foreach(name table4 selection)
  add_test(NAME mini.${name}_other_machine COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/results.sh
           $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results ${name})
endforeach()
add_test(NAME mini.pretrain_committed_other_machine COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/pretrain_committed.sh
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world ${PROJECT_SOURCE_DIR}/results/mini/pretrain
         ${UF_MINI_OUT}/pretrain-committed-other)
set_tests_properties(mini.table4_other_machine mini.selection_other_machine mini.pretrain_committed_other_machine
                     PROPERTIES LABELS mini ENVIRONMENT UF_TEST_MACHINE=another FIXTURES_REQUIRED "mini_world;mini_prepared")
# the fine-tuning benchmark runs (its speed is a benchmark's business, not a test's)
add_test(NAME cli.bench_finetune COMMAND $<TARGET_FILE:uotft> bench finetune --setting mini --steps 1 --no-torch)
set_tests_properties(cli.bench_finetune PROPERTIES LABELS "cli;mini" PASS_REGULAR_EXPRESSION "mini +small:")

# uotft finetune against torch: each recipe's first 20 steps from the committed supervised backbone, replayed
# in torch from the dumped model and batches (losses, the state after them, Co-Tuning's relationship); the
# selections come from the prepared class means and k-means clusters
add_test(NAME oracle.finetune_torch COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/finetune_torch.py
         $<TARGET_FILE:uotft> ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results/features
         ${PROJECT_SOURCE_DIR}/results/mini/pretrain/supervised.ckpt ${UF_MINI_OUT}/finetune-oracle)
set_tests_properties(oracle.finetune_torch PROPERTIES LABELS "oracle;mini" TIMEOUT 300
                     FIXTURES_REQUIRED "mini_world;mini_prepared")
# the runner's fine-tuning task: rows per seed, mean +- std report, runs shared between manifests,
# `uotft run` killed mid-run ends with the same CSV
add_test(NAME mini.finetune_task COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/finetune_task.sh $<TARGET_FILE:uotft>
         ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results/features
         ${PROJECT_SOURCE_DIR}/results/mini/pretrain/supervised.ckpt ${UF_MINI_OUT}/finetune-task)
set_tests_properties(mini.finetune_task PROPERTIES LABELS mini TIMEOUT 600
                     FIXTURES_REQUIRED "mini_world;mini_prepared")
# --shard I/N over a manifest's distinct runs, then --collect: the CSVs of one unsharded run (issue 13)
add_test(NAME mini.run_shards COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/run_shards.sh $<TARGET_FILE:uotft>
         ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results ${UF_MINI_OUT}/run-shards)
set_tests_properties(mini.run_shards PROPERTIES LABELS "mini;cli" TIMEOUT 600
                     FIXTURES_REQUIRED "mini_world;mini_prepared")

# ---- the mini tables (issue 10) ----
set(UF_FINETUNE_MANIFESTS tune table1a table1b table2 table3 table4acc fig3a fig3b fig4b source_half label_based)
# CI's regression sample: the cell each manifest's `sample` setting names (one seed), recomputed in a fresh
# runs folder and compared with its committed row (byte for byte on the machine of results/mini/MACHINE)
foreach(name ${UF_FINETUNE_MANIFESTS})
  add_test(NAME mini.${name}_sample COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/results.sh $<TARGET_FILE:uotft>
           ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results ${name} sample)
  set_tests_properties(mini.${name}_sample PROPERTIES LABELS "mini;regression" TIMEOUT 300
                       FIXTURES_REQUIRED "mini_world;mini_prepared")
endforeach()
# the sample notices a changed training setting (fewer epochs): the test passes when the comparison fails
# and names the row that moved
add_test(NAME mini.regression_catches_change COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/results.sh
         $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results label_based sample
         --set epochs=3)
set_tests_properties(mini.regression_catches_change PROPERTIES LABELS "mini;regression" TIMEOUT 300
                     FIXTURES_REQUIRED "mini_world;mini_prepared"
                     PASS_REGULAR_EXPRESSION "FAIL: label_based: (sample rows differ|outside the tolerances)")
# `ctest -L replication`: every mini result recomputed in full (3 seeds) and compared with the committed CSV,
# the fine-tuning manifests sharing one runs folder, emptied first, as one `uotft run --tier mini` would: about
# half an hour on 2 cores, so not part of `ci/test.sh`
set(UF_REPLICATION_RUNS ${UF_MINI_OUT}/replication-runs)
add_test(NAME replication.fresh_runs COMMAND ${CMAKE_COMMAND} -E rm -rf ${UF_REPLICATION_RUNS})
set_tests_properties(replication.fresh_runs PROPERTIES LABELS replication FIXTURES_SETUP replication_runs)
foreach(name ${UF_FINETUNE_MANIFESTS})
  add_test(NAME replication.${name} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/results.sh $<TARGET_FILE:uotft>
           ${PROJECT_SOURCE_DIR} ${UF_MINI_OUT}/world ${UF_MINI_OUT}/results ${name})
  set_tests_properties(replication.${name} PROPERTIES LABELS replication TIMEOUT 3600 RUN_SERIAL TRUE
                       ENVIRONMENT UF_RUNS=${UF_REPLICATION_RUNS}
                       FIXTURES_REQUIRED "mini_world;mini_prepared;replication_runs")
endforeach()
