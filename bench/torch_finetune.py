"""PyTorch's side of `uotft bench finetune`: one step of the labelled recipe (SPEC eq. 6) on the
same setting and thread count, in NCHW and in channels_last.

Usage: torch_finetune.py ARCH SIZE BATCH SOURCE_BATCH TARGET_CLASSES SOURCE_CLASSES STEPS THREADS
The step: train-mode forward over the joint batch [target, source], CE on the target head for the
target rows + lambda (1) CE on the source head for the source rows, backward, SGD (momentum 0.9,
Nesterov, weight decay 1e-4, heads at 10x). One warm-up step, then STEPS timed steps; prints one
line per layout: "<layout> <images per second>" (target + source images).
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import nn_models  # noqa: E402  the transcription of the engine's architectures

arch, size, batch, sbatch, kt, ks, steps, threads = sys.argv[1], *map(int, sys.argv[2:])
torch.set_num_threads(threads)
torch.manual_seed(0)

for layout in ("nchw", "channels_last"):
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    first = "fc" if not arch.startswith("small:") else "fc_target"
    model = nn_models.build(arch, [(first, kt), ("fc_source", ks)]).to(memory_format=fmt)
    heads = [p for n, p in model.named_parameters() if n.startswith(("fc", "net.fc"))]
    ids = {id(p) for p in heads}
    body = [p for p in model.parameters() if id(p) not in ids]
    opt = torch.optim.SGD([{"params": body, "lr": 0.01}, {"params": heads, "lr": 0.1}], lr=0.01, momentum=0.9,
                          nesterov=True, weight_decay=1e-4)
    x = torch.randn(batch + sbatch, 3, size, size).to(memory_format=fmt)
    yt, ys = torch.randint(0, kt, (batch,)), torch.randint(0, ks, (sbatch,))
    model.train()

    def step():
        opt.zero_grad()
        zt, zs = model(x)
        (F.cross_entropy(zt[:batch], yt) + 1.0 * F.cross_entropy(zs[batch:], ys)).backward()
        opt.step()

    step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(layout, (batch + sbatch) * steps / (time.perf_counter() - t0), flush=True)
