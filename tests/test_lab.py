"""`make lab`: JupyterLab starts (as root too), serves the repository root (nbs/ and runs/) and says its URL."""
import json, os, re, signal, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_lab_answers_over_http(tmp_path):
    env = {**os.environ, 'PORT': '18888', 'IP': '127.0.0.1', 'JUPYTER_RUNTIME_DIR': str(tmp_path / 'runtime'),
           'JUPYTER_CONFIG_DIR': str(tmp_path / 'config'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp_path / 'ws')}
    p = subprocess.Popen(['bash', 'scripts/lab.sh'], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        url, seen, t0 = None, [], time.time()
        while url is None and time.time() - t0 < 60:
            line = p.stdout.readline()
            if not line: break
            seen.append(line)
            m = re.match(r'lab:\s+(http://127\.0\.0\.1:(\d+)/lab/tree/nbs\?token=(\w+))', line)
            if m: url, port, token = m.groups()
        assert url, ''.join(seen)
        listing = None
        while listing is None and time.time() - t0 < 120:       # the server takes a few seconds to listen
            assert p.poll() is None, ''.join(seen) + p.stdout.read()
            try:
                with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/contents?token={token}', timeout=5) as r:
                    assert r.status == 200; listing = json.loads(r.read())
            except OSError: time.sleep(0.5)
        assert listing is not None, 'no answer from the lab server within 120 s'
        names = {c['name'] for c in listing['content']}
        assert {'nbs', 'tests', 'Makefile'} <= names, names          # the repository root, not nbs/
        with pytest.raises(urllib.error.HTTPError):                   # and not without its token
            urllib.request.urlopen(f'http://127.0.0.1:{port}/api/contents', timeout=5)
    finally:
        if p.poll() is None: os.killpg(p.pid, signal.SIGTERM)
        try: p.wait(timeout=30)
        except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait(timeout=10)
    assert not list((tmp_path / 'runtime').glob('jpserver-*.json'))    # it shut down cleanly
