"""torch models with the engine's architecture names and torchvision's
parameter names, shared by the network oracle scripts."""
import torch
import torch.nn as nn
from torchvision.models import resnet
from torchvision.models.resnet import BasicBlock, Bottleneck


class SmallResNet(nn.Module):
    """small:W1,..:B1,..[:bottleneck]: 3x3/1 stem of width W1, no max pool."""

    def __init__(self, widths, blocks, bottleneck, heads):
        super().__init__()
        block = Bottleneck if bottleneck else BasicBlock
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        cin = widths[0]
        for s, (w, b) in enumerate(zip(widths, blocks)):
            layers = []
            for i in range(b):
                stride = 2 if i == 0 and s > 0 else 1
                ds = None
                if stride != 1 or cin != w * block.expansion:
                    ds = nn.Sequential(nn.Conv2d(cin, w * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(w * block.expansion))
                layers.append(block(cin, w, stride, ds))
                cin = w * block.expansion
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*layers))
        self.nstages = len(widths)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.feat_dim = cin
        for name, out in heads:
            setattr(self, name, nn.Linear(cin, out))
        self.head_names = [h[0] for h in heads]
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def features(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for s in range(self.nstages):
            x = getattr(self, "layer%d" % (s + 1))(x)
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x):
        f = self.features(x)
        return [getattr(self, h)(f) for h in self.head_names]


class TorchvisionHeads(nn.Module):
    """torchvision's resnetXX (its fc is the first head) with extra linear heads."""

    def __init__(self, arch, heads):
        super().__init__()
        self.net = getattr(resnet, arch)(weights=None, num_classes=heads[0][1])
        self.head_names = [h[0] for h in heads]
        for name, out in heads[1:]:
            setattr(self, name, nn.Linear(self.net.fc.in_features, out))

    def features(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        return torch.flatten(n.avgpool(x), 1)

    def forward(self, x):
        f = self.features(x)
        return [self.net.fc(f)] + [getattr(self, h)(f) for h in self.head_names[1:]]

    def state(self):
        """state_dict with the engine's names (torchvision's, heads at top level)."""
        sd = {k[len("net."):] if k.startswith("net.") else k: v for k, v in self.state_dict().items()}
        return {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}


def arch_of(sd):
    """The engine's architecture name for a ResNet state dict."""
    stages = sorted({int(k.split(".")[0][5:]) for k in sd if k.startswith("layer")})
    blocks = [len({k.split(".")[1] for k in sd if k.startswith("layer%d." % s)}) for s in stages]
    bottleneck = "layer1.0.conv3.weight" in sd
    if sd["conv1.weight"].shape[-1] == 7:
        names = {(False, (2, 2, 2, 2)): "resnet18", (False, (3, 4, 6, 3)): "resnet34",
                 (True, (3, 4, 6, 3)): "resnet50", (True, (3, 4, 23, 3)): "resnet101"}
        return names[(bottleneck, tuple(blocks))]
    widths = [sd["layer%d.0.conv1.weight" % s].shape[0] for s in stages]
    return "small:%s:%s%s" % (",".join(map(str, widths)), ",".join(map(str, blocks)),
                              ":bottleneck" if bottleneck else "")


def build(arch, heads):
    """heads: [(name, outputs)]; for torchvision archs the first must be ('fc', n)."""
    if arch.startswith("small:"):
        parts = arch.split(":")
        m = SmallResNet([int(v) for v in parts[1].split(",")], [int(v) for v in parts[2].split(",")],
                        len(parts) > 3 and parts[3] == "bottleneck", heads)
        m.state = lambda: {k: v for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
        return m
    return TorchvisionHeads(arch, heads)
