"""The console scripts' --help says what each option takes: true/false for booleans, the stages, no misleading defaults."""
import os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def help_of(script):
    r = subprocess.run([str(BIN / script), '--help'], capture_output=True, text=True, timeout=900, cwd=ROOT,
                       env={**os.environ, 'COLUMNS': '100'})
    assert r.returncode == 0, r.stderr
    return ' '.join(r.stdout.split())        # argparse wraps lines: compare words


def options(h):
    "{option: its help text} from a flattened --help."
    parts = re.split(r' (?=--[a-z_-]+ )', h[h.index('options:'):])
    return {p.split()[0]: p for p in parts[1:]}


@pytest.mark.parametrize('script', ['tinyruntime_train', 'tinyruntime_testset', 'tinyruntime_pipeline'])
def test_boolean_options_say_true_false(script):
    opts = options(help_of(script))
    assert opts
    for name, text in opts.items():
        if re.search(r'\(default: (True|False)\)', text): assert 'true/false' in text, text
        assert not name.startswith('--no-'), text        # a --no-x flag shown with "(default: True)" misleads


def test_pipeline_help_lists_the_stages():
    from tinyruntime.pipeline import STAGES
    h = options(help_of('tinyruntime_pipeline'))['--stages']
    for s in STAGES: assert s in h, h
    assert '--batch_size' in help_of('tinyruntime_pipeline')


def test_testset_verify_false_and_bad_out(tmp_path):
    r = subprocess.run([str(BIN / 'tinyruntime_testset'), '--out', str(tmp_path / 't'), '--img_size', '8', '--per_class', '1',
                        '--verify', 'false'], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert r.returncode == 0 and 'wrote 10 images' in r.stdout, r.stderr
    (tmp_path / 'f').write_text('x')
    r = subprocess.run([str(BIN / 'tinyruntime_testset'), '--out', str(tmp_path / 'f' / 't')], capture_output=True, text=True,
                       timeout=900, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        f"tinyruntime_testset: error: {tmp_path / 'f' / 't'}: cannot create the test set folder ({tmp_path / 'f'} is not a folder)"]


def test_runtime_help_names_the_console_scripts():
    from tinyruntime.runtime import build_runtime
    for name, binary in build_runtime().items():
        if binary is None: continue
        h = subprocess.run([str(binary), '--help'], capture_output=True, text=True, timeout=60).stdout
        assert 'tinyruntime.export' not in h and 'tinyruntime_export' in h and 'tinyruntime_quantize' in h, (name, h)
