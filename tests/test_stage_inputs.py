"""A later stage run alone in a new run folder refuses to start, naming the missing input and the stage that makes it
(issue 10, item 5): it never trains a placeholder model of its own."""
import json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.mark.parametrize('stage,missing,maker', [('06_quantize', 'model/config.json', '02_train'),
                                                 ('05_export', 'model/config.json', '02_train')])
def test_stage_alone_refuses_missing_inputs(tmp_path, stage, missing, maker):
    run = tmp_path/'run'
    r = subprocess.run([sys.executable, '-m', 'tinyruntime.pipeline', '--profile', 'params/ci.yaml', '--run_dir', str(run), '--stages', stage],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert f'{run/missing}: missing; stage {stage} needs the trained model that stage {maker} writes' in last, last
    assert not (run/'model').exists() and not (run/'export').exists()      # nothing made up
    assert json.loads((run/'summary.json').read_text())['stages'][stage]['status'] == 'failed'

def test_missing_test_set_names_its_stage(tmp_path):
    from tinyruntime.core import stage_inputs, TinyError
    (tmp_path/'model').mkdir(); (tmp_path/'model'/'config.json').write_text('{}')
    with pytest.raises(TinyError, match='test/manifest.json: missing; stage 06_quantize needs the test set that stage 03_test_dataset_generator'):
        stage_inputs(tmp_path, '06_quantize')
