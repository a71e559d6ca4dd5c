"""PyTorch's side of `uotft bench train|infer`: the same ResNet step on the
same batch size and thread count, in NCHW and in channels_last.

Usage: torch_resnet.py MODE ARCH SIZE BATCH STEPS THREADS
MODE train: forward in train mode, cross-entropy, backward, SGD (momentum
0.9, Nesterov, weight decay 1e-4); MODE infer: eval-mode forward under
torch.no_grad(). One warm-up step, then STEPS timed steps; prints one line
per layout: "<layout> <images per second>".
"""
import sys
import time

import torch
import torch.nn.functional as F
from torchvision.models import resnet

mode, arch, size, batch, steps, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
torch.manual_seed(0)

for layout in ("nchw", "channels_last"):
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    model = getattr(resnet, arch)(weights=None).to(memory_format=fmt)
    x = torch.randn(batch, 3, size, size).to(memory_format=fmt)
    y = torch.randint(0, 1000, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)

    def step():
        if mode == "train":
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)

    model.train(mode == "train")
    step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(layout, batch * steps / (time.perf_counter() - t0), flush=True)
