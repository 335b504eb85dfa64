"""The real pipeline, end to end, with the tiny ci profile (what `make pipeline` does with params/default.yaml)."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def leftovers(folder):
    "What is left under `folder`, with sizes: an empty list when nothing is."
    return [f"{p.relative_to(folder)} ({sum(f.stat().st_size for f in p.rglob('*') if f.is_file()) if p.is_dir() else p.stat().st_size} bytes)"
            for p in sorted(Path(folder).iterdir())]


def test_pipeline_ci_profile(tmp_path):
    "The whole pipeline: every stage ok, the batch size passed through, files as the umask says, nothing left in $TMPDIR."
    run, tmp = tmp_path / 'run', tmp_path / 'tmp'
    tmp.mkdir()
    r = subprocess.run([sys.executable, '-m', 'tinyruntime.pipeline', '--profile', 'params/ci.yaml', '--run_dir', str(run),
                        '--batch_size', '32'], capture_output=True, text=True, cwd=ROOT, timeout=1800,
                       env={**os.environ, 'TMPDIR': str(tmp)}, preexec_fn=lambda: os.umask(0o022))
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    s = json.loads((run / 'summary.json').read_text())
    assert all(v['status'] == 'ok' for v in s['stages'].values()) and list(s['stages']) == [
        '02_train', '03_test_dataset_generator', '05_export', '06_quantize']
    assert s['params']['epochs'] == 1 and s['params']['batch_size'] == 32 and s['total_wall_s'] > 0
    tr, ts = s['metrics']['train'], s['metrics']['test_dataset_generator']
    assert tr['arch'] == 'resnet18' and tr['batch_size'] == 32 and tr['test_accuracy'] >= 0.3 and tr['model_bytes'] > 40_000_000
    assert json.loads((run / 'model' / 'config.json').read_text())['train_params']['batch_size'] == 32
    assert ts['images'] == 100 and ts['pytorch_accuracy'] == ts['dataset_accuracy']
    assert (run / 'model' / 'model.safetensors').exists() and (run / 'test' / 'manifest.json').exists()
    for st, v in s['stages'].items():
        nb = json.loads((run / f'{st}.ipynb').read_text())
        assert any('injected-parameters' in c['metadata'].get('tags', []) for c in nb['cells'])
    assert 'total' in r.stdout
    private = [str(p.relative_to(run)) for p in run.rglob('*') if p.is_file() and p.stat().st_mode & 0o077 == 0]
    assert not private, f"files only their owner can read (mode 0600): {private}"
    assert not leftovers(tmp), f"the pipeline left in $TMPDIR: {leftovers(tmp)}"


def test_pipeline_bad_parameter_fails_with_one_line(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'tinyruntime.pipeline', '--profile', 'params/ci.yaml', '--arch', 'nonet',
                        '--run_dir', str(tmp_path / 'run'), '--stages', '02_train'], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("pipeline: error: stage 02_train failed: ModelError: unknown architecture 'nonet'")
    assert json.loads((tmp_path / 'run' / 'summary.json').read_text())['stages']['02_train']['status'] == 'failed'
    r = subprocess.run([sys.executable, '-m', 'tinyruntime.pipeline', '--profile', 'params/nope.yaml'],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode != 0 and 'params/nope.yaml: no such profile' in r.stderr


def test_make_pipeline_unknown_stage(tmp_path):
    "`make pipeline STAGES=02_trian`: an error that lists the stages, no run folder."
    runs = set((ROOT / 'runs').iterdir()) if (ROOT / 'runs').exists() else set()
    r = subprocess.run(['make', '-s', 'pipeline', 'STAGES=02_trian', 'PROFILE=params/ci.yaml'], capture_output=True, text=True,
                       cwd=ROOT, timeout=900)
    assert r.returncode != 0
    assert ("pipeline: error: unknown stage '02_trian' (did you mean '02_train'?): the stages are "
            "02_train, 03_test_dataset_generator, 05_export, 06_quantize") in r.stderr
    assert (set((ROOT / 'runs').iterdir()) if (ROOT / 'runs').exists() else set()) == runs
