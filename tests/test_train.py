"""Training across processes and from the shell: torchrun with 2 CPU processes, the console script, model folders."""
import json, os, subprocess, sys
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=kw.pop('cwd', ROOT), timeout=kw.pop('timeout', 300), **kw)


def test_torchrun_two_cpu_processes(tmp_path):
    "The same entry point under torchrun: DDP with gloo on 2 CPU processes, rank 0 saves a loadable model."
    out = tmp_path / 'model'
    env = {**os.environ, 'CUDA_VISIBLE_DEVICES': ''}
    r = run(BIN / 'torchrun', '--standalone', '--nproc_per_node', 2, '-m', 'tinyruntime.train',
            '--epochs', 1, '--limit', 512, '--out', out, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    cfg = json.loads((out / 'config.json').read_text())
    assert cfg['train_params']['world_size'] == 2 and cfg['train_params']['device'] == 'cpu'
    assert cfg['arch'] == 'resnet18' and cfg['num_classes'] == 10 and cfg['input_shape'] == [3, 32, 32]
    assert 0.0 <= cfg['test_accuracy'] <= 1.0 and len(cfg['history']) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model']      # no temporary folders left
    from tinyruntime.train import load_model
    from tinyruntime.data import load_dataset_splits
    from tinyruntime.test_dataset_generator import accuracy_on
    m = load_model(out)
    te = load_dataset_splits('builtin', 32).test
    acc = accuracy_on(m, te.x, torch.tensor(te.labels))
    assert acc == pytest.approx(cfg['test_accuracy'], abs=1e-6)       # both ranks' shards counted once each
    assert r.stdout.count('valid accuracy') == 1                       # only rank 0 prints


def test_console_script_trains_and_fails_cleanly(tmp_path):
    r = run(BIN / 'tinyruntime_train', '--arch', 'mobilenet_v2', '--epochs', 1, '--limit', 64, '--out', tmp_path / 'm')
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((tmp_path / 'm' / 'config.json').read_text())['arch'] == 'mobilenet_v2'
    r = run(BIN / 'tinyruntime_train', '--arch', 'resnet1000', '--out', tmp_path / 'x')
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "tinyruntime_train: error: unknown architecture 'resnet1000': use a torchvision classifier, e.g. resnet18, resnet34, resnet50, mobilenet_v2"]
    r = run(BIN / 'tinyruntime_train', '--dataset', tmp_path / 'nodata', '--out', tmp_path / 'x')
    assert r.returncode == 2 and str(tmp_path / 'nodata') in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / 'x').exists()


def test_load_model_refuses_bad_folders(tmp_path):
    from tinyruntime.train import load_model, ModelError
    (tmp_path / 'm').mkdir()
    (tmp_path / 'm' / 'config.json').write_text('{"arch": "resnet18"')
    (tmp_path / 'm' / 'model.safetensors').write_bytes(b'junk')
    with pytest.raises(ModelError, match='config.json: not valid JSON'): load_model(tmp_path / 'm')
    (tmp_path / 'm' / 'config.json').write_text(json.dumps(dict(arch='resnet18', num_classes=10, class_names=list('0123456789'),
                                                                input_shape=[3, 32, 32], mean=[0] * 3, std=[1] * 3)))
    with pytest.raises(ModelError, match='model.safetensors: unreadable'): load_model(tmp_path / 'm')
    with pytest.raises(ModelError, match='no such model folder'): load_model('./not/here')
