"""The reference for `uotft bench data`: torchvision's ImageFolder + DataLoader with PIL decoding
and RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize, the same worker count.
usage: torchvision_data.py make DIR N        writes N JPEGs (500x375, 10 classes) into DIR/<class>/
       torchvision_data.py run DIR WORKERS BATCH EPOCHS
prints one line per epoch: "epoch <e> <images> <seconds>" (run under Debian's /usr/bin/python3)."""
import os
import sys
import time

import numpy as np


def make(root, n):
    from PIL import Image
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:375, 0:500]
    for i in range(n):
        d = os.path.join(root, f"class{i % 10:02d}")
        os.makedirs(d, exist_ok=True)
        base = np.stack([(x + 3 * i) % 256, (y * 2 + i) % 256, (x * y // 97 + i) % 256], -1)
        a = np.clip(base + rng.integers(-30, 30, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(a).save(os.path.join(d, f"img{i:05d}.jpg"), quality=90)


def run(root, workers, batch, epochs):
    import torch
    import torchvision.datasets as D
    import torchvision.transforms as T
    torch.set_num_threads(1)
    tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    loader = torch.utils.data.DataLoader(D.ImageFolder(root, tf), batch_size=batch, shuffle=True,
                                         num_workers=workers, persistent_workers=workers > 0)
    for e in range(epochs):
        t0, n = time.perf_counter(), 0
        for x, _ in loader:
            n += x.shape[0]
        print(f"epoch {e} {n} {time.perf_counter() - t0:.6f}", flush=True)


if sys.argv[1] == "make":
    make(sys.argv[2], int(sys.argv[3]))
else:
    run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
