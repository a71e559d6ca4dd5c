"""Reference tensors for the network layers (tests/unit/test_nn_layers.c).

Usage: nn_layers.py OUTDIR

For each case writes OUTDIR/<case>/<tensor>.npy: the float32 inputs, a random
non-uniform upstream gradient g, and torch's float64 outputs and gradients of
sum(out * g) for the inputs and parameters. Layouts are torch's (NCHW).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(3)
torch.set_num_threads(1)
OUT = sys.argv[1]


def f32(*shape, scale=1.0, shift=0.0):
    """Random float32 values, returned as float64 so both sides see the same numbers."""
    return (torch.randn(*shape) * scale + shift).float().double()


def save(case, **tensors):
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    for name, t in tensors.items():
        a = t.detach().numpy() if torch.is_tensor(t) else np.asarray(t)
        if a.dtype == np.float64 and name in ("x", "w", "gamma", "beta", "rmean", "rvar", "add", "b", "targets"):
            a = a.astype(np.float32)  # inputs: exactly the float32 values the reference used
        np.save(os.path.join(d, name + ".npy"), a)


def conv(case, n, c, h, w, k, ks, stride, pad):
    x = f32(n, c, h, w).requires_grad_()
    wt = f32(k, c, ks, ks, scale=(2.0 / (c * ks * ks)) ** 0.5).requires_grad_()
    y = F.conv2d(x, wt, stride=stride, padding=pad)
    g = f32(*y.shape)
    (y * g).sum().backward()
    save(case, x=x, w=wt, g=g, y=y, dx=x.grad, dw=wt.grad,
         dims=np.array([n, c, h, w, k, ks, stride, pad], dtype=np.int64))


def bn(case, n, c, h, w, train, relu, add):
    y = f32(n, c, h, w, scale=1.7, shift=0.4).requires_grad_()
    gamma = f32(c, scale=0.3, shift=1.0).requires_grad_()
    beta = f32(c, scale=0.2).requires_grad_()
    rmean, rvar = f32(c, scale=0.1), f32(c, scale=0.1, shift=1.0).abs()
    a = f32(n, c, h, w).requires_grad_() if add else None
    rm, rv = rmean.clone(), rvar.clone()
    out = F.batch_norm(y, rm, rv, gamma, beta, training=train, momentum=0.1, eps=1e-5)
    if add:
        out = out + a
    if relu:
        out = F.relu(out)
    g = f32(*out.shape)
    (out * g).sum().backward()
    t = dict(x=y, gamma=gamma, beta=beta, rmean=rmean, rvar=rvar, g=g, y=out, dx=y.grad, dgamma=gamma.grad,
             dbeta=beta.grad, rmean_after=rm, rvar_after=rv,
             dims=np.array([n, c, h, w, int(train), int(relu), int(add)], dtype=np.int64))
    if add:
        t.update(add=a, dadd=a.grad)
    save(case, **t)


def maxpool(case, n, c, h, w):
    # after a ReLU: many zeros, so windows with ties exercise torch's choice
    x = F.relu(f32(n, c, h, w)).requires_grad_()
    y = F.max_pool2d(x, 3, 2, 1)
    g = f32(*y.shape)
    (y * g).sum().backward()
    save(case, x=x, g=g, y=y, dx=x.grad, dims=np.array([n, c, h, w], dtype=np.int64))


def avgpool(case, n, c, h, w):
    x = f32(n, c, h, w).requires_grad_()
    y = F.adaptive_avg_pool2d(x, 1).flatten(1)
    g = f32(*y.shape)
    (y * g).sum().backward()
    save(case, x=x, g=g, y=y, dx=x.grad, dims=np.array([n, c, h, w], dtype=np.int64))


def linear(case, n, f, k):
    x = f32(n, f).requires_grad_()
    wt = f32(k, f, scale=f ** -0.5).requires_grad_()
    b = f32(k).requires_grad_()
    y = F.linear(x, wt, b)
    g = f32(n, k)
    (y * g).sum().backward()
    save(case, x=x, w=wt, b=b, g=g, y=y, dx=x.grad, dw=wt.grad, db=b.grad, dims=np.array([n, f, k], dtype=np.int64))


def xent(case, n, k, soft):
    z = f32(n, k, scale=3.0).requires_grad_()
    if soft:
        t = torch.softmax(f32(n, k, scale=2.0), 1).float().double()
        loss = F.cross_entropy(z, t)
        extra = dict(targets=t)
    else:
        t = torch.randint(0, k, (n,))
        loss = F.cross_entropy(z, t)
        extra = dict(labels=t.numpy().astype(np.int32))
    loss.backward()
    save(case, x=z, loss=loss.reshape(1), dx=z.grad, dims=np.array([n, k, int(soft)], dtype=np.int64), **extra)


conv("conv3x3", 2, 5, 9, 9, 7, 3, 1, 1)
conv("conv3x3s2", 3, 4, 9, 8, 6, 3, 2, 1)
conv("conv7x7s2", 2, 3, 15, 15, 8, 7, 2, 3)
conv("conv1x1", 2, 6, 5, 7, 10, 1, 1, 0)
conv("conv1x1s2", 2, 6, 7, 7, 12, 1, 2, 0)
conv("conv3x3tiles", 2, 64, 56, 56, 16, 3, 1, 1)  # several im2col tiles, one crossing images
conv("conv3x3_8px_tiles", 8, 512, 8, 8, 8, 3, 1, 1)  # padding masks, a tile starting mid-image
conv("conv3x3_1px", 3, 5, 1, 1, 4, 3, 1, 1)  # 1 of 9 taps reads the input, the rest only padding
conv("conv3x3s2_2px", 2, 4, 2, 2, 6, 3, 2, 1)  # 4 of 9 taps live
bn("bn_relu", 3, 5, 6, 7, True, True, False)
bn("bn_add_relu", 2, 4, 5, 5, True, True, True)
bn("bn_plain", 4, 3, 3, 2, True, False, False)
bn("bn_eval_relu", 2, 5, 4, 4, False, True, False)
maxpool("maxpool", 2, 3, 11, 10)
avgpool("avgpool", 3, 6, 5, 4)
linear("linear", 5, 12, 7)
xent("xent_hard", 6, 9, False)
xent("xent_soft", 6, 9, True)
