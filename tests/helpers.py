"Helpers shared by the test modules (seeded models whose outputs are far from trivial)."
import torch
from torch import nn

def randomize_bn(m, gen):
    "Give every BatchNorm of `m` seeded non-trivial statistics and affine parameters (from generator `gen`)."
    for b in m.modules():
        if isinstance(b, nn.modules.batchnorm._BatchNorm):
            n = b.num_features
            b.running_mean.copy_(torch.randn(n, generator=gen) * 0.1); b.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            b.weight.data.copy_(torch.rand(n, generator=gen) + 0.5); b.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)
