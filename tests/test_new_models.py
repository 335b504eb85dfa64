"""The ops of MobileNetV3 and EfficientNet (SiLU, Hardswish, Hardsigmoid, Sigmoid, MUL with the squeeze-and-excite
channel broadcast, StochasticDepth) end to end: torchvision's mobilenet_v3_small, mobilenet_v3_large and
efficientnet_b0 (seeded random weights, BatchNorm statistics randomized, logits spread) exported in f32, dq8 and sq8.

Reference side (Python only): the f32 file's reference probabilities within 1e-5 of PyTorch's; sq8 deterministic;
dq8 close to f32. C side: `run` within 1e-5 of PyTorch, `runq` sq8 bit-identical to the reference at BS=1/3 and 1/2
threads, dq8 to float rounding.
"""
import numpy as np
import pytest
from helpers import tv_model, spread_logits
import torch
from tinyruntime.export import export_model
from tinyruntime.graph import trace_graph
from tinyruntime.format import read_model_file
from tinyruntime.quantize import export_model_dq8, export_model_sq8
from tinyruntime.reference import reference_run, runtime_softmax
from tinyruntime.runtime import build_runtime, run_files, write_tensor_files

ARCHS = ['mobilenet_v3_small', 'mobilenet_v3_large', 'efficientnet_b0']
SHAPE = (3, 64, 64)
P_ATOL = 1e-5

@pytest.fixture(scope='module', params=ARCHS)
def case(request, tmp_path_factory):
    name = request.param
    gen = torch.Generator().manual_seed(0)
    model = tv_model(name, gen)
    x = torch.randn(3, *SHAPE, generator=gen)
    spread_logits(model, x)
    with torch.no_grad(): z = model(x).double()
    d = tmp_path_factory.mktemp(name)
    g = trace_graph(model, SHAPE)
    export_model(model, d/'f32.bin', SHAPE)
    qd = export_model_dq8(g, d/'dq8.bin', gs=32)
    qs = export_model_sq8(g, d/'sq8.bin', [torch.randn(8, *SHAPE, generator=gen) for _ in range(2)])
    files = write_tensor_files(x, d/'data')
    ref = {k: runtime_softmax(reference_run(d/f'{k}.bin', x)) for k in ('f32', 'dq8', 'sq8')}
    p = torch.softmax(z, 1).numpy()
    assert p.max(1).min() > 0.2 and (p < 0.01).any(), f'{name}: probabilities too flat for a meaningful check'
    return dict(name=name, model=model, x=x, dir=d, files=files, ref=ref, probs=p, logits=z.numpy())

def test_uses_the_new_ops(case):
    ops = read_model_file(case['dir']/'sq8.bin')['ops']
    assert any(o['type'] == 'mul' for o in ops)
    want = {'hardswish', 'hardsigmoid'} if 'mobilenet' in case['name'] else {'silu', 'sigmoid'}
    assert want <= {o['act'] for o in ops if o['type'] == 'act'}, case['name']
    f32 = read_model_file(case['dir']/'f32.bin')['ops']
    assert want <= {o['act'] for o in f32}, case['name']               # fused into the op before them in f32

def test_f32_reference_matches_pytorch(case):
    diff = np.abs(case['ref']['f32'] - case['probs']).max()
    assert diff <= P_ATOL, f"{case['name']}: max |p_ref - p_torch| = {diff:.3g}"

def test_int8_reference(case):
    "sq8 is deterministic and dq8 close to f32 (random deep nets amplify int8 noise: loose bound for sq8)."
    assert np.array_equal(runtime_softmax(reference_run(case['dir']/'sq8.bin', case['x'])), case['ref']['sq8'])
    z = case['logits']
    for kind, tol in (('dq8', 0.1), ('sq8', 0.5)):
        err = np.abs(reference_run(case['dir']/f'{kind}.bin', case['x']) - z).max() / np.abs(z).max()
        print(case['name'], kind, 'max logit error / max |logit|', round(float(err), 4))
        assert err < tol, (case['name'], kind, err)

# ---------------------------------------------------------------- the C runtime on the same files
@pytest.fixture(scope='module')
def bins():
    b = build_runtime()
    assert b['runq'] is not None, 'c/build/runq was not built'
    return b

@pytest.mark.parametrize('bs,threads', [(1, 1), (3, 2)])
def test_run_f32_matches_pytorch(case, bins, bs, threads):
    p = run_files(bins['run'], case['dir']/'f32.bin', case['files'], batch_size=bs, threads=threads)
    diff = np.abs(p - case['probs']).max()
    assert diff <= P_ATOL, f"{case['name']} BS={bs} threads={threads}: max |p_run - p_torch| = {diff:.3g}"

@pytest.mark.parametrize('bs,threads', [(1, 1), (1, 2), (3, 1), (3, 2)])
def test_runq_sq8_equals_reference(case, bins, bs, threads):
    p = run_files(bins['runq'], case['dir']/'sq8.bin', case['files'], batch_size=bs, threads=threads).astype(np.float32)
    assert np.array_equal(p, case['ref']['sq8']), f"{case['name']}: max |diff| {np.abs(p - case['ref']['sq8']).max()}"

@pytest.mark.parametrize('bs,threads', [(1, 1), (3, 2)])
def test_runq_dq8_matches_reference(case, bins, bs, threads):
    p = run_files(bins['runq'], case['dir']/'dq8.bin', case['files'], batch_size=bs, threads=threads).astype(np.float32)
    np.testing.assert_allclose(p, case['ref']['dq8'], rtol=0, atol=P_ATOL, err_msg=case['name'])
