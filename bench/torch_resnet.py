"""PyTorch's side of `uotft bench train|infer`: the same ResNet step on the
same batch size and thread count, in NCHW and in channels_last. ARCH is a
torchvision name or one of the engine's small:W..:B.. architectures (built
by the oracles' transcription, tests/oracle/nn_models.py).

Usage: torch_resnet.py MODE ARCH SIZE BATCH STEPS THREADS
MODE train: forward in train mode, cross-entropy, backward, SGD (momentum
0.9, Nesterov, weight decay 1e-4); MODE infer: eval-mode forward under
torch.no_grad(). One warm-up step, then STEPS timed steps; prints one line
per layout: "<layout> <images per second>".
"""
import os
import sys
import time

import torch
import torch.nn.functional as F
from torchvision.models import resnet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import nn_models  # noqa: E402



class FirstHead(torch.nn.Module):
    """The transcription returns a list of head outputs; the benchmark's loss wants the one head's."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)[0]


mode, arch, size, batch, steps, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
torch.manual_seed(0)

for layout in ("nchw", "channels_last"):
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    if arch.startswith("small:"):
        model = FirstHead(nn_models.build(arch, [("fc", 1000)])).to(memory_format=fmt)
    else:
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
