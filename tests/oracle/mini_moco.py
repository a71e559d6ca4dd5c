"""References for tests/unit/test_mini_moco.c: MoCo v2's pieces in torch.

Usage: mini_moco.py OUTDIR

Float64 references from float32 inputs, into OUTDIR:
  infonce/     z (6, 8), kpos (6, 8) and queue (16, 8) unit rows, t = 0.2:
               the loss of InfoNCE (F.normalize, logits [l_pos, l_neg] / t,
               cross-entropy with label 0) and dz, the gradient of 0.5 loss
  model/       small:4,8:1,1 with the MLP head fc (8 -> 8 -> ReLU -> 5) on
               x (4, 3, 12, 12); loss = InfoNCE of its output against kpos
               (4, 5) and queue (8, 5): params/<name>, then for eval and train
               mode: out, loss, grads/<name>
  steps/       three MoCo steps as moco/builder.py + SGD do them (one
               BatchNorm group, queue 8, batch 4, m 0.99, t 0.2; SGD lr 0.05,
               momentum 0.9, weight decay 1e-4): xq<s>, xk<s>, queue0, then
               losses, q/<name> and k/<name> (parameters and running
               statistics) and the queue after the steps
BatchNorm gets trained-like values (as nn_resnet.py) so that train-mode
gradients are well conditioned; the script fails if torch's own float32
gradients are more than 3e-2 (norm) from float64 there.
"""
import copy
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nn_models import build  # noqa: E402

out = sys.argv[1]
torch.manual_seed(11)
torch.set_num_threads(1)


def save(name, t):
    path = os.path.join(out, name + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, t.detach().cpu().numpy() if torch.is_tensor(t) else t)


def unit(n, d):
    return F.normalize(torch.randn(n, d), dim=1).float()


def infonce(z, kpos, queue, t):
    q = F.normalize(z, dim=1)
    logits = torch.cat([(q * kpos).sum(1, keepdim=True), q @ queue.t()], 1) / t
    return F.cross_entropy(logits, torch.zeros(len(z), dtype=torch.long))


# ---- InfoNCE alone
z = torch.randn(6, 8).float()
kpos, queue = unit(6, 8), unit(16, 8)
for k, v in (("z", z), ("kpos", kpos), ("queue", queue)):
    save("infonce/" + k, v)
zd = z.double().requires_grad_()
loss = infonce(zd, kpos.double(), queue.double(), 0.2)
(0.5 * loss).backward()
save("infonce/loss", np.array([loss.item()]))
save("infonce/dz", zd.grad)


# ---- a small ResNet with MoCo's MLP head
def encoder():
    m = build("small:4,8:1,1", [])
    m.fc = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 5))
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, nn.BatchNorm2d):
                last = name.endswith("downsample.1") or name.endswith("bn2")
                mod.weight.copy_((0.3 if last else 1) + 0.1 * torch.randn_like(mod.weight))
                mod.bias.copy_((0 if last else 0.5) + 0.1 * torch.randn_like(mod.bias))
                mod.running_mean.copy_(0.1 * torch.randn_like(mod.running_mean))
                mod.running_var.copy_(1 + 0.1 * torch.randn_like(mod.running_var).abs())
    return m


def state(m):
    return {k: v for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}


def head_out(m, x):
    return m.fc(m.features(x))


enc = encoder()
for k, v in state(enc).items():
    save("model/params/" + k, v.float())
x = torch.randn(4, 3, 12, 12).float()
kpos, queue = unit(4, 5), unit(8, 5)
for k, v in (("x", x), ("kpos", kpos), ("queue", queue)):
    save("model/" + k, v)
grads32 = None
for mode, train in (("eval", False), ("train", True)):
    for dtype in (torch.float32, torch.float64):
        m = copy.deepcopy(enc).to(dtype).train(train)
        o = head_out(m, x.to(dtype))
        loss = infonce(o, kpos.to(dtype), queue.to(dtype), 0.2)
        loss.backward()
        if dtype == torch.float32:
            grads32 = {k: p.grad.double() for k, p in m.named_parameters()}
            continue
        save("model/%s/out" % mode, o)
        save("model/%s/loss" % mode, np.array([loss.item()]))
        worst = 0
        for k, p in m.named_parameters():
            save("model/%s/grads/%s" % (mode, k), p.grad)
            worst = max(worst, ((grads32[k] - p.grad).norm() / p.grad.norm()).item())
        print("%s mode: torch float32 vs float64 gradients, largest relative difference in norm %.2e" % (mode, worst))
        if worst > 3e-2:
            sys.exit("ill-conditioned setting: torch's float32 gradients differ from float64 by %.2e" % worst)

# ---- three MoCo steps (moco/builder.py's forward, then the optimiser step)
STEPS, N, K, M, T = 3, 4, 8, 0.99, 0.2
xs = [(torch.randn(N, 3, 12, 12).float(), torch.randn(N, 3, 12, 12).float()) for _ in range(STEPS)]
queue0 = unit(K, 5)
for s, (xq, xk) in enumerate(xs):
    save("steps/xq%d" % s, xq)
    save("steps/xk%d" % s, xk)
save("steps/queue0", queue0)
q_enc = copy.deepcopy(enc).double().train()
k_enc = copy.deepcopy(enc).double().train()
queue = queue0.double().clone()
opt = torch.optim.SGD(q_enc.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
losses = []
for s, (xq, xk) in enumerate(xs):
    opt.zero_grad()
    with torch.no_grad():
        for pq, pk in zip(q_enc.parameters(), k_enc.parameters()):
            pk.data = pk.data * M + pq.data * (1.0 - M)
        k = F.normalize(head_out(k_enc, xk.double()), dim=1)
    loss = infonce(head_out(q_enc, xq.double()), k, queue.clone(), T)
    ptr = (s * N) % K
    queue[ptr:ptr + N] = k
    loss.backward()
    opt.step()
    losses.append(loss.item())
save("steps/losses", np.array(losses))
for k, v in state(q_enc).items():
    save("steps/q/" + k, v)
for k, v in state(k_enc).items():
    save("steps/k/" + k, v)
save("steps/queue", queue)
print("MoCo losses over %d steps: %s" % (STEPS, " ".join("%.6f" % v for v in losses)))
