"""Whole-model references for tests/unit/test_nn_resnet.c.

Usage: nn_resnet.py OUTDIR ARCH SIZE BATCH STEPS

Builds ARCH (torchvision's names) with heads fc (10 classes) and aux (7):
torch's random init except BatchNorm, which gets trained-like values (inner
BNs gamma 1, beta 0.5; a block's last BN and the downsample BN gamma 0.3,
beta 0; all +- 0.1; running mean 0 +- 0.1, running var 1 + |0.1 N|), so the
loss stays near log(10) and ten SGD steps descend smoothly.
Loss = CE(fc, labels) + 0.5 CE(aux, soft targets). References are float64
from the float32 inputs. Into OUTDIR:
  params/<name>.npy   initial parameters and running statistics (float32)
  x.npy labels.npy targets.npy
  eval/               eval mode (running statistics) from the initial weights:
                      features, logits_fc, loss, grads/<name>
  features.npy logits_fc.npy logits_aux.npy loss.npy grads/<name>.npy
                      train mode (batch statistics), step 0
  grads32_worst.npy   how far torch's own float32 train-mode gradients are
                      from these float64 ones: the largest relative
                      difference in norm over the parameters
  after/<name>.npy    running statistics after that forward
  losses.npy          the loss at each of STEPS steps of SGD (momentum 0.9,
                      Nesterov, weight decay 1e-4; backbone lr 0.002, heads
                      0.02; MultiStepLR milestones 3, 6, gamma 0.1, per step)
  eval_logits_fc.npy  eval-mode logits after the steps
It also prints how far torch's own float32 results are from the float64 ones
and fails where they are too far for the C test's tolerances to mean
anything: train-mode gradients beyond 3e-2 in norm (with batch statistics
over 4 images, pre-activations within float32 rounding of zero flip ReLU
decisions, which the statistics spread over whole tensors), or losses over
the SGD steps drifting beyond 5e-4 (ResNet-50 at 64 x 64 with a batch of 4
drifts by 1-3% at any learning rate, so it runs step 0 only).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nn_models import build  # noqa: E402

out, arch, size, batch, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.manual_seed(7)
torch.set_num_threads(2)
HEADS = [("fc", 10), ("aux", 7)]

init = build(arch, HEADS)
is_bottleneck = any(k.endswith("bn3.weight") for k in init.state())
with torch.no_grad():
    for name, mod in init.named_modules():
        if isinstance(mod, nn.BatchNorm2d):
            last = name.endswith("downsample.1") or name.endswith("bn3") or (name.endswith("bn2") and not is_bottleneck)
            mod.weight.copy_((0.3 if last else 1) + 0.1 * torch.randn_like(mod.weight))
            mod.bias.copy_((0 if last else 0.5) + 0.1 * torch.randn_like(mod.bias))
            mod.running_mean.copy_(0.1 * torch.randn_like(mod.running_mean))
            mod.running_var.copy_(1 + 0.1 * torch.randn_like(mod.running_var).abs())
x = torch.randn(batch, 3, size, size).float()
labels = torch.randint(0, 10, (batch,))
targets = torch.softmax(torch.randn(batch, 7) * 2, 1).float()


def save(name, t):
    path = os.path.join(out, name + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, t.detach().cpu().numpy() if torch.is_tensor(t) else t)


def engine_name(k):
    return k[len("net."):] if k.startswith("net.") else k


def copy_of(dtype, train):
    m = build(arch, HEADS)
    m.load_state_dict(init.state_dict())
    return m.to(dtype).train(train)


def forward_loss(model, dtype):
    f = model.features(x.to(dtype))
    head = model.net.fc if hasattr(model, "net") else model.fc
    logits = [head(f), model.aux(f)]
    loss = F.cross_entropy(logits[0], labels) + 0.5 * F.cross_entropy(logits[1], targets.to(dtype))
    return f, logits, loss


def save_step(prefix, model, f, logits, loss):
    save(prefix + "features", f)
    save(prefix + "logits_fc", logits[0])
    save(prefix + "loss", np.array([loss.item()]))
    for k, p in model.named_parameters():
        save(prefix + "grads/" + engine_name(k), p.grad)


for k, v in init.state().items():
    save("params/" + k, v.float())
save("x", x)
save("labels", labels.numpy().astype(np.int32))
save("targets", targets)

m = copy_of(torch.float64, False)
f, logits, loss = forward_loss(m, torch.float64)
loss.backward()
save_step("eval/", m, f, logits, loss)

m32 = copy_of(torch.float32, True)
forward_loss(m32, torch.float32)[2].backward()
grads32 = {k: p.grad.double() for k, p in m32.named_parameters()}

def sgd_run(dtype, record):
    """STEPS steps of SGD; with record, saves step 0 and the final eval logits. Returns the losses."""
    model = copy_of(dtype, True)
    head_ids = {id(p) for k, p in model.named_parameters() if engine_name(k).split(".")[0] in ("fc", "aux")}
    opt = torch.optim.SGD([{"params": [p for p in model.parameters() if id(p) not in head_ids]},
                           {"params": [p for p in model.parameters() if id(p) in head_ids], "lr": 0.02}],
                          lr=0.002, momentum=0.9, nesterov=True, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 6], gamma=0.1)
    losses = []
    for step in range(max(steps, 1)):
        opt.zero_grad()
        f, logits, loss = forward_loss(model, dtype)
        loss.backward()
        losses.append(loss.item())
        if step == 0 and record:
            save_step("", model, f, logits, loss)
            save("logits_aux", logits[1])
            for k, v in model.state().items():
                if "running" in k:
                    save("after/" + k, v)
            worst = max(((grads32[k] - p.grad).norm() / p.grad.norm()).item() for k, p in model.named_parameters())
            save("grads32_worst", np.array([worst]))
            print("torch float32 vs float64, train-mode gradients: largest relative difference in norm %.2e" % worst)
            if worst > 3e-2:
                sys.exit("ill-conditioned setting: torch's float32 gradients differ from float64 by %.2e" % worst)
        if steps == 0:
            break
        opt.step()
        sched.step()
    if steps and record:
        save("losses", np.array(losses))
        model.eval()
        with torch.no_grad():
            save("eval_logits_fc", forward_loss(model, dtype)[1][0])
    return np.array(losses)


losses = sgd_run(torch.float64, True)
if steps:
    # the 10-step test is meaningful only where torch's own float32 run tracks float64
    drift = np.abs(sgd_run(torch.float32, False) - losses).max() / losses.max()
    print("torch float32 vs float64 over %d SGD steps: largest relative loss difference %.2e" % (steps, drift))
    if drift > 5e-4:
        sys.exit("chaotic setting: torch's float32 losses drift %.2e from float64" % drift)
