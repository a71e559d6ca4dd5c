# Sourced by the mini tests: machine_fp prints what decides whether a float computation here can
# repeat the committed one bit for bit: the CPU's model and feature flags (they choose OpenBLAS's
# kernels and what -march=native compiles). UF_TEST_MACHINE replaces it (to exercise the path
# taken on other machines).
machine_fp() {
  if [ -n "${UF_TEST_MACHINE:-}" ]; then echo "$UF_TEST_MACHINE"; return; fi
  { grep -m1 '^model name' /proc/cpuinfo; grep -m1 '^flags' /proc/cpuinfo; } | sha256sum | cut -c1-16
}
# same_machine COMMITTED_DIR: 0 when results/mini/MACHINE names this machine
same_machine() {
  [ "$(sed -n 's/^fingerprint\t//p' "$1/MACHINE" 2>/dev/null)" = "$(machine_fp)" ]
}
