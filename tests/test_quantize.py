"""The int8 runtime (`c/build/runq`) against the Python reference of the int8 arithmetic (tinyruntime.quantize).

sq8: runq's output equals the reference's bit for bit. runq prints softmax probabilities (float32, %.9g),
so the reference logits go through the very same softmax as c/src/cli.c (double exp with the C library,
max-subtracted, summed in class order, rounded to float32) and the two are compared with np.array_equal;
a logit off by one int8 step would change the probabilities by ~1e-3. dq8: the same comparison within
float rounding. Seeded ResNet18, ResNet50 and MobileNetV2 at 64x64, and ResNet18 and MobileNetV2 at 32x32, whose
last maps are 1x1, so the graph cuts the taps that read only padding there (BatchNorm statistics randomized and the
classifier scaled so that logits spread: near-uniform probabilities would pass anything), at BS=1 and 3
with 1 and 2 threads (sq8 also BS=2 on 2 threads: a lane, a thread, per image; dq8 at BS=1 on 1 and 2 threads bit for bit). Then: runq refuses f32 files naming `run`; accuracy and file sizes on a ResNet18
trained briefly on the built-in digits; odd shapes; random convs whose taps were cut (`run` against PyTorch, sq8 against
the reference).
"""
import os, random
from pathlib import Path
import numpy as np
import pytest
from helpers import tv_model, spread_logits
import torch, torch.nn as nn, torchvision
from tinyruntime.export import export_model
from tinyruntime.format import conv_out
from tinyruntime.graph import trace_graph
from tinyruntime.quantize import export_model_dq8, export_model_sq8
from tinyruntime.reference import reference_run, runtime_softmax
from tinyruntime.runtime import build_runtime, run_files, run_tensors, write_tensor_files, RuntimeRunError

DQ8_ATOL = 1e-5         # probabilities, dq8 (float sums may be ordered differently)

@pytest.fixture(scope='module')
def runq():
    b = build_runtime()['runq']
    assert b is not None, 'c/build/runq was not built'
    return b

ARCHS = ['resnet18', 'resnet50', 'mobilenet_v2', 'resnet18@32', 'mobilenet_v2@32']   # @32: 32x32, last maps 1x1 (taps cut)
SHAPE = (3, 64, 64)

@pytest.fixture(scope='module', params=ARCHS)
def case(request, tmp_path_factory):
    name = request.param
    arch, _, side = name.partition('@')
    shape = (3, int(side), int(side)) if side else SHAPE
    gen = torch.Generator().manual_seed(0)
    model = tv_model(arch, gen)
    x = torch.randn(3, *shape, generator=gen)
    calib = [torch.randn(8, *shape, generator=gen) for _ in range(2)]
    spread_logits(model, x)
    d = tmp_path_factory.mktemp(arch)
    g = trace_graph(model, shape)
    qs = export_model_sq8(g, d/'sq8.bin', calib)
    qd = export_model_dq8(g, d/'dq8.bin', gs=64, asymmetric=True)
    qd_sym = export_model_dq8(g, d/'dq8_sym.bin', gs=32, asymmetric=False)
    export_model(model, d/'f32.bin', shape)
    files = write_tensor_files(x, d/'data')
    ref = {q.path.stem: runtime_softmax(reference_run(q.path, x)) for q in (qs, qd, qd_sym)}
    for kind, p in ref.items():          # a meaningful check needs spread-out probabilities
        assert p.max(1).min() > 0.2 and (p < 0.01).any(), f'{name} {kind}: probabilities too flat: {p}'
    return dict(name=name, model=model, x=x, dir=d, files=files, ref=ref, graph=g)

def test_taps_cut_only_on_small_maps(case):
    "At 32x32 the 3x3 windows on 1x1 maps keep their centre taps (graph.py's _trim_taps): ResNet18's layer4, 62% of its conv "
    "weights, MobileNetV2's last depthwise convs; at 64x64 every tap reads the map."
    count = lambda ws: sum(w.numel() for w in ws)
    model_w = count(m.weight for m in case['model'].modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    graph_w = count(o.weight for o in case['graph'].ops if o.weight is not None)   # (convs left on 1x1 maps are linears)
    if '@' in case['name']: assert graph_w < (0.4 if 'resnet' in case['name'] else 1) * model_w, (graph_w, model_w)
    else: assert graph_w == model_w, (graph_w, model_w)

@pytest.mark.parametrize('bs,threads', [(1, 1), (1, 2), (2, 2), (3, 1), (3, 2)])   # (2, 2): a lane per image
def test_sq8_runq_equals_reference(case, runq, bs, threads):
    p = run_files(runq, case['dir']/'sq8.bin', case['files'], batch_size=bs, threads=threads).astype(np.float32)
    assert np.array_equal(p, case['ref']['sq8']), f"{case['name']}: max |diff| {np.abs(p - case['ref']['sq8']).max()}"

@pytest.mark.parametrize('bs,threads', [(1, 1), (1, 2), (3, 2)])   # (1, 2): the ops over both threads
@pytest.mark.parametrize('kind', ['dq8', 'dq8_sym'])
def test_dq8_runq_matches_reference(case, runq, kind, bs, threads):
    p = run_files(runq, case['dir']/f'{kind}.bin', case['files'], batch_size=bs, threads=threads).astype(np.float32)
    np.testing.assert_allclose(p, case['ref'][kind], rtol=0, atol=DQ8_ATOL, err_msg=case['name'])

def test_dq8_same_on_two_threads(case, runq):
    "dq8's results do not depend on the threads: at batch 1 the ops split over two threads (the last stage's 2x2 maps: one column block, its quantization split by groups) give the bytes of one thread."
    one, two = (run_files(runq, case['dir']/'dq8.bin', case['files'], batch_size=1, threads=t) for t in (1, 2))
    assert np.array_equal(one, two), f"{case['name']}: max |diff| {np.abs(one - two).max()}"

def test_quantized_close_to_float(case):
    "The int8 files approximate the float model (random deep nets amplify noise: loose bounds; accuracy is checked below)."
    with torch.no_grad(): z = case['model'](case['x']).numpy()
    for kind, tol in (('sq8', 0.25), ('dq8', 0.1)):
        zq = reference_run(case['dir']/f'{kind}.bin', case['x'])
        err = np.abs(zq - z).max() / np.abs(z).max()
        print(case['name'], kind, 'max logit error / max |logit|', err)
        assert err < tol, (case['name'], kind, err)

@pytest.mark.parametrize('case', ['resnet18'], indirect=True)   # once is enough
def test_runq_refuses_f32_and_run_refuses_int8(case, runq):
    with pytest.raises(RuntimeRunError) as e: run_files(runq, case['dir']/'f32.bin', case['files'][:1])
    msg = e.value.message
    assert e.value.returncode != 0 and 'f32' in msg and msg.rstrip().endswith('run') and 'f32.bin' in msg, msg
    assert len(msg.splitlines()) == 1
    run = build_runtime()['run']
    for kind in ('sq8', 'dq8'):
        with pytest.raises(RuntimeRunError) as e: run_files(run, case['dir']/f'{kind}.bin', case['files'][:1])
        assert 'runq' in e.value.message and kind in e.value.message, e.value.message

def test_export_errors(tmp_path):
    m = torchvision.models.resnet18(num_classes=3).eval()
    with pytest.raises(ValueError, match='gs'): export_model_dq8(m, tmp_path/'a.bin', gs=0, input_shape=(3, 32, 32))
    with pytest.raises(ValueError, match='calib'): export_model_sq8(m, tmp_path/'b.bin', [], input_shape=(3, 32, 32))
    with pytest.raises(ValueError, match='input_shape'): export_model_sq8(m, tmp_path/'b.bin', [torch.randn(2, 3, 32, 32)])
    assert not any(tmp_path.iterdir())                                   # nothing half-written

# ------------------------------------------------------------------ accuracy and size on a trained model
IMG = 16        # small enough for CI on 2 cores; the pipeline measures the real 32x32 model

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    from tinyruntime.train import train
    from tinyruntime.data import load_dataset_splits
    d = tmp_path_factory.mktemp('trained')
    model, cfg = train('resnet18', epochs=2, img_size=IMG, quiet=True)
    sp = load_dataset_splits('builtin', IMG)
    model.eval()
    g = trace_graph(model, (3, IMG, IMG))
    f32 = d/'f32.bin'; export_model(model, f32, (3, IMG, IMG))
    export_model_dq8(g, d/'dq8.bin', gs=64)
    export_model_sq8(g, d/'sq8.bin', [sp.train.x[i:i + 64] for i in range(0, 256, 64)])
    files = write_tensor_files(sp.test.x, d/'test', labels=sp.test.labels)
    with torch.no_grad(): acc = (model(sp.test.x).argmax(1) == torch.as_tensor(sp.test.labels)).float().mean().item() * 100
    return dict(dir=d, files=files, torch_acc=acc)

def test_trained_accuracy(trained, runq):
    run = build_runtime()['run']
    acc = {'f32': run_files(run, trained['dir']/'f32.bin', trained['files'], test=False, batch_size=32)}
    for kind in ('dq8', 'sq8'): acc[kind] = run_files(runq, trained['dir']/f'{kind}.bin', trained['files'], test=False, batch_size=32)
    print('accuracy (%):', acc, 'torch', trained['torch_acc'])
    assert acc['f32'] > 50 and abs(acc['f32'] - trained['torch_acc']) < 0.3
    assert acc['dq8'] >= acc['f32'] - 0.5
    assert acc['sq8'] >= acc['f32'] - 1.0

def test_file_sizes(trained):
    f32 = os.path.getsize(trained['dir']/'f32.bin')
    r = {k: os.path.getsize(trained['dir']/f'{k}.bin') / f32 for k in ('dq8', 'sq8')}
    print('size ratios vs f32:', r)
    assert r['sq8'] <= 0.26 and r['dq8'] <= 0.30

class Odd(nn.Module):
    "Ops ResNet/MobileNet lack: concat (with a fused ReLU on one branch), ceil-mode avg pool without padding counts,"
    " grouped strided conv, a ReLU with two readers (not fusable), ceil-mode max pool, non-1x1 adaptive max pool."
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 4, 1)
        self.c = nn.Conv2d(12, 6, 3, stride=2, groups=3)
        self.fc = nn.Linear(6 * 4, 5)
    def forward(self, x):
        y = torch.cat([torch.relu(self.a(x)), self.b(x)], 1)
        z = nn.functional.avg_pool2d(y, 3, 2, 1, ceil_mode=True, count_include_pad=False)
        t = self.c(z); u = torch.relu(t) + t
        u = nn.functional.max_pool2d(u, 2, 1, 0, ceil_mode=True)
        return self.fc(torch.flatten(nn.functional.adaptive_max_pool2d(u, (2, 2)), 1))

def test_odd_ops(runq, tmp_path):
    torch.manual_seed(1)
    m = Odd().eval()
    with torch.no_grad(): m.fc.weight.mul_(20)
    x, shape = torch.randn(5, 3, 11, 13), (3, 11, 13)
    qs = export_model_sq8(m, tmp_path/'sq8.bin', [torch.randn(32, *shape)], input_shape=shape)
    qd = export_model_dq8(m, tmp_path/'dq8.bin', gs=16, input_shape=shape)
    files = write_tensor_files(x, tmp_path/'data')
    for q in (qs, qd):
        ref = runtime_softmax(reference_run(q.path, x))
        assert ref.max(1).min() > 0.25
        for bs, th in ((1, 1), (5, 2)):
            p = run_files(runq, q.path, files, batch_size=bs, threads=th).astype(np.float32)
            if q.kind == 'sq8': assert np.array_equal(p, ref), np.abs(p - ref).max()
            else: np.testing.assert_allclose(p, ref, rtol=0, atol=DQ8_ATOL)

class Depthwise(nn.Module):
    "Depthwise convolutions (one input channel per group) of the shapes runq's direct kernels special-case:"
    " channel multiplier 2 with dilation 2, 5x5 stride 2, stride 3, no padding, a 1-wide plane."
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 6, 3, padding=1)
        self.b = nn.Conv2d(6, 12, 3, padding=2, dilation=2, groups=6)
        self.c = nn.Conv2d(12, 12, 5, stride=2, padding=2, groups=12)
        self.d = nn.Conv2d(12, 12, 3, stride=3, padding=1, groups=12)
        self.e = nn.Conv2d(12, 12, (3, 1), padding=(1, 0), groups=12)
        self.fc = nn.Linear(12 * 3 * 3, 5)
    def forward(self, x):
        y = torch.relu(self.b(torch.relu(self.a(x))))
        y = self.e(self.d(nn.functional.relu6(self.c(y))))
        return self.fc(torch.flatten(y, 1))

def test_depthwise_shapes(runq, tmp_path):
    torch.manual_seed(2)
    m = Depthwise().eval()
    with torch.no_grad(): m.fc.weight.mul_(20)
    x, shape = torch.randn(5, 3, 15, 17), (3, 15, 17)
    qs = export_model_sq8(m, tmp_path/'sq8.bin', [torch.randn(32, *shape)], input_shape=shape)
    # dq8: the depthwise layers float on dequantized weights (FORMAT.md), several weight groups a window
    qd = export_model_dq8(m, tmp_path/'dq8.bin', gs=5, input_shape=shape)
    qd_sym = export_model_dq8(m, tmp_path/'dq8_sym.bin', gs=3, asymmetric=False, input_shape=shape)
    files = write_tensor_files(x, tmp_path/'data')
    for q in (qs, qd, qd_sym):
        ref = runtime_softmax(reference_run(q.path, x))
        assert ref.max(1).min() > 0.25
        for bs, th in ((1, 1), (5, 2)):
            p = run_files(runq, q.path, files, batch_size=bs, threads=th).astype(np.float32)
            if q.kind == 'sq8': assert np.array_equal(p, ref), np.abs(p - ref).max()
            else: np.testing.assert_allclose(p, ref, rtol=0, atol=DQ8_ATOL, err_msg=q.path.name)

def cut_convs(n, seed=0):
    "The first n random convs (2 -> 8 channels, one or two groups, kernels to 5, strides and dilations to 3, padding to 4, maps to"
    " 6 a side) whose windows have taps that read only padding at every output (graph.py's _trim_taps cuts them), each in a model."
    rng, out = random.Random(seed), []
    while len(out) < n:
        H, W, kh, kw = rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 5), rng.randint(1, 5)
        (sh, sw, dh, dw), (ph, pw), g = (rng.randint(1, 3) for _ in range(4)), (rng.randint(0, 4) for _ in range(2)), rng.choice([1, 2])
        if min(conv_out(H, kh, sh, ph, dh), conv_out(W, kw, sw, pw, dw)) < 1: continue
        torch.manual_seed(len(out))
        m = nn.Sequential(nn.Conv2d(2, 8, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups=g), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 5)).eval()
        with torch.no_grad(): m[-1].weight.mul_(8)
        op = next(o for o in trace_graph(m, (2, H, W)).ops if o.weight is not None)   # (a conv, or a linear after a flatten)
        if op.weight.numel() < m[0].weight.numel(): out.append((m, (2, H, W), (op.kind, op.attrs)))
    return out

def test_cut_taps_in_the_runtimes(runq, tmp_path):
    "Random convs whose taps were cut: `run` agrees with PyTorch's uncut module, runq's sq8 with the reference bit for bit."
    run = build_runtime()['run']
    for i, (m, shape, attrs) in enumerate(cut_convs(16)):
        d, x = tmp_path/str(i), torch.randn(4, *shape)
        export_model(m, d/'f32.bin', shape)
        qs = export_model_sq8(m, d/'sq8.bin', [torch.randn(16, *shape)], input_shape=shape)
        files = write_tensor_files(x, d/'data')
        with torch.no_grad(): want = torch.softmax(m(x).double(), 1).numpy()
        got = run_files(run, d/'f32.bin', files, batch_size=2, threads=2)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5, err_msg=str(attrs))
        ref = runtime_softmax(reference_run(qs.path, x))
        assert np.array_equal(run_files(runq, qs.path, files, batch_size=2, threads=2).astype(np.float32), ref), attrs
