"""torch.optim.SGD and MultiStepLR on random tensors, for tests/unit/test_nn_sgd.c.

Usage: nn_sgd.py OUT

Three float32 tensors: t0 and t1 in the backbone group, t2 in the heads group
at 10x the learning rate; t1 without weight decay (its own torch group, same
lr). Six steps with random gradients, MultiStepLR(milestones 2, 4, gamma 0.1)
stepped after each. Configurations (OUT/<c>/):
  nesterov   momentum 0.9, Nesterov, weight decay 0.01
  dampening  momentum 0.9, dampening 0.3, weight decay 0.01
  plain      no momentum, weight decay 0.01
Files: t<i>.npy (initial), g<s>_<i>.npy (gradient at step s), w<s>_<i>.npy
(the tensor after step s).
"""
import os
import sys

import numpy as np
import torch

out = sys.argv[1]
gen = torch.Generator().manual_seed(5)
shapes = [(4, 3), (7,), (2, 5)]
init = [torch.randn(*s, generator=gen) for s in shapes]
grads = [[torch.randn(*s, generator=gen) for s in shapes] for _ in range(6)]
configs = {"nesterov": dict(momentum=0.9, nesterov=True), "dampening": dict(momentum=0.9, dampening=0.3),
           "plain": dict(momentum=0.0)}
for name, kw in configs.items():
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    t = [x.clone().requires_grad_() for x in init]
    opt = torch.optim.SGD([{"params": [t[0]]}, {"params": [t[1]], "weight_decay": 0.0},
                           {"params": [t[2]], "lr": 0.5}], lr=0.05, weight_decay=0.01, **kw)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
    for i, x in enumerate(init):
        np.save(os.path.join(d, "t%d.npy" % i), x.numpy())
    for s in range(6):
        for i in range(3):
            t[i].grad = grads[s][i].clone()
            np.save(os.path.join(d, "g%d_%d.npy" % (s, i)), grads[s][i].numpy())
        opt.step()
        sched.step()
        for i in range(3):
            np.save(os.path.join(d, "w%d_%d.npy" % (s, i)), t[i].detach().numpy())
