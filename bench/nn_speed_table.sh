#!/bin/sh
# The network engine's speed table: uotft against PyTorch 1.13 (Debian's /usr/bin/python3, NCHW and
# channels_last) on the same setting and thread count, each row measured in one run, with the OpenBLAS
# sgemm rate and the cores' FMA peak measured alongside. Prints Markdown with the date and the machine.
# Our side runs on both conv paths (im2col + sgemm; direct, the default on AVX-512 CPUs:
# engine/nn/conv_direct.h), a row each.
# usage: bench/nn_speed_table.sh [UOTFT] [THREADS]   (defaults: build/uotft, 2)
# On a machine shared with other work set OMP_WAIT_POLICY=passive for both sides: spinning OpenMP
# threads then steal the busy core (it halved uotft's 2-thread speed at 32 x 32 on a loaded 2-core box).
set -eu
uotft=${1:-build/uotft} threads=${2:-2}
echo "# Network engine speed, $(date -u +%Y-%m-%d), $(lscpu | sed -n 's/^Model name: *//p'), $threads threads"
echo
echo "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}; images/s; GFLOP/s counts 2 per multiply-add of convolutions"
echo "and linear layers (training: forward, weight and input gradients); speedup against PyTorch's faster layout."
echo
echo "| mode | arch | size | batch | conv | uotft img/s | GFLOP/s | % sgemm | % FMA peak | torch NCHW | torch channels_last | speedup |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
row() {
  "$uotft" bench "$@" --threads "$threads" --conv both | grep -v '^#' | tail -n +2 |
    awk '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $12, $5, $6, $7, $8, $9, $10, $11}'
}
small=small:16,32,64,128:1,1,1,1
row train --arch $small --size 28 --batch 128 --steps 20
row train --arch $small --size 28 --batch 256 --steps 10
row train --arch $small --size 32 --batch 64 --steps 30
row train --arch resnet18 --size 224 --batch 64 --steps 3
row train --arch resnet18 --size 112 --batch 32 --steps 5
row train --arch resnet18 --size 32 --batch 64 --steps 20
row infer --arch resnet50 --size 224 --batch 64 --steps 3
