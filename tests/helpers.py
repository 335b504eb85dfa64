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

def tv_model(name, gen, num_classes=10):
    "A seeded torchvision classifier `name` in eval mode, BatchNorm statistics randomized from `gen`."
    import torchvision
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)(num_classes=num_classes)
    randomize_bn(m, gen)
    return m.eval()

def spread_logits(model, x, std=4.0):
    "Scale the last Linear so that the logits on `x` spread (std ~4 across classes): near-uniform probabilities would pass anything."
    with torch.no_grad():
        fc = [l for l in model.modules() if isinstance(l, nn.Linear)][-1]
        k = std / model(x).std(1).mean().item()
        fc.weight.mul_(k)
        if fc.bias is not None: fc.bias.mul_(k)
    return model
