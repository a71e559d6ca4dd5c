"""torch.save files of whole ResNets and what torch computes from them, for
tests/unit/test_nn_weights.c and tests/cli/nn_forward.sh.

Usage: nn_weights.py OUT

Random-init torchvision models (BatchNorm with trained-like values), saved as
torchvision's state dicts would be, and a MoCo v2 checkpoint:
  resnet18-zip.pth, resnet18-legacy.pth   zip and _use_new_zipfile_serialization=False
  resnet50-zip.pth
  moco-legacy.pth.tar   {epoch, arch, state_dict, optimizer}: state_dict holds
                        module.encoder_q.* (ResNet-50 with the fc.0/fc.2 MLP head),
                        some module.encoder_k.*, module.queue, module.queue_ptr
  x.npy                 (2, 3, 64, 64) float32 images
  <model>_logits.npy, <model>_features.npy     eval mode, float64 (model resnet18, resnet50)
  moco_mlp.npy, moco_features.npy              the 128-d head output and the 2048-d feature
  bad/truncated.pth     the first half of resnet18-zip.pth
  bad/shape.pth         resnet18 with layer1.0.conv1.weight of shape (64, 64, 1, 1)
"""
import collections
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models import resnet18, resnet50

out = sys.argv[1]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(os.path.join(out, "bad"))
torch.manual_seed(11)
torch.set_num_threads(2)


def trained_bn(model):
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.copy_(1 + 0.1 * torch.randn_like(mod.weight))
                mod.bias.copy_(0.1 * torch.randn_like(mod.bias))
                mod.running_mean.copy_(0.1 * torch.randn_like(mod.running_mean))
                mod.running_var.copy_(1 + 0.1 * torch.randn_like(mod.running_var).abs())
    return model.eval()


x = torch.randn(2, 3, 64, 64)
np.save(os.path.join(out, "x.npy"), x.numpy())


def features(model, x):
    m = model
    h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    return torch.flatten(m.avgpool(m.layer4(m.layer3(m.layer2(m.layer1(h))))), 1)


for name, build in (("resnet18", resnet18), ("resnet50", resnet50)):
    model = trained_bn(build(weights=None))
    torch.save(model.state_dict(), os.path.join(out, name + "-zip.pth"))
    if name == "resnet18":
        torch.save(model.state_dict(), os.path.join(out, name + "-legacy.pth"), _use_new_zipfile_serialization=False)
        sd = model.state_dict()
        sd["layer1.0.conv1.weight"] = torch.randn(64, 64, 1, 1)
        torch.save(sd, os.path.join(out, "bad", "shape.pth"))
    with torch.no_grad():
        d = model.double()
        np.save(os.path.join(out, name + "_logits.npy"), d(x.double()).numpy())
        np.save(os.path.join(out, name + "_features.npy"), features(d, x.double()).numpy())

with open(os.path.join(out, "resnet18-zip.pth"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "bad", "truncated.pth"), "wb") as f:
    f.write(data[: len(data) // 2])

# MoCo v2: encoder_q is a ResNet-50 whose fc is the MLP Linear(2048, 2048) -> ReLU -> Linear(2048, 128)
q = trained_bn(resnet50(weights=None))
q.fc = nn.Sequential(nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 128))
q.eval()
sd = collections.OrderedDict(("module.encoder_q." + k, v) for k, v in q.state_dict().items())
sd["module.encoder_k.conv1.weight"] = torch.randn(64, 3, 7, 7)
sd["module.encoder_k.fc.2.bias"] = torch.randn(128)
sd["module.queue"] = torch.randn(128, 4096)
sd["module.queue_ptr"] = torch.zeros(1, dtype=torch.long)
opt = torch.optim.SGD(q.parameters(), lr=0.03, momentum=0.9, weight_decay=1e-4)
torch.save({"epoch": 800, "arch": "resnet50", "state_dict": sd, "optimizer": opt.state_dict()},
           os.path.join(out, "moco-legacy.pth.tar"), _use_new_zipfile_serialization=False)
with torch.no_grad():
    d = q.double()
    f = features(d, x.double())
    np.save(os.path.join(out, "moco_features.npy"), f.numpy())
    np.save(os.path.join(out, "moco_mlp.npy"), d.fc(f).numpy())
