# The network engine (engine/nn): layers, ResNets, SGD, checkpoints, weight files.
# Oracle scripts write their references under ${NN_REF}/<name> as the fixture nn_<name>.
set(NN_REF ${CMAKE_CURRENT_BINARY_DIR}/nn_ref)

# nn_ref(name script args...): tests/oracle/<script> NN_REF/<name> args..., label oracle
function(nn_ref name script)
  add_test(NAME oracle.nn_${name}_ref
           COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/${script} ${NN_REF}/${name} ${ARGN})
  set_tests_properties(oracle.nn_${name}_ref PROPERTIES LABELS oracle FIXTURES_SETUP nn_${name})
endfunction()

# nn_check(label test ref command...): test <label>.nn_<test> on the references of nn_ref(ref)
function(nn_check label test ref)
  add_test(NAME ${label}.nn_${test} COMMAND ${ARGN})
  set_tests_properties(${label}.nn_${test} PROPERTIES LABELS ${label} FIXTURES_REQUIRED nn_${ref})
endfunction()

foreach(t test_nn_layers test_nn_sgd test_nn_resnet test_nn_weights)
  add_executable(${t} unit/${t}.c)
  target_link_libraries(${t} PRIVATE uotft_engine)
endforeach()

# finite differences; checkpoints (resume bit-identical, corrupt files)
uf_unit_test(test_nn_gradcheck)
uf_unit_test(test_nn_ckpt)
# the direct conv path (the default on AVX-512F) against im2col + sgemm, forward and backward; bit-identical
# reruns; skipped (not passed) on a CPU without AVX-512F
uf_unit_test(test_nn_conv_direct)
set_tests_properties(unit.test_nn_conv_direct PROPERTIES SKIP_RETURN_CODE 77)

# every layer against torch
nn_ref(layers nn_layers.py)
nn_check(oracle layers layers test_nn_layers ${NN_REF}/layers)

# SGD and MultiStepLR against torch.optim on random tensors
nn_ref(sgd nn_sgd.py)
nn_check(oracle sgd sgd test_nn_sgd ${NN_REF}/sgd)

# whole models: nn_resnet.py REFDIR ARCH SIZE BATCH STEPS, then test_nn_resnet REFDIR ARCH STEPS
function(nn_model name arch size batch steps)
  nn_ref(${name} nn_resnet.py ${arch} ${size} ${batch} ${steps})
  nn_check(oracle ${name} ${name} test_nn_resnet ${NN_REF}/${name} ${arch} ${steps})
endfunction()
nn_model(small_32 "small:8,16:1,1" 32 4 10)
nn_model(small_bottleneck_32 "small:4,8:1,2:bottleneck" 32 4 10)
nn_model(resnet18_32 resnet18 32 4 0)
nn_model(resnet18_64 resnet18 64 4 10)
nn_model(resnet50_64 resnet50 64 4 0)
nn_model(resnet18_224 resnet18 224 4 0)
nn_model(resnet50_224 resnet50 224 4 0)

# torch.save files (zip, legacy; torchvision's and MoCo's layouts): torch's outputs, and bad input via the CLI
nn_ref(weights nn_weights.py)
nn_check(oracle weights weights test_nn_weights ${NN_REF}/weights)
nn_check(cli forward weights sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/nn_forward.sh $<TARGET_FILE:uotft> ${NN_REF}/weights
         ${CMAKE_CURRENT_BINARY_DIR}/io/torch)
set_tests_properties(cli.nn_forward PROPERTIES FIXTURES_REQUIRED "nn_weights;io_torch") # io.cmake's torch files

# uotft export: the C round trip (export, read back with the engine's reader: bit-identical) also writes
# the torch oracle's fixtures (a random-init ResNet-18 checkpoint, writer edge cases); the oracle checks
# torch.load(weights_only=True), strict loading and outputs against uotft forward; bad input via the CLI
set(NN_EXPORT ${CMAKE_CURRENT_BINARY_DIR}/nn_export)
set(MINI_PRETRAIN ${PROJECT_SOURCE_DIR}/results/mini/pretrain)
add_executable(test_nn_export unit/test_nn_export.c)
target_link_libraries(test_nn_export PRIVATE uotft_engine)
add_test(NAME unit.test_nn_export COMMAND test_nn_export ${NN_EXPORT} ${MINI_PRETRAIN})
set_tests_properties(unit.test_nn_export PROPERTIES LABELS unit FIXTURES_SETUP nn_export)
add_test(NAME oracle.nn_export COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/export_torch.py
         $<TARGET_FILE:uotft> ${NN_EXPORT} ${MINI_PRETRAIN})
set_tests_properties(oracle.nn_export PROPERTIES LABELS oracle FIXTURES_REQUIRED nn_export)
add_test(NAME cli.nn_export COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/nn_export.sh $<TARGET_FILE:uotft>
         ${MINI_PRETRAIN})
set_tests_properties(cli.nn_export PROPERTIES LABELS cli)
add_test(NAME cli.bench_train COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/bench_train.sh $<TARGET_FILE:uotft>)
set_tests_properties(cli.bench_train PROPERTIES LABELS cli)
