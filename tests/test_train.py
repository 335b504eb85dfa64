"""Training across processes and from the shell: torchrun with 2 CPU processes, the console script, model folders."""
import json, os, subprocess, sys
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=kw.pop('cwd', ROOT), timeout=kw.pop('timeout', 900), **kw)


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


def small_folder(root, per_class=30, classes=3, val=10, seed=0):
    "A small image folder: `per_class` train and `val` valid images per class, each class its own noisy pattern."
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:40, 0:40]
    patterns = [(np.sin(xx / (2 + c)) * np.cos(yy / (3 + 2 * c)) + 1) * 100 for c in range(classes)]
    for split, n in (('train', per_class), ('val', val)):
        for c in range(classes):
            d = Path(root, split, f'c{c}'); d.mkdir(parents=True)
            for i in range(n):
                img = patterns[c][..., None] + rng.normal(0, 40, (40, 40, 3)) + rng.integers(-30, 30)
                Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(d / f'{i}.png')
    return Path(root)


def test_small_dataset_trains(tmp_path):
    "90 images of 3 classes: the batch size comes from the dataset size, and 6 epochs learn (64 would take 6 steps in all)."
    from tinyruntime.train import train
    root = small_folder(tmp_path / 'd')
    _, cfg = train('resnet18', epochs=6, dataset=str(root), img_size=32, quiet=True)
    assert cfg['train_params']['batch_size'] == 8 and cfg['train_params']['steps'] == 6 * 11
    assert cfg['test_accuracy'] > 0.6, cfg['history']                   # chance is 1/3
    r = run(BIN / 'tinyruntime_train', '--dataset', root, '--img_size', 32, '--epochs', 1, '--limit', 30, '--batch_size', 64,
            '--out', tmp_path / 'm')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'train: warning: only 1 optimizer steps' in r.stderr and '--batch_size 8' in r.stderr


def test_cli_modules_leave_torchvision_for_later():
    """train, testset and compile import torchvision where they build a model: its import pulls in torch._dynamo (6-10 s of
    CPU on a slow host), which an argument error or --help need not pay."""
    r = run(sys.executable, '-c', 'import sys, tinyruntime.train, tinyruntime.test_dataset_generator, tinyruntime.compile; '
            'print("torchvision" in sys.modules)')
    assert r.returncode == 0 and r.stdout.strip() == 'False', (r.stdout, r.stderr[-2000:])


def test_bad_inputs_fail_before_any_work(tmp_path):
    (tmp_path / 'file').write_text('x')
    r = run(BIN / 'tinyruntime_train', '--out', tmp_path / 'file' / 'model')
    assert r.returncode == 2 and 'epoch' not in r.stdout
    assert r.stderr.strip().splitlines() == [f"tinyruntime_train: error: {tmp_path / 'file' / 'model'}: cannot create the model folder "
                                             f"({tmp_path / 'file'} is not a folder)"]
    small_folder(tmp_path / 'one', per_class=4, classes=1, val=2)
    r = run(BIN / 'tinyruntime_train', '--dataset', tmp_path / 'one', '--out', tmp_path / 'm')
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        f"tinyruntime_train: error: {tmp_path / 'one' / 'train'}: only 1 class ('c0'); a classifier needs at least 2 (one <class> folder each)"]
    r = run(BIN / 'tinyruntime_train', '--dataset', 'mydata', '--out', tmp_path / 'm', cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "tinyruntime_train: error: mydata: no such dataset folder (and not a Hub repo id of the form owner/name)"]
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1'}
    r = run(BIN / 'tinyruntime_train', '--dataset', 'nobody-here/no-such-data', '--out', tmp_path / 'm', cwd=tmp_path, env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "nobody-here/no-such-data: no such local dataset folder, and the Hub could not provide it" in r.stderr
    assert not (tmp_path / 'm').exists()


def test_model_files_follow_the_umask(tmp_path):
    r = subprocess.run([str(BIN / 'tinyruntime_train'), '--epochs', '1', '--limit', '32', '--out', str(tmp_path / 'm')],
                       capture_output=True, text=True, cwd=ROOT, timeout=900, preexec_fn=lambda: os.umask(0o022))
    assert r.returncode == 0, r.stderr[-3000:]
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in [tmp_path / 'm', *(tmp_path / 'm').iterdir()]}
    assert modes == {'m': '0o755', 'config.json': '0o644', 'model.safetensors': '0o644'}


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
