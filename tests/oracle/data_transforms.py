"""The transforms against torchvision 0.14 and Pillow on the same images: Resize(256) + CenterCrop(224)
within 1/255 mean absolute difference (the issue's bound; the maximum is reported), resized crops
at sampled parameters, ToTensor + Normalize, each RandAugment op as FixMatch's RandAugmentMC
defines it with PIL, whole RandAugment plans through their sampled parameters, and the
RandomResizedCrop sampler's distribution against torchvision's get_params.
usage: data_transforms.py TEST_DATA_TRANSFORM OUTDIR"""
import os
import subprocess
import sys

import numpy as np
import PIL.ImageDraw
import PIL.ImageEnhance
import PIL.ImageOps
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

HELPER, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(9)
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg, file=sys.stderr)


def image(w, h, name, fmt="JPEG"):
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 7) % 256], -1).astype(np.uint8)
    a = np.clip(a.astype(int) + rng.integers(-40, 40, a.shape), 0, 255).astype(np.uint8)
    p = os.path.join(OUT, name)
    Image.fromarray(a).save(p, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return p


def load(p):
    return np.asarray(Image.open(p).convert("RGB"), dtype=np.int16)


imgs = [image(500, 375, "a.jpg"), image(333, 500, "b.jpg"), image(224, 224, "c.png", "PNG"), image(97, 61, "d.png", "PNG"),
        image(256, 180, "e.jpg")]
plan, checks = [], []

# 1. Resize(256) and CenterCrop(224), separately and chained
for i, p in enumerate(imgs):
    r = os.path.join(OUT, f"r{i}.png")
    plan.append(f"resize_shorter {p} 256 {r}")
    checks.append((r, F.resize(Image.open(p).convert("RGB"), 256), f"Resize(256) {os.path.basename(p)}"))
    c = os.path.join(OUT, f"c{i}.png")
    plan.append(f"center_crop {r} 224 {c}")
    checks.append((c, F.center_crop(F.resize(Image.open(p).convert("RGB"), 256), 224), f"Resize+CenterCrop {p}"))
c = os.path.join(OUT, "small_crop.png")
plan.append(f"center_crop {imgs[3]} 80 {c}")  # 97x61: padded vertically
checks.append((c, F.center_crop(Image.open(imgs[3]).convert("RGB"), 80), "CenterCrop larger than the image"))

# 2. resized crops at given parameters (what RandomResizedCrop applies once sampled)
for k, (t, l, h, w) in enumerate([(10, 20, 200, 300), (0, 0, 375, 500), (100, 37, 31, 29), (300, 400, 75, 100)]):
    o = os.path.join(OUT, f"rc{k}.png")
    plan.append(f"resized_crop {imgs[0]} {t} {l} {h} {w} 224 {o}")
    checks.append((o, F.resized_crop(Image.open(imgs[0]).convert("RGB"), t, l, h, w, [224, 224]), f"resized_crop {k}"))

# 3. RandAugment ops, FixMatch's definitions on PIL
def fm(op, img, v, neg):
    fv9, fv3 = float(v) * 0.9 / 10 + 0.05, float(v) * 0.3 / 10
    s = -1 if neg else 1
    if op == "AutoContrast": return PIL.ImageOps.autocontrast(img)
    if op == "Brightness": return PIL.ImageEnhance.Brightness(img).enhance(fv9)
    if op == "Color": return PIL.ImageEnhance.Color(img).enhance(fv9)
    if op == "Contrast": return PIL.ImageEnhance.Contrast(img).enhance(fv9)
    if op == "Equalize": return PIL.ImageOps.equalize(img)
    if op == "Identity": return img
    if op == "Posterize": return PIL.ImageOps.posterize(img, int(v * 4 / 10) + 4)
    if op == "Rotate": return img.rotate(s * int(v * 30 / 10))
    if op == "Sharpness": return PIL.ImageEnhance.Sharpness(img).enhance(fv9)
    if op == "ShearX": return img.transform(img.size, Image.AFFINE, (1, s * fv3, 0, 0, 1, 0))
    if op == "ShearY": return img.transform(img.size, Image.AFFINE, (1, 0, 0, s * fv3, 1, 0))
    if op == "Solarize": return PIL.ImageOps.solarize(img, 256 - int(v * 256 / 10))
    if op == "TranslateX": return img.transform(img.size, Image.AFFINE, (1, 0, int(s * fv3 * img.size[0]), 0, 1, 0))
    if op == "TranslateY": return img.transform(img.size, Image.AFFINE, (1, 0, 0, 0, 1, int(s * fv3 * img.size[1])))
    raise ValueError(op)


OPS = ["AutoContrast", "Brightness", "Color", "Contrast", "Equalize", "Identity", "Posterize", "Rotate", "Sharpness",
       "ShearX", "ShearY", "Solarize", "TranslateX", "TranslateY"]
exact = []
for op in OPS:
    for v, neg, src in ((1, 0, imgs[2]), (5, 1, imgs[4]), (9, 0, imgs[3]), (7, 1, imgs[2])):
        o = os.path.join(OUT, f"ra_{op}_{v}_{neg}.png")
        plan.append(f"ra {src} {op} {v} {neg} {o}")
        exact.append((o, fm(op, Image.open(src).convert("RGB"), v, neg), f"{op} v={v} negate={neg} on {os.path.basename(src)}"))

# 4. whole RandAugment plans: our sampled parameters replayed with PIL
ra_lines = []
for s in range(12):
    o = os.path.join(OUT, f"plan{s}.png")
    plan.append(f"randaug {imgs[2]} 5 {s % 3} {s} {o}")
    ra_lines.append(o)

# 5. ToTensor + Normalize
plan.append(f"tensor {imgs[3]} {os.path.join(OUT, 't.npy')}")

# 6. RandomResizedCrop parameters, 2000 draws
for s in range(2000):
    plan.append(f"rrc 500 375 3 0 {s}")

with open(os.path.join(OUT, "plan.txt"), "w") as f:
    f.write("\n".join(plan) + "\n")
r = subprocess.run([HELPER, os.path.join(OUT, "plan.txt")], capture_output=True, text=True)
if r.returncode:
    fail(f"helper failed: {r.stderr}")
lines = r.stdout.splitlines()

worst = 0.0
for path, ref, what in checks:
    got, want = load(path), np.asarray(ref, dtype=np.int16)
    if got.shape != want.shape:
        fail(f"{what}: shape {got.shape} vs torchvision {want.shape}")
        continue
    d = np.abs(got - want)
    worst = max(worst, d.max())
    if d.mean() > 1.0:  # 1/255 of the [0, 1] range
        fail(f"{what}: mean |diff| {d.mean():.4f}/255 above 1/255")
print(f"Resize/CenterCrop/resized_crop: largest pixel difference from torchvision {worst:.0f}/255")
for path, ref, what in exact:
    got, want = load(path), np.asarray(ref, dtype=np.int16)
    if got.shape != want.shape or np.abs(got - want).max() > 0:
        d = np.abs(got - want) if got.shape == want.shape else None
        fail(f"{what}: differs from PIL (max {d.max() if d is not None else 'shape'}, "
             f"{(d > 0).mean() * 100 if d is not None else 0:.2f}% of values)")

for k, o in enumerate(ra_lines):
    f = lines[k].split()
    img = Image.open(imgs[2]).convert("RGB")
    for i in range(2):
        op, v, apply, neg = f[4 * i], int(f[4 * i + 1]), int(f[4 * i + 2]), int(f[4 * i + 3])
        if not 1 <= v <= 9:
            fail(f"magnitude {v} outside 1..9")
        if apply:
            img = fm(op, img, v, neg)
    x0, y0, x1, y1 = map(int, f[8:12])
    img = img.copy()
    PIL.ImageDraw.Draw(img).rectangle((x0, y0, x1, y1), (127, 127, 127))
    if x1 - x0 > 112 or y1 - y0 > 112:
        fail(f"cutout {x0, y0, x1, y1} larger than half the side")
    if np.abs(load(o) - np.asarray(img, dtype=np.int16)).max() > 0:
        fail(f"RandAugment plan {lines[k]}: differs from the same plan in PIL")

t = np.load(os.path.join(OUT, "t.npy"))
ref = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(T.ToTensor()(Image.open(imgs[3]).convert("RGB"))).numpy()
if t.shape != ref.shape or np.abs(t - ref).max() > 1e-6:
    fail(f"ToTensor+Normalize differs by {np.abs(t - ref).max() if t.shape == ref.shape else t.shape}")

ours = np.array([list(map(int, l.split())) for l in lines[len(ra_lines):]])
torch.manual_seed(0)
tv = np.array([T.RandomResizedCrop.get_params(Image.new("RGB", (500, 375)), [0.08, 1.0], [3 / 4, 4 / 3])
               for _ in range(2000)])
for name, a, b in (("area", ours[:, 2] * ours[:, 3] / (500 * 375), tv[:, 2] * tv[:, 3] / (500 * 375)),
                   ("log ratio", np.log(ours[:, 3] / ours[:, 2]), np.log(tv[:, 3] / tv[:, 2])),
                   ("top", ours[:, 0] / 375, tv[:, 0] / 375), ("left", ours[:, 1] / 500, tv[:, 1] / 500)):
    if abs(a.mean() - b.mean()) > 4 * np.sqrt(a.var() / len(a) + b.var() / len(b)) + 1e-9:
        fail(f"RandomResizedCrop {name}: mean {a.mean():.4f} vs torchvision's {b.mean():.4f}")
print(f"data_transforms: {failures} failure(s)")
sys.exit(1 if failures else 0)
