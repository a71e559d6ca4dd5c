# uotft slurm against a real Slurm on this one node (tests/slurm/single_node.sh: munged, slurmctld and
# slurmd started by the test, as root, the full tier of two manifests on the tiny world submitted as its
# four jobs, the results compared with an unsharded uotft run; about 4 minutes on 2 cores). Registered
# only where slurmctld is installed (slurm-wlm and munge, ci/apt-packages.txt); skipped (77) when the
# daemons cannot start. UF_FULL_WORLD and the full_world fixture: full.cmake, included before this one.
find_program(UF_SLURMCTLD slurmctld PATHS /usr/sbin /usr/local/sbin)
if(UF_SLURMCTLD)
  add_test(NAME slurm.single_node COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/slurm/single_node.sh
           $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${UF_FULL_WORLD} ${CMAKE_CURRENT_BINARY_DIR}/slurm/single-node)
  set_tests_properties(slurm.single_node PROPERTIES LABELS slurm FIXTURES_REQUIRED full_world SKIP_RETURN_CODE 77
                       TIMEOUT 2400)
endif()

# the scripts, their submission order and the usage errors, without a Slurm (a stand-in sbatch)
add_test(NAME cli.slurm_scripts COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/slurm_scripts.sh
         $<TARGET_FILE:uotft> ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cli-slurm-scripts)
set_tests_properties(cli.slurm_scripts PROPERTIES LABELS "cli;slurm;sanitize")
