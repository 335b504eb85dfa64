"""Datasets and test sets from the shell and on disk: image folders, local HF datasets, tinyruntime_testset."""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image

from tinyruntime.data import load_dataset_splits, DataError, IMAGENET_MEAN
from tinyruntime.test_dataset_generator import write_test_set, read_test_set, verify_test_set
from tinyruntime.train import train

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def make_folder(root, splits=('train', 'val'), classes=('n01', 'n02', 'n03'), n=8):
    for s in splits:
        for ci, c in enumerate(classes):
            d = Path(root, s, c) if s else Path(root, c); d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                arr = np.full((24, 30, 3), 30 * ci + 3 * i, np.uint8); arr[:, :, ci] = 255
                Image.fromarray(arr).save(d / f"img{i}.{'JPEG' if i % 2 else 'png'}")
    return Path(root)


def test_image_folder_preprocessing(tmp_path):
    s = load_dataset_splits(str(make_folder(tmp_path / 'nette')), img_size=16)
    assert s.class_names == ['n01', 'n02', 'n03'] and s.mean == IMAGENET_MEAN and s.test_split == 'valid'
    x, y = s.valid[0]
    im = Image.open(tmp_path / 'nette' / 'val' / 'n01' / s.valid.files[0].name).convert('RGB')
    ref = (torch.tensor(np.asarray(im.resize((20, 16), Image.BILINEAR).crop((2, 0, 18, 16)), np.float32) / 255).permute(2, 0, 1)
           - torch.tensor(IMAGENET_MEAN)[:, None, None]) / torch.tensor(s.std)[:, None, None]
    assert x.shape == (3, 16, 16) and torch.allclose(x, ref, atol=1e-6)


def test_missing_split_and_classes_name_the_path(tmp_path):
    make_folder(tmp_path / 'd', splits=('test',))
    with pytest.raises(DataError, match=f"{tmp_path / 'd'}: missing split 'train'"): load_dataset_splits(str(tmp_path / 'd'))
    (tmp_path / 'e' / 'train' / 'cls').mkdir(parents=True); (tmp_path / 'e' / 'val').mkdir()
    with pytest.raises(DataError, match=f"{tmp_path / 'e' / 'train'}: no classes"): load_dataset_splits(str(tmp_path / 'e'))


def test_hf_dataset_without_splits_and_columns(tmp_path):
    import datasets
    ds = datasets.Dataset.from_dict({'picture': [Image.new('RGB', (10, 10), (i, i, i)) for i in range(30)],
                                     'label': ['cat', 'dog', 'eel'] * 10},
                                    features=datasets.Features({'picture': datasets.Image(), 'label': datasets.Value('string')}))
    ds.save_to_disk(str(tmp_path / 'hf'))
    s = load_dataset_splits(str(tmp_path / 'hf'), img_size=8)
    assert s.class_names == ['cat', 'dog', 'eel'] and (len(s.train), len(s.valid), len(s.test)) == (21, 3, 6)
    assert s.test[0][0].shape == (3, 8, 8)
    ds.remove_columns('label').save_to_disk(str(tmp_path / 'hf2'))
    with pytest.raises(DataError, match='no label column'): load_dataset_splits(str(tmp_path / 'hf2'))


def test_testset_on_image_folder_end_to_end(tmp_path):
    "Train on an image folder, write its test set with the CLI, read it back, accuracy matches."
    root = make_folder(tmp_path / 'nette', splits=('train', 'val', 'test'))
    train('resnet18', epochs=1, dataset=str(root), img_size=32, out=tmp_path / 'model', quiet=True)
    r = subprocess.run([str(BIN / 'tinyruntime_testset'), '--model', str(tmp_path / 'model'), '--dataset', str(root),
                        '--out', str(tmp_path / 'test'), '--per_class', '5'], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    x, y, man = read_test_set(tmp_path / 'test')
    assert x.shape == (15, 3, 32, 32) and man['counts'] == {'0': 5, '1': 5, '2': 5} and man['source']['split'] == 'test'
    assert man['class_names'] == ['n01', 'n02', 'n03'] and man['mean'] == IMAGENET_MEAN
    assert 'PyTorch accuracy' in r.stdout
    assert sorted(os.listdir(tmp_path)) == ['model', 'nette', 'test']


def test_testset_errors(tmp_path):
    r = subprocess.run([str(BIN / 'tinyruntime_testset'), '--dataset', str(tmp_path / 'none'), '--out', str(tmp_path / 't')],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and str(tmp_path / 'none') in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / 't').exists()
    man = write_test_set(tmp_path / 't', 'builtin', img_size=16, per_class=2)
    (tmp_path / 't' / man['files'][0]).unlink()
    with pytest.raises(DataError, match=f"{man['files'][0]}: missing"): read_test_set(tmp_path / 't')
