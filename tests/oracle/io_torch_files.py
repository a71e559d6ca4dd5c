"""Writes stand-ins for the PyTorch weight files uotft reads, and what torch itself reads from them
(run with Debian's /usr/bin/python3: torch 1.13).

usage: io_torch_files.py OUT

The real files cannot be downloaded here, so random-init state dicts with torchvision's names and shapes
are saved in each format torch.save has used:
  resnet18-zip.pth      zip (torch >= 1.6), like resnet18-f37072fd.pth; full ResNet-18 shapes. As in the
                        real file (re-saved from the 2017 one), BatchNorm has no num_batches_tracked.
  resnet18-legacy.pth   _use_new_zipfile_serialization=False: magic number, pickles, raw storages.
  resnet18-tar.pth      the tar format of torch < 0.4 (resnet18-5c106cde.pth, resnet50-19c8e357.pth),
                        written here by hand the way Python 2's torch did, and checked by loading it
                        with torch 1.13.
  resnet50-zip.pth      full ResNet-50 shapes, like resnet50-0676ba61.pth.
  moco-legacy.pth.tar   MoCo v2 checkpoint {epoch, arch, state_dict, optimizer} with module.encoder_q.*,
                        module.encoder_k.* (ResNet-50 at 1/4 width plus the fc.0/fc.2 MLP), module.queue,
                        module.queue_ptr and an SGD state with momentum buffers; legacy format like the
                        real file (saved by torch 1.4), and moco-zip.pth.tar in the zip format.
  extras-{zip,legacy}.pth, extras-tar.pth: float16, bfloat16, float64, int32, uint8, bool, 0-d, empty,
                        transposed, sliced (storage offset), expanded (stride 0) tensors, shared storages,
                        a storage view (tar), nested keys and a key holding dots.
  bad/:                 a zip missing one storage record, zips whose data.pkl carries os.system or
                        builtins.eval.
OUT/cases.tsv lists file, key, prefix ("-" for none) and reference; each reference <ref>.ref.tsv holds, per tensor
in the file's order, name, dtype, shape and the sha256 of its contiguous bytes as torch.load returns them
(float16/bfloat16 as float32; int16, int8, uint8, bool as int32).
"""
import collections
import hashlib
import io
import os
import pickle
import shutil
import struct
import sys
import tarfile
import zipfile

import torch

out = sys.argv[1]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(os.path.join(out, "bad"))
gen = torch.Generator().manual_seed(2022)


def randn(*shape):
    return torch.randn(*shape, generator=gen)


def resnet(arch, div=1, batches_tracked=True, prefix=""):
    """A torchvision ResNet state dict (names and order of torchvision.models.resnet), channels / div."""
    sd = collections.OrderedDict()
    w = lambda c: max(1, c // div)

    def conv(name, cout, cin, k):
        sd[prefix + name + ".weight"] = randn(cout, cin, k, k) * (2.0 / (cin * k * k)) ** 0.5

    def bn(name, c):
        sd[prefix + name + ".weight"] = 1 + 0.1 * randn(c)
        sd[prefix + name + ".bias"] = 0.1 * randn(c)
        sd[prefix + name + ".running_mean"] = 0.1 * randn(c)
        sd[prefix + name + ".running_var"] = 0.5 + torch.rand(c, generator=gen)
        if batches_tracked:
            sd[prefix + name + ".num_batches_tracked"] = torch.tensor(12345)

    basic = arch == "resnet18"
    blocks, exp = ([2, 2, 2, 2], 1) if basic else ([3, 4, 6, 3], 4)
    conv("conv1", w(64), 3, 7)
    bn("bn1", w(64))
    inplanes = w(64)
    for i, (planes, n) in enumerate(zip([64, 128, 256, 512], blocks)):
        planes = w(planes)
        for b in range(n):
            pre = "layer%d.%d" % (i + 1, b)
            stride = 2 if b == 0 and i > 0 else 1
            if basic:
                conv(pre + ".conv1", planes, inplanes, 3), bn(pre + ".bn1", planes)
                conv(pre + ".conv2", planes, planes, 3), bn(pre + ".bn2", planes)
            else:
                conv(pre + ".conv1", planes, inplanes, 1), bn(pre + ".bn1", planes)
                conv(pre + ".conv2", planes, planes, 3), bn(pre + ".bn2", planes)
                conv(pre + ".conv3", planes * exp, planes, 1), bn(pre + ".bn3", planes * exp)
            if b == 0 and (stride != 1 or inplanes != planes * exp):
                conv(pre + ".downsample.0", planes * exp, inplanes, 1), bn(pre + ".downsample.1", planes * exp)
            inplanes = planes * exp
    return sd, inplanes


def moco():
    """main_moco.py's checkpoint of a MoCo v2 model wrapped in DistributedDataParallel."""
    sd = collections.OrderedDict()
    for enc in ("encoder_q", "encoder_k"):
        part, dim = resnet("resnet50", div=4, prefix="module.%s." % enc)
        sd.update(part)
        sd["module.%s.fc.0.weight" % enc] = 0.02 * randn(dim, dim)
        sd["module.%s.fc.0.bias" % enc] = 0.02 * randn(dim)
        sd["module.%s.fc.2.weight" % enc] = 0.02 * randn(128, dim)
        sd["module.%s.fc.2.bias" % enc] = 0.02 * randn(128)
    sd["module.queue"] = torch.nn.functional.normalize(randn(128, 4096), dim=0)
    sd["module.queue_ptr"] = torch.tensor([256])
    q = [v for k, v in sd.items() if k.startswith("module.encoder_q") and v.is_floating_point()]
    params = [torch.nn.Parameter(v.clone()) for v in q]
    opt = torch.optim.SGD(params, lr=0.03, momentum=0.9, weight_decay=1e-4)
    for p in params:
        p.grad = 0.01 * randn(*p.shape)
    opt.step()
    return {"epoch": 800, "arch": "resnet50", "state_dict": sd, "optimizer": opt.state_dict()}


def extras():
    base = randn(6, 5)
    halves = randn(3, 4).half()
    d = collections.OrderedDict()
    d["half"] = halves
    d["half_t"] = halves.t()  # shares the storage, transposed
    d["bf16"] = randn(5).bfloat16()
    d["f64"] = randn(2, 3).double()
    d["i32"] = torch.arange(-3, 3, dtype=torch.int32)
    d["u8"] = torch.arange(250, 256, dtype=torch.uint8)
    d["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    d["i16"] = torch.tensor([-32768, 1, 32767], dtype=torch.int16)
    d["bool"] = torch.tensor([True, False, True])
    d["scalar"] = torch.tensor(2.5)
    d["long_scalar"] = torch.tensor(7)
    d["empty"] = torch.zeros(0, 3)
    d["transposed"] = base.t()
    d["slice"] = base[2:5, 1:4]  # storage offset 11, strides (5, 1)
    d["column"] = base[:, 3]
    d["expanded"] = randn(3, 1).expand(3, 4)  # stride 0
    d["param"] = torch.nn.Parameter(randn(2, 2))  # _rebuild_parameter
    d["not_a_tensor"] = 3
    return {"extras": d, "outer": {"inner": {"w": base}}, "dotted.key": {"v": base[1]}}


# ---- the tar format of torch < 0.4, written as Python 2's torch.save did ----

class Py2Pickle:
    """Protocol 2 the way Python 2 wrote it: str as SHORT_BINSTRING, ints beyond 32 bits as INT text."""

    def __init__(self):
        self.b = bytearray(b"\x80\x02")
        self.memo = 0

    def put(self):
        self.b += b"q" + bytes([self.memo]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)
        self.memo += 1

    def int(self, v):
        if 0 <= v < 256:
            self.b += b"K" + bytes([v])
        elif 0 <= v < 65536:
            self.b += b"M" + struct.pack("<H", v)
        elif -2**31 <= v < 2**31:
            self.b += b"J" + struct.pack("<i", v)
        else:
            self.b += b"I%d\n" % v

    def str(self, s):
        s = s.encode()
        self.b += (b"U" + bytes([len(s)]) if len(s) < 256 else b"T" + struct.pack("<i", len(s))) + s
        self.put()

    def glob(self, module, name):
        self.b += b"c%s\n%s\n" % (module.encode(), name.encode())
        self.put()

    def op(self, code):
        self.b += code

    def done(self):
        return bytes(self.b + b".")


def py2_int(v):
    p = Py2Pickle()
    p.int(v)
    return p.done()


STORAGE = {torch.float32: "Float", torch.float64: "Double", torch.float16: "Half", torch.int64: "Long",
           torch.int32: "Int", torch.uint8: "Byte", torch.int8: "Char", torch.int16: "Short"}


def save_tar(state, path, view=None):
    """state: an OrderedDict of tensors. Storages are keyed by large made-up ids (Python 2's id()); tensors
    that share a storage keep sharing it. view = (tensor name, offset, numel): that tensor's storage is
    written as a view of its root storage (the storage_views list)."""
    storage_ids, storages, tensors = {}, [], []
    for i, (name, t) in enumerate(state.items()):
        s = t.storage()
        if s.data_ptr() not in storage_ids:
            storage_ids[s.data_ptr()] = 140000000000000 + 64 * len(storage_ids)
            storages.append((storage_ids[s.data_ptr()], s))
        tensors.append((139000000000000 + 48 * i, storage_ids[s.data_ptr()], t))
    views = []
    if view:
        name, off, numel = view
        idx = list(state).index(name)
        tkey, root, t = tensors[idx]
        vkey = 141000000000000
        views.append((vkey, root, off, numel))
        tensors[idx] = (tkey, vkey, t)

    main = Py2Pickle()
    main.glob("collections", "OrderedDict")
    main.op(b"]"), main.put(), main.op(b"(")
    for (name, t), (tkey, _, _) in zip(state.items(), tensors):
        main.op(b"]"), main.put(), main.op(b"(")
        main.str(name)
        main.str(str(tkey)), main.op(b"Q")
        main.op(b"e")
    main.op(b"e\x85"), main.put(), main.op(b"R"), main.put()

    tens = bytearray(py2_int(len(tensors)))
    for tkey, skey, t in tensors:
        p = Py2Pickle()
        p.int(tkey), p.int(skey), p.glob("torch", STORAGE[t.dtype] + "Tensor"), p.op(b"\x87"), p.put()
        tens += p.done()
        offset = t.storage_offset() - (views[0][2] if views and skey == views[0][0] else 0)
        tens += struct.pack("<q", t.dim()) + struct.pack("<%dq" % t.dim(), *t.shape)
        tens += struct.pack("<%dq" % t.dim(), *t.stride()) + struct.pack("<q", offset)

    stor = bytearray(py2_int(len(storages)))
    for key, s in storages:
        p = Py2Pickle()
        p.int(key), p.str("cpu"), p.glob("torch", STORAGE[s.dtype] + "Storage"), p.op(b"\x87"), p.put()
        raw = torch.empty(0, dtype=s.dtype).set_(s).view(torch.uint8).numpy().tobytes()
        stor += p.done() + struct.pack("<q", s.size()) + raw
    p = Py2Pickle()  # storage views: [(view key, root key, offset, numel), ...]
    p.op(b"]"), p.put()
    if views:
        p.op(b"(")
        for v in views:
            p.op(b"(")
            for x in v:
                p.int(x)
            p.op(b"t"), p.put()
        p.op(b"e")
    stor += p.done()

    members = [("sys_info", pickle.dumps({"protocol_version": 1001, "little_endian": True,
                                          "type_sizes": {"short": 2, "int": 4, "long": 8}}, protocol=2)),
               ("pickle", main.done()), ("tensors", bytes(tens)), ("storages", bytes(stor))]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


# ---- references: what torch.load returns ----

WIDEN = {torch.float16: torch.float32, torch.bfloat16: torch.float32, torch.int16: torch.int32,
         torch.int8: torch.int32, torch.uint8: torch.int32, torch.bool: torch.int32}


def reference(path, key, prefix):
    obj = torch.load(path)
    rest = key
    while rest:  # at each level the longest key that matches (str, or int for optimizer states)
        cut = len(rest)
        while cut > 0:
            k = rest[:cut]
            k = int(k) if k not in obj and k.isdigit() else k
            if k in obj:
                break
            cut = rest.rfind(".", 0, cut)
        assert cut > 0, (path, key)
        obj, rest = obj[k], rest[cut + 1:]
    lines = ["name\tdtype\tshape\tsha256\n"]
    for name, t in obj.items():
        if not (isinstance(name, str) and isinstance(t, torch.Tensor) and name.startswith(prefix)):
            continue
        t = t.detach().to(WIDEN.get(t.dtype, t.dtype)).contiguous()
        data = t.numpy().tobytes()
        lines.append("%s\t%s\t%s\t%s\n" % (name[len(prefix):], str(t.dtype).replace("torch.", ""),
                                            str(tuple(t.shape)), hashlib.sha256(data).hexdigest()))
    return "".join(lines)


def save(obj, name, legacy=False):
    path = os.path.join(out, name)
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


cases = []


def case(path, key, prefix, ref):
    """A file to read with key and prefix; files saved from the same object share a reference, and
    torch.load must read the same tensors from each (this checks the hand-written tar files)."""
    refpath = os.path.join(out, ref + ".ref.tsv")
    text = reference(path, key, prefix)
    if any(c[3] == os.path.basename(refpath) for c in cases):
        if open(refpath).read() != text:
            sys.exit("io_torch_files: torch.load reads %s differently from the other %s files" % (path, ref))
    else:
        with open(refpath, "w") as f:
            f.write(text)
    cases.append((os.path.basename(path), key or "-", prefix or "-", os.path.basename(refpath)))


r18, _ = resnet("resnet18", batches_tracked=False)
r18["fc.weight"], r18["fc.bias"] = 0.01 * randn(1000, 512), 0.01 * randn(1000)
for fmt in ("zip", "legacy"):
    case(save(r18, "resnet18-%s.pth" % fmt, legacy=fmt == "legacy"), "", "", "resnet18")
save_tar(r18, os.path.join(out, "resnet18-tar.pth"))
case(os.path.join(out, "resnet18-tar.pth"), "", "", "resnet18")

r50, _ = resnet("resnet50", batches_tracked=False)
r50["fc.weight"], r50["fc.bias"] = 0.01 * randn(1000, 2048), 0.01 * randn(1000)
case(save(r50, "resnet50-zip.pth"), "", "", "resnet50")

ck = moco()
for fmt in ("legacy", "zip"):
    path = save(ck, "moco-%s.pth.tar" % fmt, legacy=fmt == "legacy")
    case(path, "state_dict", "module.encoder_q.", "moco-q")
    case(path, "state_dict", "", "moco-all")
    case(path, "optimizer.state.0", "", "moco-opt0")

ex = extras()
for fmt in ("zip", "legacy"):
    path = save(ex, "extras-%s.pth" % fmt, legacy=fmt == "legacy")
    case(path, "extras", "", "extras")
    case(path, "outer.inner", "", "extras-inner")
    case(path, "dotted.key", "", "extras-dotted")
tar_state = collections.OrderedDict((k, v) for k, v in ex["extras"].items()
                                    if isinstance(v, torch.Tensor) and v.dtype != torch.bfloat16 and v.dtype != torch.bool)
tar_state["tail"] = torch.arange(10.0)[4:]  # on a storage view (offset 4, numel 6)
tar = os.path.join(out, "extras-tar.pth")
save_tar(tar_state, tar, view=("tail", 4, 6))
case(tar, "", "", "extras-tar")

# ---- damaged and hostile files ----
zin = zipfile.ZipFile(os.path.join(out, "resnet18-zip.pth"))
names = zin.namelist()
with zipfile.ZipFile(os.path.join(out, "bad", "missing-member.pth"), "w") as zout:
    for n in names:
        if not n.endswith("/data/3"):
            zout.writestr(n, zin.read(n))
marker = os.path.join(out, "bad", "PWNED")
hostile = {
    "os-system.pth": b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len("touch " + marker)) +
                     ("touch " + marker).encode() + b"\x85R.",
    "builtins-eval.pth": b"\x80\x02cbuiltins\neval\nX" + struct.pack("<I", len("open(%r,'w')" % marker)) +
                         ("open(%r,'w')" % marker).encode() + b"\x85R.",
}
for name, pkl in hostile.items():
    with zipfile.ZipFile(os.path.join(out, "bad", name), "w") as zout:
        for n in names:
            zout.writestr(n, pkl if n.endswith("/data.pkl") else zin.read(n))

with open(os.path.join(out, "cases.tsv"), "w") as f:
    f.write("file\tkey\tprefix\tref\n")
    for c in cases:
        f.write("\t".join(c) + "\n")
print("io_torch_files: %d cases" % len(cases))
