"""The real pipeline, end to end, with the tiny ci profile (what `make pipeline` does with params/default.yaml)."""
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pipeline_ci_profile(tmp_path):
    run = tmp_path / 'run'
    r = subprocess.run([sys.executable, '-m', 'tinyruntime.pipeline', '--profile', 'params/ci.yaml', '--run_dir', str(run)],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    s = json.loads((run / 'summary.json').read_text())
    assert s['stages']['02_train']['status'] == 'ok' and s['stages']['03_test_dataset_generator']['status'] == 'ok'
    assert all(v['status'] in ('ok', 'skipped') for v in s['stages'].values())
    assert s['params']['epochs'] == 1 and s['total_wall_s'] > 0
    tr, ts = s['metrics']['train'], s['metrics']['test_dataset_generator']
    assert tr['arch'] == 'resnet18' and tr['test_accuracy'] >= 0.3 and tr['model_bytes'] > 40_000_000
    assert ts['images'] == 100 and ts['pytorch_accuracy'] == ts['dataset_accuracy']
    assert (run / 'model' / 'model.safetensors').exists() and (run / 'test' / 'manifest.json').exists()
    for st, v in s['stages'].items():
        if v['status'] == 'ok':
            nb = json.loads((run / f'{st}.ipynb').read_text())
            assert any('injected-parameters' in c['metadata'].get('tags', []) for c in nb['cells'])
    assert 'total' in r.stdout


def test_pipeline_bad_parameter_fails_with_one_line(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'tinyruntime.pipeline', '--profile', 'params/ci.yaml', '--arch', 'nonet',
                        '--run_dir', str(tmp_path / 'run'), '--stages', '02_train'], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("pipeline: error: stage 02_train failed: ModelError: unknown architecture 'nonet'")
    assert json.loads((tmp_path / 'run' / 'summary.json').read_text())['stages']['02_train']['status'] == 'failed'
    r = subprocess.run([sys.executable, '-m', 'tinyruntime.pipeline', '--profile', 'params/nope.yaml'],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode != 0 and 'params/nope.yaml: no such profile' in r.stderr
