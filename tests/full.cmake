# The full tier's preparation (issue 12) on small inputs: features and class means of any data set
# through torchvision-layout weights, resumable and sharded; bounded-memory k-means.
set(UF_FULL_OUT ${CMAKE_CURRENT_BINARY_DIR}/full)

# k-means on 200000 x 128 points: the points mapped, not copied (peak resident size), --means exact
add_test(NAME full.kmeans_memory COMMAND ${UOTFT_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/full/kmeans_memory.py
         $<TARGET_FILE:uotft> ${UF_FULL_OUT}/kmeans-memory)
set_tests_properties(full.kmeans_memory PROPERTIES LABELS full)  # not sanitize: ASan's shadow memory would count
