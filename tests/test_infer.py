"""python -m tinyruntime.infer: the PyTorch baseline with `run`'s command-line contract.

On one seeded model folder and test set: the same accuracy line as `run` on the exported f32 file, the same
per-file probabilities to float rounding, in the same file order, at any BS; the same exit codes and one-line
errors for bad data; and measure.sh (under dash) measures it like a binary.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from tinyruntime.train import build_model, save_model
from tinyruntime.export import export_model
from tinyruntime.runtime import build_runtime, write_tensor_files
from helpers import randomize_bn

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='module')
def case(tmp_path_factory):
    d = tmp_path_factory.mktemp('infer')
    gen = torch.Generator().manual_seed(0); torch.manual_seed(0)
    m = build_model('resnet18', 12).eval(); randomize_bn(m, gen)
    save_model(m, d/'md', dict(arch='resnet18', num_classes=12, class_names=[str(i) for i in range(12)],
                               input_shape=[3, 20, 20], mean=[0.5] * 3, std=[0.25] * 3))
    x = torch.randn(9, 3, 20, 20, generator=gen)
    with torch.no_grad(): y = m(x).argmax(1).tolist()
    y[0] = (y[0] + 1) % 12; y[3] = (y[3] + 5) % 12
    write_tensor_files(x, d/'test', y)
    export_model(m, d/'f32.bin', (3, 20, 20))
    return d

class Result:
    def __init__(self, returncode, stdout, stderr): self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

def infer(*args, subprocess_=False, **env):
    "python -m tinyruntime.infer ARGS (in this process by default: the same function, without a torch import per call)."
    if subprocess_:
        return subprocess.run([sys.executable, '-m', 'tinyruntime.infer', *map(str, args)], capture_output=True, text=True,
                              env=dict(os.environ, **env))
    import contextlib, io
    from tinyruntime.infer import infer_cli
    out, err, old = io.StringIO(), io.StringIO(), {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = infer_cli([str(a) for a in args])
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    return Result(rc, out.getvalue(), err.getvalue())

def run(*args, **env):
    return subprocess.run([build_runtime()['run'], *map(str, args)], capture_output=True, text=True, env=dict(os.environ, **env))

def test_same_results_as_run(case):
    acc_py, acc_c = infer(case/'md', case/'test', subprocess_=True), run(case/'f32.bin', case/'test')   # the module entry point
    assert acc_py.returncode == 0 == acc_c.returncode, acc_py.stderr + acc_c.stderr
    assert acc_py.stdout == acc_c.stdout and 0 < float(acc_py.stdout) < 100
    c = run('test', case/'f32.bin', case/'test')
    pc = np.array([[float(v) for v in l.split('\t')] for l in c.stdout.splitlines()])
    for bs in ('1', '4', '9'):
        p = infer('test', case/'md', case/'test', BS=bs)
        assert p.returncode == 0, p.stderr
        pp = np.array([[float(v) for v in l.split('\t')] for l in p.stdout.splitlines()])
        assert pp.shape == (9, 12)
        np.testing.assert_allclose(pp, pc, atol=1e-5)

@pytest.mark.parametrize('bad', ['missing', 'size', 'label', 'bs', 'usage', 'empty', 'model'])
def test_errors_like_run(case, tmp_path, bad):
    data, model_py, model_c, env = [case/'test'], case/'md', case/'f32.bin', {}
    if bad == 'missing': data = [tmp_path/'nope']
    if bad == 'size': (tmp_path/'1').mkdir(); (tmp_path/'1'/'x.bin').write_bytes(b'\0' * 12); data = [case/'test', tmp_path/'1'/'x.bin']
    if bad == 'label': (tmp_path/'99').mkdir(); shutil.copy(next((case/'test').rglob('*.bin')), tmp_path/'99'/'a.bin'); data = [tmp_path/'99']
    if bad == 'bs': env = {'BS': '0'}
    if bad == 'usage': data = []
    if bad == 'empty': (tmp_path/'e').mkdir(); data = [tmp_path/'e']
    if bad == 'model': model_py = model_c = tmp_path/'nomodel'
    p, c = infer(model_py, *data, **env), run(model_c, *data, **env)
    assert p.returncode == c.returncode != 0, (p.stderr, c.stderr)
    assert p.stdout == '' and len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith('infer: '), p.stderr
    if bad in ('missing', 'size', 'label', 'empty'): assert p.stderr.split(': ')[1] == c.stderr.split(': ')[1], 'names the same path'

def test_measure_sh_with_the_python_runner(case, tmp_path):
    info = tmp_path/'runtime_info.json'
    info.write_text(json.dumps({'runtime': 'tinyruntime', 'image': 'python', 'results': {}}))
    r = subprocess.run(['dash', str(ROOT/'scripts/measure.sh'), f'{sys.executable} -m tinyruntime.infer', str(case/'md'), str(info), str(case/'test')],
                       capture_output=True, text=True, env=dict(os.environ, MEASURE_REPEATS='1'))
    assert r.returncode == 0, r.stderr
    res = json.loads(info.read_text())['results']
    assert res['accuracy'] == pytest.approx(float(infer(case/'md', case/'test').stdout))
    assert res['size'] == sum(f.stat().st_size for f in (case/'md').iterdir()) and res['speed'] > 0
