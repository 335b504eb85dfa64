"""Interrupting a console script never costs the previous output, nor leaves a partial file under the
final name.

Each writer (tinyruntime_train, tinyruntime_testset, tinyruntime_export, tinyruntime_quantize, on a
ResNet18 at 64x64 trained on 32 images: its 45 MB weights file takes a while to write; at 32x32 and below the
exporters cut the taps of its last 3x3 convs that read only padding, and the int8 files got small enough to be
written before any stop landed) first runs to
completion as its installed console script, which makes the "previous" output. Then it runs again and is
stopped at several points (these runs are the same console script, run in a process forked from one that
has imported torch and torchvision already, tests/preloaded_cli.py: a fresh interpreter would spend ~15 s of
CPU on those imports before the writing that is tested here even begins):
SIGINT the moment its temporary file or folder appears (the write has begun), SIGTERM 10 ms and
SIGKILL 30 ms later (mid-write). After each:
- the output under its final name is complete and valid (loads): byte for byte the previous one, or
  the whole new one when the signal came after the final rename (at least one stop must land before
  it, leaving the previous output);
- beside it there is nothing but hidden temporaries (`.name.tmp-...`, left by SIGKILL/SIGTERM, which
  no process can clean up) - after SIGINT, not even those.
"""
import hashlib, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent
SIZE = 64

def snapshot(p: Path) -> dict:
    "relative path -> sha256 of every file under p (or of p itself)."
    if p.is_file(): return {'.': hashlib.sha256(p.read_bytes()).hexdigest()}
    return {str(f.relative_to(p)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(p.rglob('*')) if f.is_file()}

def valid_model_folder(p):
    from safetensors import safe_open
    cfg = json.loads((p/'config.json').read_text())
    with safe_open(str(p/'model.safetensors'), 'pt') as f: assert len(list(f.keys())) > 10
    assert cfg['arch'] == 'resnet18' and sorted(x.name for x in p.iterdir()) == ['config.json', 'model.safetensors']

def valid_test_set(p):
    man = json.loads((p/'manifest.json').read_text())
    n = 4 * SIZE * SIZE * man['shape'][0]
    assert man['total'] == len(man['files']) > 0
    assert all((p/f).stat().st_size == n for f in man['files'])

def valid_model_file(p):
    from tinyruntime.export import read_model_header
    h = read_model_header(p)
    assert h['file_bytes'] == p.stat().st_size and h['num_classes'] == 10

def tmp_entries(parent, name):
    return [q for q in parent.iterdir() if q.name.startswith(f'.{name}.')]

@pytest.fixture(scope='module')
def preloaded():
    "Ask tests/preloaded_cli.py: ask('run', console script, stderr file, *args) -> pid; ask('poll' or 'wait', pid) -> 'running' or the exit code."
    p = subprocess.Popen([sys.executable, str(Path(__file__).parent/'preloaded_cli.py')], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == 'ready', 'tests/preloaded_cli.py did not start'
        def ask(*words):
            p.stdin.write('\0'.join(map(str, words)) + '\n'); p.stdin.flush()
            a = p.stdout.readline().strip()
            return a if a == 'running' else int(a)
        yield ask
    finally:
        p.stdin.close(); p.wait(timeout=60)

def run_and_stop(ask, cmd, out: Path, sig, when, t_full, err_file: Path):
    """Start cmd (its console script, in a child of the preloaded process); send sig when a temporary beside `out`
    appears (when = ('tmp', extra delay)) or after a fraction of the full run (when = ('frac', f)); return the exit
    code and stderr."""
    pid = ask('run', cmd[0], err_file, *cmd[1:])
    t0, kind, x = time.time(), *when
    deadline = t0 + 10 * t_full + 60
    try:
        while ask('poll', pid) == 'running' and time.time() < deadline:
            if kind == 'tmp' and tmp_entries(out.parent, out.name):
                time.sleep(x); os.kill(pid, sig); break
            if kind == 'frac' and time.time() - t0 >= x * t_full:
                os.kill(pid, sig); break
            time.sleep(0.002)
        while (rc := ask('poll', pid)) == 'running' and time.time() < deadline: time.sleep(0.01)
    finally:
        if ask('poll', pid) == 'running': os.kill(pid, signal.SIGKILL)
        rc = ask('wait', pid)
    assert time.time() < deadline, f'{cmd[0]}: did not finish'
    return rc, err_file.read_text(errors='replace')

STOPS = [(signal.SIGINT, ('tmp', 0)), (signal.SIGTERM, ('tmp', 0.01)), (signal.SIGKILL, ('tmp', 0.03))]

@pytest.fixture(scope='module')
def base(tmp_path_factory):
    "A trained model folder that the other writers read."
    d = tmp_path_factory.mktemp('interrupts')
    r = subprocess.run([str(BIN/'tinyruntime_train'), '--arch', 'resnet18', '--epochs', '1', '--limit', '32', '--img_size',
                        str(SIZE), '--batch_size', '32', '--threads', '1', '--out', str(d/'model')], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d

def writers(d):
    "name -> (command, output path, validity check)"
    m = d/'model'
    return {
        'train': ([BIN/'tinyruntime_train', '--arch', 'resnet18', '--epochs', '1', '--limit', '32', '--img_size', SIZE,
                   '--batch_size', '32', '--threads', '1', '--out', d/'w_train'/'model'], d/'w_train'/'model', valid_model_folder),
        'testset': ([BIN/'tinyruntime_testset', '--model', m, '--per_class', '3', '--out', d/'w_testset'/'test'],
                    d/'w_testset'/'test', valid_test_set),
        'export': ([BIN/'tinyruntime_export', '--model', m, '--out', d/'w_export'/'model.bin'], d/'w_export'/'model.bin',
                   valid_model_file),
        'quantize': ([BIN/'tinyruntime_quantize', '--model', m, '--kind', 'dq8', '--out', d/'w_quantize'/'model.bin'],
                     d/'w_quantize'/'model.bin', valid_model_file),
    }

@pytest.mark.parametrize('name', ['train', 'testset', 'export', 'quantize'])
def test_interrupted_writer_keeps_previous_output(base, preloaded, name, tmp_path):
    cmd, out, valid = writers(base)[name]
    t0 = time.time()
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    t_full = time.time() - t0
    assert r.returncode == 0, r.stderr
    valid(out)
    prev = snapshot(out)
    outcomes = []
    for sig, when in STOPS:
        rc, err = run_and_stop(preloaded, cmd, out, sig, when, t_full, tmp_path/f'{sig.name}.err')
        assert out.exists(), f'{name}: {sig.name} at {when} (exit {rc}) removed {out}'
        valid(out)
        now = snapshot(out)
        assert now.keys() == prev.keys(), f'{name}: {sig.name} at {when} (exit {rc}): files {now.keys()} != {prev.keys()}'
        outcomes.append((sig.name, when, rc, now == prev))
        prev = now
        visible = [q.name for q in out.parent.iterdir() if not q.name.startswith('.')]
        assert visible == [out.name], f'{name}: {sig.name} at {when}: {visible} beside the output'
        left = tmp_entries(out.parent, out.name)
        if sig == signal.SIGINT: assert not left, f'{name}: SIGINT left {left}'
        assert 'Traceback' not in err or sig == signal.SIGINT, err[-2000:]
    print(name, f'{t_full:.1f}s', outcomes)
    assert any(rc != 0 and same for *_, rc, same in outcomes), f'{name}: no stop landed mid-write: {outcomes}'
