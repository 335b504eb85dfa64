"""tinyruntime_compile (tinyruntime.compile), the command every compiler image runs: `--md md --data data`.

Each quantization type of runtime_info.json (absent, none, dynamic asymmetric/symmetric, static on a raw-tensor
test set and on an image folder, the legacy booleans) gives a model file of the right kind that the C runtime
runs (f32 to float rounding of PyTorch); each bad input gives one line on stderr, a non-zero exit and no
model.bin. The console script is declared in settings.ini and the compiler images call it.
"""
import configparser, json, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from tinyruntime.train import build_model, save_model, load_model
from tinyruntime.test_dataset_generator import write_test_set
from tinyruntime.runtime import build_runtime, run_files, write_tensor_files
from tinyruntime.compile import read_runtime_info
from tinyruntime.format import read_model_header

ROOT = Path(__file__).resolve().parents[1]
SHAPE = [3, 24, 24]

@pytest.fixture(scope='module')
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp('compile')
    torch.manual_seed(0)
    m = build_model('resnet18', 10).eval()
    cfg = dict(arch='resnet18', num_classes=10, class_names=[str(i) for i in range(10)], input_shape=SHAPE,
               mean=[0.5] * 3, std=[0.25] * 3, dataset='builtin')
    save_model(m, d/'md', cfg)
    write_test_set(d/'test', 'builtin', model=d/'md', per_class=1)        # the raw-tensor layout the generator writes
    from PIL import Image
    rng = np.random.default_rng(0)
    for i in range(3):                                                   # an image folder
        (d/'images'/str(i)).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(d/'images'/str(i)/f'{i}.png')
    (d/'empty').mkdir()
    return d

def job(base, tmp_path, info):
    "A fresh md/ with the model and `info` as runtime_info.json (a dict, or text as is)."
    md = tmp_path/'md'
    shutil.copytree(base/'md', md)
    if info is not None: (md/'runtime_info.json').write_text(info if isinstance(info, str) else json.dumps(info))
    return md

class Result:
    def __init__(self, returncode, stdout, stderr): self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

def compile_(md, data, *extra, subprocess_=False, **env):
    "Run tinyruntime_compile --md MD --data DATA (in this process, or as `python -m tinyruntime.compile`)."
    import contextlib, io, os
    e = {k: v for k, v in os.environ.items() if k != 'TINYRUNTIME_COMPILER'}; e.update(env)
    argv = ['--md', str(md), '--data', str(data), *extra]
    if subprocess_: return subprocess.run([sys.executable, '-m', 'tinyruntime.compile', *argv], capture_output=True, text=True, env=e)
    from tinyruntime.compile import compile_cli
    out, err, rc = io.StringIO(), io.StringIO(), 0
    old = dict(os.environ); os.environ.clear(); os.environ.update(e)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): compile_cli(argv)
    except SystemExit as x: rc = x.code
    finally: os.environ.clear(); os.environ.update(old)
    return Result(rc, out.getvalue(), err.getvalue())

def info(q, pruning=0):
    c = {'pruning': pruning} if q is ... else {'quantization': q, 'pruning': pruning}
    return {'runtime': 'tinyruntime', 'architecture': 'amd64', 'image': '', 'compression': c, 'results': {}, 'extra': [1, 'x']}

GOOD = [(..., 'f32', 'test'), (None, 'f32', 'test'), ('none', 'f32', 'test'), ({'type': 'none'}, 'f32', 'test'),
        (False, 'f32', 'test'), ({'type': 'dynamic', 'asymmetric': True}, 'dq8', 'nothing'),
        ({'type': 'dynamic', 'asymmetric': False}, 'dq8', 'nothing'), (True, 'dq8', 'nothing'),
        ({'type': 'static'}, 'sq8', 'test'), ({'type': 'static'}, 'sq8', 'images')]

@pytest.mark.parametrize('q,kind,data', GOOD, ids=[f'{k}-{json.dumps(q) if q is not ... else "absent"}-{d}' for q, k, d in GOOD])
def test_compile_kinds(base, tmp_path, q, kind, data):
    md = job(base, tmp_path, info(q))
    before = (md/'runtime_info.json').read_text()
    r = compile_(md, base/data)
    assert r.returncode == 0, r.stderr
    h = read_model_header(md/'model.bin')
    assert (h['kind'], tuple(h['input_shape']), h['num_classes']) == (kind, tuple(SHAPE), 10)
    assert (md/'runtime_info.json').read_text() == before, 'the compiler does not touch runtime_info.json'
    assert sorted(p.name for p in md.iterdir()) == ['config.json', 'model.bin', 'model.safetensors', 'runtime_info.json']
    binary = build_runtime()['run' if kind == 'f32' else 'runq']
    man = json.loads((base/'test'/'manifest.json').read_text())
    probs = run_files(binary, md/'model.bin', [base/'test'/f for f in man['files']], test=True)   # manifest order
    assert probs.shape == (10, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
    if kind == 'f32':
        from tinyruntime.test_dataset_generator import read_test_set
        x = read_test_set(base/'test')[0]
        with torch.no_grad(): ref = torch.softmax(load_model(md)(x).double(), 1).numpy()
        np.testing.assert_allclose(probs, ref, atol=1e-5)

def test_compile_image_kind_must_match(base, tmp_path):
    md = job(base, tmp_path, info({'type': 'static'}))
    r = compile_(md, base/'test', TINYRUNTIME_COMPILER='dq')
    assert r.returncode != 0 and 'compiler-export-dq' in r.stderr and not (md/'model.bin').exists()
    assert compile_(md, base/'test', TINYRUNTIME_COMPILER='sq').returncode == 0

def test_trust_pickle(base, tmp_path):
    md = tmp_path/'md'; md.mkdir()
    torch.save(load_model(base/'md'), md/'model.pt')
    shutil.copy(base/'md'/'config.json', md/'config.json')
    (md/'runtime_info.json').write_text(json.dumps(info({'type': 'dynamic', 'asymmetric': True})))
    r = compile_(md, base/'test')
    assert r.returncode != 0 and '--trust-pickle' in r.stderr and len(r.stderr.splitlines()) == 1 and not (md/'model.bin').exists()
    r = compile_(md, base/'test', '--trust-pickle', subprocess_=True)   # the module entry point, as the images run it
    assert r.returncode == 0, r.stderr
    assert read_model_header(md/'model.bin')['kind'] == 'dq8'

BAD = {
    'missing runtime_info.json': (None, 'test', 'runtime_info.json: missing'),
    'malformed runtime_info.json': ('{"compression": {"quantization": ', 'test', 'not valid JSON'),
    'not an object': ('[1, 2]', 'test', 'expected a JSON object'),
    'unknown type': (info({'type': 'int4'}), 'test', "unknown quantization type 'int4'"),
    'no type': (info({'asymmetric': True}), 'test', 'has no type'),
    'bad asymmetric': (info({'type': 'dynamic', 'asymmetric': 'yes'}), 'test', 'asymmetric'),
    'pruning': (info({'type': 'dynamic'}, pruning=0.5), 'test', 'pruning=0.5 cannot be honoured'),
    'missing calibration set': (info({'type': 'static'}), 'nothing', 'no such calibration folder'),
    'empty calibration set': (info({'type': 'static'}), 'empty', 'empty calibration set'),
}

@pytest.mark.parametrize('case', list(BAD))
def test_compile_bad(base, tmp_path, case):
    text, data, msg = BAD[case]
    md = job(base, tmp_path, text)
    r = compile_(md, base/data, subprocess_=case == 'unknown type')
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr and r.stderr.startswith('tinyruntime_compile: error:'), r.stderr
    assert not (md/'model.bin').exists() and not [p for p in md.iterdir() if p.name.startswith('.')], 'nothing left behind'

def test_console_script_and_images():
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    scripts = dict(s.split('=') for s in cfg['DEFAULT']['console_scripts'].split())
    assert scripts['tinyruntime_compile'] == 'tinyruntime.compile:compile_cli'
    import tinyruntime.compile as c
    assert callable(c.compile_cli)
    assert read_runtime_info  # the reader is importable for tinyMLaaS-side checks
