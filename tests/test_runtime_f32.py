"""The float32 C runtime (`c/build/run`) against PyTorch, on the same tensor files.

Every model is exported once (module-scoped fixture) and run at BS=1 and BS=3 with 1 and 2 threads.
Probabilities must agree within 1e-5 absolute and logits (recovered from the log-probabilities, up to
the constant softmax removes) within 1e-4 of the largest logit. Weights are seeded random, BatchNorm
statistics randomized, and the final layer scaled so that the logits spread wide (asserted): near-uniform
probabilities would pass any tolerance. Then the error paths: wrong kind, corrupt files, bad data.
"""
import json, os, struct, subprocess
from pathlib import Path
import numpy as np
import pytest
from helpers import randomize_bn
import torch, torch.nn as nn, torchvision
from tinyruntime.export import export_model
from tinyruntime.format import read_model_file, write_model_file, fix_checksum, HEADER, FormatError, VERSION
from tinyruntime.reference import reference_run
from tinyruntime.runtime import build_runtime, run_files, write_tensor_files, RuntimeRunError

P_ATOL, LOGIT_RTOL = 1e-5, 1e-4
MAX_DIFF = {}                       # model -> largest |p_C - p_torch| seen, printed at the end

@pytest.fixture(scope='module')
def run_bin():
    return build_runtime()['run']

class ConcatPool(nn.Module):
    "fastai's AdaptiveConcatPool2d."
    def __init__(self): super().__init__(); self.ap, self.mp = nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)
    def forward(self, x): return torch.cat([self.mp(x), self.ap(x)], 1)

def fastai_model(n=10):
    "A small body with fastai's create_head: concat pool, flatten, BN1d, Dropout, Linear, ReLU, BN1d, Dropout, Linear."
    body = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
                         nn.MaxPool2d(3, 2, 1), nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True))
    head = nn.Sequential(ConcatPool(), nn.Flatten(), nn.BatchNorm1d(64), nn.Dropout(0.25), nn.Linear(64, 32, bias=False),
                         nn.ReLU(inplace=True), nn.BatchNorm1d(32), nn.Dropout(0.5), nn.Linear(32, n, bias=False))
    return nn.Sequential(body, head)

class NonSquare(nn.Module):
    "Odd, non-square input; ceil-mode pools, count_include_pad=False, dilation, a channel concat, ReLU6."
    def __init__(self, n=6):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(3, 12, (3, 5), (1, 2), (1, 2)), nn.BatchNorm2d(12), nn.ReLU6())
        self.b = nn.Conv2d(12, 12, 3, 1, 2, dilation=2, groups=4)
        self.c = nn.Conv2d(12, 8, 1)
        self.mp = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.ap = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(20, n)
    def forward(self, x):
        x = self.a(x)
        y = torch.relu(self.b(x)) + x
        z = torch.cat([self.mp(y), self.ap(self.c(x))], 1)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(z, 1), 1))

class OddOps(nn.Module):
    """Less common forms: adaptive pools to non-1x1 sizes, divisor_override, dilated max pool, grouped strided conv,
    x.view(N, -1), and a final BatchNorm1d that cannot be folded (a depthwise 1x1 conv on an N-vector)."""
    def __init__(self, n=7):
        super().__init__()
        self.c = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.g = nn.Conv2d(8, 8, (3, 2), (2, 1), (1, 0), groups=2)
        self.mp = nn.MaxPool2d((3, 2), 1, (1, 1), dilation=(2, 1))
        self.fc = nn.Linear(8 * 6 + 8 * 6 + 8, n); self.bn = nn.BatchNorm1d(n)
    def forward(self, x):
        x = self.c(x)
        y = self.g(x)
        a = nn.functional.adaptive_avg_pool2d(y, (3, 2)).view(y.size(0), -1)
        b = nn.functional.adaptive_max_pool2d(self.mp(x), (2, 3)).reshape(x.size(0), -1)
        c = nn.functional.adaptive_avg_pool2d(nn.functional.avg_pool2d(y, 3, 2, 1, divisor_override=5), 1).flatten(1)
        z = self.fc(torch.cat([a, b, c], 1))
        return self.bn(z) + z

def tv(name, n):
    return lambda: getattr(torchvision.models, name)(num_classes=n)

# name: (constructor, input shape, classes, images)
MODELS = {
    'resnet18': (tv('resnet18', 10), (3, 224, 224), 10, 3),
    'resnet34': (tv('resnet34', 10), (3, 224, 224), 10, 3),
    'resnet50': (tv('resnet50', 10), (3, 224, 224), 10, 3),
    'mobilenet_v2': (tv('mobilenet_v2', 10), (3, 224, 224), 10, 3),
    'fastai_head': (fastai_model, (3, 64, 64), 10, 5),
    'non_square': (NonSquare, (3, 45, 77), 6, 5),
    'resnet18_37_classes': (tv('resnet18', 37), (3, 96, 96), 37, 5),
    'resnet18_32': (tv('resnet18', 10), (3, 32, 32), 10, 5),          # 1x1 maps at the end: taps cut (graph.py)
    'mobilenet_v2_32': (tv('mobilenet_v2', 10), (3, 32, 32), 10, 5),
    'odd_ops': (OddOps, (3, 23, 19), 7, 5),
}

def last_linear(m): return [l for l in m.modules() if isinstance(l, nn.Linear)][-1]

@pytest.fixture(scope='module', params=list(MODELS))
def case(request, tmp_path_factory):
    name = request.param
    make, shape, n, n_img = MODELS[name]
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = make()
    randomize_bn(model, gen)
    model.eval()
    x = torch.randn(n_img, *shape, generator=gen)
    with torch.no_grad():
        z = model(x)
        fc = last_linear(model)                      # spread the logits: std ~ 4 across classes
        k = 4.0 / z.std(1).mean().item()
        fc.weight.mul_(k)
        if fc.bias is not None: fc.bias.mul_(k)
        z = model(x).double()
    p = torch.softmax(z, 1).numpy()
    assert p.max(1).min() > 2.0 / n and (z.max(1).values - z.min(1).values).min() > 5, f'{name}: logits too flat for a meaningful check'
    d = tmp_path_factory.mktemp(name)
    export_model(model, d/'model.bin', shape)
    files = write_tensor_files(x, d/'data', labels=p.argmax(1))
    return dict(name=name, model=model, x=x, logits=z.numpy(), probs=p, path=d/'model.bin', files=files, n=n)

def centered_log(p):
    l = np.log(p); return l - l.mean(1, keepdims=True)

@pytest.mark.parametrize('bs,threads', [(1, 1), (1, 2), (3, 1), (3, 2)])
def test_run_matches_pytorch(case, run_bin, bs, threads):
    got = run_files(run_bin, case['path'], case['files'], test=True, batch_size=bs, threads=threads)
    assert got.shape == case['probs'].shape
    diff = np.abs(got - case['probs']).max()
    MAX_DIFF[case['name']] = max(MAX_DIFF.get(case['name'], 0.0), float(diff))
    assert diff <= P_ATOL, f"{case['name']} BS={bs} threads={threads}: max |p - p_torch| = {diff:.3g}"
    assert (got > 0).all(), 'a probability underflowed: logits cannot be compared'
    zc = case['logits'] - case['logits'].mean(1, keepdims=True)
    ldiff = np.abs(centered_log(got) - zc).max()
    assert ldiff <= LOGIT_RTOL * np.abs(zc).max(), f"{case['name']}: logits differ by {ldiff:.3g} (max |logit| {np.abs(zc).max():.3g})"
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)

def test_accuracy_mode(case, run_bin):
    "Without `test`: the accuracy over the files, labels from the folder names (here PyTorch's predictions)."
    assert run_files(run_bin, case['path'], case['files'], test=False, batch_size=2) == pytest.approx(100.0)

@pytest.mark.parametrize('case', ['fastai_head', 'non_square', 'resnet18_37_classes', 'odd_ops'], indirect=True)  # the small models
def test_python_file_interpreter_agrees(case):
    "The Python interpreter of the *file* (the format's reference) agrees with the model too."
    z = torch.from_numpy(reference_run(case['path'], case['x'])).double()
    np.testing.assert_allclose(torch.softmax(z, 1).numpy(), case['probs'], atol=P_ATOL)

@pytest.fixture(scope='module', autouse=True)
def report_max_diff():
    """At the end of the module: print the largest probability difference seen per model (visible with -s),
    and write it as JSON where TINYRUNTIME_MAXDIFF_JSON points (the closing note's numbers)."""
    yield
    print('\nlargest |p_run - p_torch| per model:', {k: f'{v:.3g}' for k, v in MAX_DIFF.items()})
    if os.environ.get('TINYRUNTIME_MAXDIFF_JSON'):
        Path(os.environ['TINYRUNTIME_MAXDIFF_JSON']).write_text(json.dumps(MAX_DIFF, indent=1))

# ---------------------------------------------------------------- error paths
@pytest.fixture(scope='module')
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp('small')
    torch.manual_seed(1)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()
    export_model(m, d/'m.bin', (3, 8, 6))
    files = write_tensor_files(torch.randn(2, 3, 8, 6), d/'data', labels=[0, 2])
    return dict(dir=d, path=d/'m.bin', files=files)

def run_raw(run_bin, *args, env=None):
    return subprocess.run([str(run_bin), *map(str, args)], capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=60)

def one_line_error(r, *words):
    assert r.returncode > 0, f'exit {r.returncode} (a negative code is a crash by signal)'
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f'not one line: {r.stderr!r}'
    for w in words: assert w in lines[0], f'{w!r} not in {lines[0]!r}'
    assert r.stdout == '', 'output before the error'

def test_help(run_bin):
    r = run_raw(run_bin, '--help')
    assert r.returncode == 0 and 'usage' in r.stdout and '--threads' in r.stdout and 'BS' in r.stdout

def test_refuses_int8_model(run_bin, small):
    w8, s8 = np.ones((3, 12), np.int8), np.full((3, 3), 0.01, np.float32)
    v = [dict(shape=(3, 2, 2)), dict(shape=(12, 1, 1)), dict(shape=(3, 1, 1))]
    ops = [dict(type='flatten', inputs=[0], out=1), dict(type='linear', inputs=[1], out=2, attr=dict(out_f=3, in_f=12, gs=4), params=[0, 1, None, None])]
    p = small['dir']/'dq8.bin'
    write_model_file(p, 'dq8', (3, 2, 2), ['a', 'b', 'c'], v, ops, [w8, s8], 2)
    x = small['dir']/'x12'/'0'; x.mkdir(parents=True, exist_ok=True)
    np.zeros(12, '<f4').tofile(x/'0.bin')
    one_line_error(run_raw(run_bin, 'test', p, x/'0.bin'), 'dq8.bin', 'runq')

def test_truncated_and_newer_model(run_bin, small):
    raw = small['path'].read_bytes()
    for cut in (0, 50, 127, 128, 500, len(raw) - 1):
        p = small['dir']/f'cut{cut}.bin'; p.write_bytes(raw[:cut])
        one_line_error(run_raw(run_bin, 'test', p, small['files'][0]), f'cut{cut}.bin')
    p = small['dir']/'vnext.bin'; p.write_bytes(fix_checksum(raw[:8] + struct.pack('<I', VERSION + 1) + raw[12:]))
    one_line_error(run_raw(run_bin, 'test', p, small['files'][0]), 'vnext.bin', 'newer')
    b = bytearray(raw); b[-3] ^= 0x40                    # a flipped bit in the weights: the checksum says so
    p = small['dir']/'flip.bin'; p.write_bytes(bytes(b))
    one_line_error(run_raw(run_bin, 'test', p, small['files'][0]), 'flip.bin', 'checksum')
    one_line_error(run_raw(run_bin, 'test', small['dir']/'nope.bin', small['files'][0]), 'nope.bin')

def test_corrupt_model_never_crashes(run_bin, small):
    """Random corruption of the header and tables: a clean one-line refusal or a run, never a crash or a hang;
    and `run` accepts exactly the files that the Python reader (`read_model_file`) accepts: one spec, two readers."""
    raw = small['path'].read_bytes()
    tables_end = HEADER.unpack(raw)['data_off']         # header, names, values, ops, params before it
    rng = np.random.default_rng(0)
    crashes, disagree, refused, n = [], [], 0, 150
    for i in range(n):
        b = bytearray(raw)
        for _ in range(rng.integers(1, 3)):
            pos = int(rng.integers(8, tables_end - 4))
            b[pos:pos + 4] = [b'\xff\xff\xff\xff', b'\x00\x00\x00\x80', b'\x00\x00\x00\x00', struct.pack('<I', int(rng.integers(0, 300))),
                              struct.pack('<I', int(rng.integers(0, 4)))][rng.integers(0, 5)]
        p = small['dir']/'fuzz.bin'; p.write_bytes(fix_checksum(b) if i % 4 else bytes(b))   # mostly past the checksum
        r = run_raw(run_bin, 'test', p, *small['files'])
        if r.returncode < 0 or r.returncode > 2 or (r.returncode and len(r.stderr.strip().splitlines()) != 1): crashes.append((i, r.returncode, r.stderr[-300:]))
        try: read_model_file(p); py = ''
        except FormatError as e: py = str(e)
        if (r.returncode == 0) != (py == ''): disagree.append((i, r.stderr.strip(), py))
        refused += r.returncode != 0
    assert not crashes, crashes[:3]
    assert not disagree, disagree[:3]
    assert refused > n // 2, f'only {refused} of {n} corrupted files refused'

def test_bad_data(run_bin, small):
    d = small['dir']
    (d/'short'/'1').mkdir(parents=True, exist_ok=True); (d/'short'/'1'/'0.bin').write_bytes(b'\0' * 100)
    one_line_error(run_raw(run_bin, 'test', small['path'], d/'short'/'1'/'0.bin'), '0.bin', )
    one_line_error(run_raw(run_bin, 'test', small['path'], d/'missing.bin'), 'missing.bin')
    (d/'cat').mkdir(exist_ok=True); np.zeros((3, 8, 6), '<f4').tofile(d/'cat'/'0.bin')
    one_line_error(run_raw(run_bin, small['path'], d/'cat'/'0.bin'), 'cat')          # not a label (accuracy mode)
    (d/'7').mkdir(exist_ok=True); np.zeros((3, 8, 6), '<f4').tofile(d/'7'/'0.bin')
    one_line_error(run_raw(run_bin, small['path'], d/'7'/'0.bin'), '7')               # label >= number of classes
    with pytest.raises(RuntimeRunError, match='short'):
        run_files(run_bin, small['path'], [small['files'][0], d/'short'/'1'/'0.bin'])

def test_bs_and_threads_invariance(run_bin, small):
    ref = run_files(run_bin, small['path'], small['files'], batch_size=1, threads=1)
    for bs, th in [(2, 2), (5, 1), (1, 2)]:
        np.testing.assert_allclose(run_files(run_bin, small['path'], small['files'], batch_size=bs, threads=th), ref, atol=1e-6)
