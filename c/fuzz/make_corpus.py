"""Write the fuzz seed corpora (c/fuzz/corpus/) with the exporter: small valid model files of every kind
(f32, dq8 symmetric and asymmetric, sq8) for several architectures in miniature (VGG-, ResNet-,
MobileNet-, SqueezeNet/DenseNet-style and the odd ops), the CLI inputs built from them, and a few
folder-tree inputs for the data target. Run from anywhere: `python c/fuzz/make_corpus.py`
(`make -C c/fuzz corpus`). The files stay a few KB each: the fuzzers mutate them, a big seed only
slows every execution."""
import struct, sys, tempfile, zlib
from pathlib import Path
import numpy as np
import torch, torch.nn as nn
from tinyruntime.export import export_model
from tinyruntime.format import model_bytes, read_model_bytes
from tinyruntime.quantize import export_model_dq8, export_model_sq8

HERE = Path(__file__).resolve().parent

class Vgg(nn.Module):
    "conv/BN/ReLU stacks, max pools, dropout, two linears"
    def __init__(s):
        super().__init__()
        s.f = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        s.c = nn.Sequential(nn.Flatten(), nn.Linear(6 * 2 * 2, 8), nn.ReLU(), nn.Dropout(), nn.Linear(8, 3))
    def forward(s, x): return s.c(s.f(x))

class Res(nn.Module):
    "a basic residual block with a strided 1x1 shortcut, adaptive average pool"
    def __init__(s):
        super().__init__()
        s.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        s.a = nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                            nn.Conv2d(6, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6))
        s.sc = nn.Sequential(nn.Conv2d(4, 6, 1, stride=2, bias=False), nn.BatchNorm2d(6))
        s.fc = nn.Linear(6, 4)
    def forward(s, x):
        x = s.stem(x)
        x = torch.relu(s.a(x) + s.sc(x))
        return s.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

class Mobile(nn.Module):
    "an inverted residual: 1x1 expand, depthwise 3x3 with ReLU6, 1x1 project, residual add"
    def __init__(s):
        super().__init__()
        s.stem = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU6())
        s.b = nn.Sequential(nn.Conv2d(4, 8, 1), nn.ReLU6(), nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU6(),
                            nn.Conv2d(8, 4, 1))
        s.fc = nn.Linear(4, 5)
    def forward(s, x):
        x = s.stem(x)
        x = x + s.b(x)
        return s.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

class Fire(nn.Module):
    "squeeze/expand with concat (SqueezeNet), a dense concat (DenseNet), ceil-mode pools, conv classifier"
    def __init__(s):
        super().__init__()
        s.sq = nn.Conv2d(3, 2, 1)
        s.e1, s.e3 = nn.Conv2d(2, 3, 1), nn.Conv2d(2, 3, 3, padding=1)
        s.d = nn.Conv2d(6, 2, 3, padding=1)
        s.cls = nn.Conv2d(8, 3, 1)
    def forward(s, x):
        x = torch.relu(s.sq(x))
        x = torch.cat([torch.relu(s.e1(x)), torch.relu(s.e3(x))], 1)
        x = nn.functional.max_pool2d(x, 3, 2, ceil_mode=True)
        x = torch.cat([x, torch.relu(s.d(x))], 1)
        x = torch.relu(s.cls(x))
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)

class Odd(nn.Module):
    "ops the others lack: avg pool with count_include_pad off and divisor_override, dilated max pool, grouped"
    " strided conv, a ReLU read twice, non-1x1 adaptive max pool"
    def __init__(s):
        super().__init__()
        s.a, s.b = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(3, 2, 1)
        s.c = nn.Conv2d(6, 6, 3, stride=2, groups=3)
        s.fc = nn.Linear(6 * 4, 3)
    def forward(s, x):
        y = torch.cat([torch.relu(s.a(x)), s.b(x)], 1)
        z = nn.functional.avg_pool2d(y, 3, 1, 1, ceil_mode=True, count_include_pad=False)
        z = nn.functional.avg_pool2d(z, 2, 1, 0, divisor_override=3)
        t = s.c(z); u = torch.relu(t) + t
        u = nn.functional.max_pool2d(u, 2, 1, 1, dilation=2, ceil_mode=True)
        return s.fc(torch.flatten(nn.functional.adaptive_max_pool2d(u, (2, 2)), 1))

MODELS = {'vgg': (Vgg, (3, 8, 8)), 'res': (Res, (3, 8, 8)), 'mobile': (Mobile, (3, 8, 8)),
          'fire': (Fire, (3, 7, 9)), 'odd': (Odd, (3, 9, 11))}

def model_files(tmp):
    "{name: bytes} for every architecture and kind"
    out = {}
    for name, (cls, shape) in MODELS.items():
        torch.manual_seed(0)
        m = cls().eval()
        for b in m.modules():
            if isinstance(b, nn.BatchNorm2d):
                b.running_mean.uniform_(-0.1, 0.1); b.running_var.uniform_(0.5, 1.5)
        calib = [torch.randn(8, *shape)]
        export_model(m, tmp/f'{name}_f32.bin', shape)
        export_model_dq8(m, tmp/f'{name}_dq8.bin', gs=4, asymmetric=True, input_shape=shape)
        export_model_dq8(m, tmp/f'{name}_dq8sym.bin', gs=8, asymmetric=False, input_shape=shape)
        export_model_sq8(m, tmp/f'{name}_sq8.bin', calib, input_shape=shape)
        for k in ('f32', 'dq8', 'dq8sym', 'sq8'):
            out[f'{name}_{k}'] = ((tmp/f'{name}_{k}.bin').read_bytes(), shape)
    for k, v in (('sq8', 2), ('f32', 3), ('dq8', 4)):   # the layouts older versions store (sq8, f32 1x1, dq8 weights (O, K))
        out[f'res_{k}_v{v}'] = (older(out[f'res_{k}'][0], v), MODELS['res'][1])
    return out

def older(b, version):
    "model file bytes b written again as `version`"
    m = read_model_bytes(b)
    vals = [dict(shape=v['shape'], dtype=v['dtype'], scale=v['scale'], zero_point=v['zero_point']) for v in m['values']]
    ops = [dict(type=o['type'], act=o['act'], inputs=o['inputs'], out=o['out'], attr=o['attr16'], params=o['params'],
                qmin=o['qmin'], qmax=o['qmax']) for o in m['ops']]
    return model_bytes(m['kind'], m['input_shape'], m['class_names'], vals, ops, m['params'], m['output'], version=version)

def main():
    corpus = HERE/'corpus'
    for sub in ('model', 'cli', 'data'):
        (corpus/sub).mkdir(parents=True, exist_ok=True)
        for f in (corpus/sub).iterdir(): f.unlink()
    with tempfile.TemporaryDirectory() as t:
        files = model_files(Path(t))
    rng = np.random.default_rng(0)
    for i, (name, (b, shape)) in enumerate(sorted(files.items())):
        (corpus/'model'/f'{name}.bin').write_bytes(b)
        # cli: options byte (test, BS, files, folder name), u32 model length, model, one tensor file
        x = rng.standard_normal(int(np.prod(shape))).astype('<f4').tobytes()
        opts = (i & 1) | ((i % 4) << 1) | ((i % 3) << 3)     # folder "0", any BS, 1-3 files
        (corpus/'cli'/f'{name}.bin').write_bytes(bytes([opts]) + struct.pack('<I', len(b)) + b + x)
    # data: elements per tensor, classes, the folder tree (one entry a line), NUL, the files' content
    tensor = np.arange(12, dtype='<f4').tobytes()
    trees = {'flat': '0/a.bin\n1/b.bin\n1/c.txt\n2/', 'nested': 'x/0/a.bin\nx/1/b.bin\ny/z/3/c.bin\n7',
             'links': '0/a.bin\n1>0\n2/b.bin\nloop>.', 'labels': '12/a.bin\n007/b.bin\n-1/c.bin\n1234567890/d.bin'}
    for name, tree in trees.items():
        (corpus/'data'/f'{name}.bin').write_bytes(bytes([12, 10]) + tree.encode() + b'\0' + tensor)
    total = sum(f.stat().st_size for f in corpus.rglob('*') if f.is_file())
    print(f'{len(files)} models, {total} bytes in {corpus}')

if __name__ == '__main__': main()
