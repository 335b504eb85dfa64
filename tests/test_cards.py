"""Hub cards (tinyruntime.cards), rendered offline into local folders and read back with huggingface_hub's own
card parser: the model card of a trained model folder and the dataset card of a written test set say what the
files hold (checked against the files), and push_model writes its card before it reaches the network.
"""
import json, os
from pathlib import Path
import pytest
import torch
from huggingface_hub import ModelCard, DatasetCard
from tinyruntime.cards import write_model_card, write_dataset_card, model_card
from tinyruntime.train import train, push_model
from tinyruntime.test_dataset_generator import write_test_set

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp('cards')
    torch.manual_seed(0)
    train('resnet18', epochs=1, dataset='builtin', out=d/'model', limit=200, quiet=True)
    write_test_set(d/'test', 'builtin', model=d/'model', per_class=2)
    return d

def test_model_card(trained, tmp_path):
    cfg = json.loads((trained/'model'/'config.json').read_text())
    p = write_model_card(trained/'model', 'someone/digits-resnet18', metrics={'run (f32)': 50.0}, out=tmp_path/'README.md')
    card = ModelCard.load(p)
    assert card.data.library_name == 'pytorch' and 'tinyruntime' in card.data.tags and 'resnet18' in card.data.tags
    assert card.data.metrics == ['accuracy']
    res = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert res[f"test accuracy (PyTorch, {cfg['test_split']} split)"] == pytest.approx(100 * cfg['test_accuracy'], abs=0.01)
    assert res['run (f32)'] == 50.0
    text = p.read_text()
    assert ' × '.join(map(str, cfg['input_shape'])) in text and f"{len(cfg['class_names'])} classes" in text
    for n in cfg['class_names']: assert f'| {n} |' in text
    assert json.dumps([round(m, 6) for m in cfg['mean']]) in text and json.dumps([round(s, 6) for s in cfg['std']]) in text
    assert not (trained/'model'/'README.md').exists(), 'rendering into another folder leaves the model folder alone'

def test_model_card_class_names_are_safe():
    cfg = dict(arch='resnet18', class_names=['a: b', '"q"', '---', 'x|y'], input_shape=[3, 8, 8], mean=[0] * 3, std=[1] * 3, dataset='x/y')
    text = model_card(cfg, 'o/n')
    import yaml
    meta = yaml.safe_load(text.split('\n---\n')[0].lstrip('-\n'))
    assert meta['datasets'] == ['x/y'] and 'model-index' not in meta       # nothing measured: no evaluation results

def test_dataset_card(trained, tmp_path):
    man = json.loads((trained/'test'/'manifest.json').read_text())
    p = write_dataset_card(trained/'test', 'someone/digits-test', out=tmp_path/'README.md')
    card = DatasetCard.load(p)
    assert 'tinyruntime' in card.data.tags and card.data.task_categories == ['image-classification']
    text = p.read_text()
    c, h, w = man['shape']
    f = trained/'test'/man['files'][0]
    assert f'{c} × {h} × {w}' in text and f'{f.stat().st_size} bytes' in text    # the layout the card states is the files'
    for i, n in enumerate(man['class_names']): assert f"| {i} | {n} | {man['counts'].get(str(i), 0)} |" in text
    assert f"**{man['total']}**" in text
    assert not (trained/'test'/'README.md').exists()

def test_push_model_writes_its_card_first(trained, tmp_path):
    "Offline (HF_HUB_OFFLINE=1, in a child process) the upload fails, after the card is written into the model folder."
    import shutil, subprocess, sys
    folder = tmp_path/'model'; shutil.copytree(trained/'model', folder)
    code = f"from tinyruntime.train import push_model\ntry: push_model({str(folder)!r}, 'nobody/never-created')\nexcept Exception as e: print(type(e).__name__)"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE='1', HF_TOKEN=''))
    assert 'Offline' in r.stdout, r.stdout + r.stderr
    assert ModelCard.load(folder/'README.md').data.library_name == 'pytorch'
