# MPI data-parallel fine-tuning (UOTFT_MPI, engine/core/dist.h): registered only in a build with MPI.
# `mpirun -np 2` against one process with --bn-groups 2, resumed under mpirun, --bn-groups 1 unchanged.
if(UOTFT_MPI)
  add_test(NAME mini.finetune_mpi COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mini/finetune_mpi.sh
           $<TARGET_FILE:uotft> ${UOTFT_PYTHON} ${MPIEXEC_EXECUTABLE} ${CMAKE_CURRENT_BINARY_DIR}/mini/world
           ${PROJECT_SOURCE_DIR}/results/mini/pretrain/supervised.ckpt ${CMAKE_CURRENT_BINARY_DIR}/mini/finetune-mpi)
  set_tests_properties(mini.finetune_mpi PROPERTIES LABELS "mpi;mini" FIXTURES_REQUIRED mini_world TIMEOUT 600)
endif()
