"""The exporter in Python alone: tracing forms, BatchNorm folding, fusion, refusals, the writer/reader of every kind."""
import struct
import numpy as np
import pytest
import torch, torch.nn as nn, torch.nn.functional as F
from tinyruntime.graph import trace_graph, run_graph
from tinyruntime.export import export_model
from tinyruntime.format import read_model_file, read_model_header, write_model_file, fix_checksum, HEADER, PARAM
from tinyruntime.reference import reference_run

def randomize_bn(m, seed=0):
    g = torch.Generator().manual_seed(seed)
    for b in m.modules():
        if isinstance(b, nn.modules.batchnorm._BatchNorm):
            n = b.num_features
            b.running_mean.copy_(torch.randn(n, generator=g) * 0.1); b.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            b.weight.data.copy_(torch.rand(n, generator=g) + 0.5); b.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return m.eval()

def check(model, shape, n=3, **kw):
    torch.manual_seed(0)
    g = trace_graph(model, shape, **kw)
    x = torch.randn(n, *shape)
    with torch.no_grad(): ref = model(x)
    got = run_graph(g, x)
    torch.testing.assert_close(got, ref.reshape(n, -1), rtol=1e-4, atol=1e-5)
    return g

class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding='same'), nn.Conv2d(8, 8, 1)
        self.h6 = nn.Hardtanh(0.0, 6.0); self.fc = nn.Linear(24, 4)
    def forward(self, x):
        x = F.relu(self.c1(x))
        y = torch.relu(self.c2(x))
        y += x
        z = self.h6(torch.add(self.c3(y), x))
        z = F.max_pool2d(z, 3, 2, 1, dilation=1, ceil_mode=True)
        a = z.mean((2, 3))
        b = F.adaptive_max_pool2d(z, 1).view(z.size(0), -1)
        c = torch.flatten(F.avg_pool2d(z, 2, ceil_mode=True, count_include_pad=False, divisor_override=3).mean([-2, -1], keepdim=True), 1)
        return self.fc(torch.cat((a, b, c), dim=1).relu())

def test_functional_forms_and_fusion():
    g = check(randomize_bn(Functional()), (3, 11, 13))
    assert not any(o.kind == 'act' for o in g.ops), [(o.kind, o.act) for o in g.ops]     # all fused
    assert [o.act for o in g.ops if o.kind == 'add'] == [None, 'relu6']
    assert sum(o.kind == 'adaptive_avgpool2d' for o in g.ops) == 2

def test_concat_of_many_inputs_is_chained():
    class Many(nn.Module):
        def __init__(self): super().__init__(); self.c = nn.ModuleList(nn.Conv2d(3, 2, 1) for _ in range(11)); self.fc = nn.Linear(22, 3)
        def forward(self, x): return self.fc(torch.flatten(F.adaptive_avg_pool2d(torch.cat([c(x) for c in self.c], 1), 1), 1))
    g = check(Many().eval(), (3, 5, 5))
    assert all(len(o.inputs) <= 8 for o in g.ops) and sum(o.kind == 'concat' for o in g.ops) == 2

def test_batchnorm_placements():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn_in = nn.BatchNorm2d(3)                      # on the input: depthwise 1x1 conv
            self.c = nn.Conv2d(3, 6, 3); self.bn = nn.BatchNorm2d(6)   # conv output read twice: not foldable
            self.bn1 = nn.BatchNorm1d(6); self.fc = nn.Linear(6, 5); self.bn2 = nn.BatchNorm1d(5)
        def forward(self, x):
            y = self.c(self.bn_in(x))
            y = self.bn(y) + y
            v = F.dropout(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1), 0.5, self.training)
            return self.bn2(self.fc(self.bn1(v)))                 # bn1 -> into fc's input side; bn2 -> into fc's output
    g = check(randomize_bn(M()), (3, 7, 9))
    convs = [o for o in g.ops if o.kind == 'conv2d']
    assert len(convs) == 3 and sum(o.attrs['groups'] == o.attrs['out_c'] for o in convs) == 2
    assert sum(o.kind == 'linear' for o in g.ops) == 1

def test_trace_keeps_training_mode():
    m = nn.Sequential(nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)).train()
    trace_graph(m, (3, 4, 4))
    assert m.training

@pytest.mark.filterwarnings('ignore:Using padding=.same.')
@pytest.mark.parametrize('model,words', [
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU(), nn.Flatten(), nn.Linear(4, 2)), ["module '1'", 'GELU']),
    (nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode='reflect'), nn.Flatten(), nn.Linear(36, 2)), ['reflect']),
    (nn.Sequential(nn.Conv2d(3, 4, 2, padding='same'), nn.Flatten(), nn.Linear(36, 2)), ["padding='same'"]),
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(4, 2)), ['Tanh']),
])
def test_refusals_name_the_op(model, words):
    with pytest.raises(ValueError) as e: trace_graph(model.eval(), (3, 3, 3))
    for w in words: assert w in str(e.value), str(e.value)
    assert 'unsupported operation' in str(e.value)

def test_scalar_ops_refused():
    class M(nn.Module):
        def __init__(self): super().__init__(); self.fc = nn.Linear(3, 2)
        def forward(self, x): return self.fc(torch.flatten(F.adaptive_avg_pool2d(x * 2, 1), 1))
    with pytest.raises(ValueError, match='mul'): trace_graph(M(), (3, 4, 4))

def test_class_names_and_output_checks(tmp_path):
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    with pytest.raises(ValueError, match='2 class names for 3 classes'): trace_graph(m, (3, 2, 2), class_names=['a', 'b'])
    export_model(m, tmp_path/'m.bin', (3, 2, 2), class_names=['a', 'b', 'ç'])
    h = read_model_header(tmp_path/'m.bin')
    assert h['class_names'] == ['a', 'b', 'ç'] and h['kind'] == 'f32' and h['num_classes'] == 3
    x = torch.randn(2, 3, 2, 2)
    np.testing.assert_allclose(reference_run(tmp_path/'m.bin', x), m(x).detach().numpy(), rtol=1e-5, atol=1e-6)

def sq8_file(path, shift=20, **kw):
    "quantize -> conv 1x1 (sq8) -> flatten -> dequantize: the smallest valid static int8 model."
    v = [dict(shape=(2, 1, 1)), dict(shape=(2, 1, 1), dtype='i8', scale=0.05, zero_point=3), dict(shape=(3, 1, 1), dtype='i8', scale=0.1, zero_point=-2),
         dict(shape=(3, 1, 1), dtype='i8', scale=0.1, zero_point=-2), dict(shape=(3, 1, 1))]
    ops = [dict(type='quantize', inputs=[0], out=1),
           dict(type='conv2d', inputs=[1], out=2, attr=dict(out_c=3, in_c=2, kh=1, kw=1, sh=1, sw=1, dh=1, dw=1, groups=1), params=[0, 1, 2, 3], qmin=-2, qmax=127),
           dict(type='flatten', inputs=[2], out=3), dict(type='dequantize', inputs=[3], out=4)]
    params = [np.ones((3, 2), np.int8), np.zeros(3, np.int32), np.full(3, 1 << 20, np.int32), np.full(3, shift, np.int32)]
    return write_model_file(path, 'sq8', (2, 1, 1), ['a', 'b', 'c'], v, ops, params, 4, **kw)

def test_int8_kinds_through_the_generic_writer(tmp_path):
    sq8_file(tmp_path/'s.bin')
    mf = read_model_file(tmp_path/'s.bin')
    assert mf['kind'] == 'sq8' and [o['type'] for o in mf['ops']] == ['quantize', 'conv2d', 'flatten', 'dequantize']
    assert mf['ops'][1]['params'] == [0, 1, 2, 3] + [None] * 4 and mf['ops'][1]['qmin'] == -2 and mf['values'][1]['zero_point'] == 3
    raw = (tmp_path/'s.bin').read_bytes(); h = HEADER.unpack(raw)   # every param's data 64-byte aligned in the file
    assert all(PARAM.unpack(raw, h['params_off'] + PARAM.size * i)['offset'] % 64 == 0 for i in range(h['n_params']))
    assert h['data_off'] % 64 == 0
    assert mf['params'][0].shape == (3, 2) and PARAM.unpack(raw, h['params_off'])['dims'] == [1, 1, 1, 32]   # read back (O, K), stored blocked
    with pytest.raises(ValueError, match='shift'): sq8_file(tmp_path/'bad.bin', shift=63)
    assert not (tmp_path/'bad.bin').exists() and not list(tmp_path.glob('.bad.bin*'))   # nothing half-written

def test_failed_write_keeps_the_old_file(tmp_path):
    sq8_file(tmp_path/'s.bin')
    before = (tmp_path/'s.bin').read_bytes()
    with pytest.raises(ValueError): sq8_file(tmp_path/'s.bin', shift=0)
    assert (tmp_path/'s.bin').read_bytes() == before

def test_reader_refuses_section_overlap_and_bad_param_offsets(tmp_path):
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    export_model(m, tmp_path/'m.bin', (3, 2, 2))
    raw = bytearray((tmp_path/'m.bin').read_bytes())
    h, o = HEADER.unpack(raw), HEADER.offsets
    bad = bytearray(raw); struct.pack_into('<Q', bad, o['ops_off'], h['values_off'])          # ops_off = values_off
    (tmp_path/'b.bin').write_bytes(fix_checksum(bad))
    with pytest.raises(ValueError, match='overlap'): read_model_file(tmp_path/'b.bin')
    bad = bytearray(raw); struct.pack_into('<Q', bad, h['params_off'] + 24, h['data_off'] + 4)   # param 0 offset unaligned
    (tmp_path/'b.bin').write_bytes(fix_checksum(bad))
    with pytest.raises(ValueError, match='param 0'): read_model_file(tmp_path/'b.bin')
