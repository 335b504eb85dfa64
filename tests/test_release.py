"""The release plumbing of issue 9: the compiler images' Dockerfile and the GitHub workflows.

No Docker engine runs here, so the Dockerfile is checked by structure (one slim-Python base stage that
installs CPU-only torch once; targets compiler-export-{vanilla,dq,sq} built FROM it, each running exactly
`tinyruntime_compile --md md --data data` with its TINYRUNTIME_COMPILER), then each target's command is run as
the image would run it (its WORKDIR layout, its environment) on a real model folder. The workflows are parsed:
tests on every push run `make test`, the device binaries come from `make devices` and are tested, uploaded and
released on tags, the images are built for amd64 and arm64 with buildx and pushed on tags. hadolint and the
GitHub-workflow schema (scripts/test.sh runs both) must reject broken files, so the lint steps can fail.
"""
import configparser, json, os, re, shlex, shutil, subprocess, sys
from pathlib import Path
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {'compiler-export-vanilla': ('vanilla', 'f32'), 'compiler-export-dq': ('dq', 'dq8'), 'compiler-export-sq': ('sq', 'sq8')}

def stages():
    "{stage name: (FROM image, [instruction lines])} of the Dockerfile (continuation lines joined)."
    text = re.sub(r'\\\n', ' ', (ROOT/'Dockerfile').read_text())
    out, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'): continue
        m = re.match(r'FROM\s+(\S+)(?:\s+AS\s+(\S+))?$', line, re.I)
        if m: cur = m.group(2) or f'stage{len(out)}'; out[cur] = (m.group(1), []); continue
        if cur: out[cur][1].append(line)
    return out

def test_dockerfile_stages():
    st = stages()
    assert set(TARGETS) <= set(st)
    base_img, base = st['base']
    assert re.match(r'python:\$\{PYTHON_VERSION\}-slim$|python:3\.\d+-slim', base_img), base_img
    torch_runs = [l for s in st.values() for l in s[1] if l.startswith('RUN') and 'download.pytorch.org/whl/cpu' in l]
    assert len(torch_runs) == 1 and torch_runs[0] in base, 'CPU-only torch, installed once, in the base stage'
    others = [l for s in st.values() for l in s[1] if l.startswith('RUN') and re.search(r'\btorch\b', l) and l not in torch_runs]
    assert all("grep -vE '^(torch|torchvision)==' " in l for l in others), 'no other layer installs torch'
    for t, (comp, _) in TARGETS.items():
        frm, lines = st[t]
        assert frm == 'base', f'{t} must build on the shared base stage'
        cmd = [l for l in lines if l.startswith('CMD')]
        assert len(cmd) == 1 and json.loads(cmd[0][3:]) == ['tinyruntime_compile', '--md', 'md', '--data', 'data']
        assert f'ENV TINYRUNTIME_COMPILER={comp}' in lines
        assert not any(l.startswith('RUN') for l in lines), 'targets add no layers of their own'

def test_dockerfile_copies_what_the_package_needs():
    ign = (ROOT/'.dockerignore').read_text().split()
    copied = [w for l in stages()['base'][1] if l.startswith('COPY') for w in l.split()[1:-1]]
    for f in copied: assert f'!{f.rstrip("/")}' in ign or f'!{f.rstrip("/")}/' in ign, f'{f} is excluded by .dockerignore'
    assert {'settings.ini', 'setup.py', 'tinyruntime'} <= {c.rstrip('/') for c in copied}

def console_script(name):
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    return dict(s.split('=') for s in cfg['DEFAULT']['console_scripts'].split())[name]

@pytest.fixture(scope='module')
def model_folder(tmp_path_factory):
    import torch
    from tinyruntime.train import build_model, save_model
    from tinyruntime.runtime import write_tensor_files
    d = tmp_path_factory.mktemp('image')
    torch.manual_seed(0)
    save_model(build_model('resnet18', 3), d/'md', dict(arch='resnet18', num_classes=3, class_names=['a', 'b', 'c'],
                                                        input_shape=[3, 16, 16], mean=[0.5] * 3, std=[0.25] * 3))
    write_tensor_files(torch.randn(4, 3, 16, 16), d/'data', [0, 1, 2, 0])
    return d

@pytest.mark.parametrize('target', list(TARGETS))
def test_each_target_runs_its_command(model_folder, tmp_path, target):
    "The target's CMD, run like the image runs it: in a WORKDIR holding md/ and data/, with the target's ENV."
    _, lines = stages()[target]
    cmd = json.loads([l for l in lines if l.startswith('CMD')][0][3:])
    env = dict(os.environ, **dict(l[4:].split('=', 1) for l in lines if l.startswith('ENV ')))
    mod, fn = console_script(cmd[0]).split(':')
    argv = [sys.executable, '-c', f'import sys; sys.argv[0] = {cmd[0]!r}; from {mod} import {fn}; {fn}()', *cmd[1:]]
    work = tmp_path/'work'; shutil.copytree(model_folder, work)
    kinds = {'f32': None, 'dq8': {'type': 'dynamic', 'asymmetric': True}, 'sq8': {'type': 'static'}}
    for kind, q in kinds.items():
        (work/'md'/'model.bin').unlink(missing_ok=True)
        (work/'md'/'runtime_info.json').write_text(json.dumps({'runtime': 'tinyruntime', 'compression': {'quantization': q, 'pruning': 0}}))
        r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
        if kind == TARGETS[target][1]:
            assert r.returncode == 0, r.stderr
            assert (work/'md'/'model.bin').is_file() and f'{kind} model' in r.stdout
        else:
            assert r.returncode != 0 and target in r.stderr and not (work/'md'/'model.bin').exists(), r.stderr

def workflows():
    return {p.name: yaml.safe_load(p.read_text()) for p in (ROOT/'.github'/'workflows').glob('*.yml')}

def runs(wf):
    return [s.get('run', '') for j in wf['jobs'].values() for s in j['steps']]

def uses(wf):
    return [s.get('uses', '').split('@')[0] for j in wf['jobs'].values() for s in j['steps']]

def test_workflows():
    w = workflows()
    assert {'tests.yml', 'devices.yml', 'compilers.yml'} <= set(w)
    on = lambda wf: wf.get('on', wf.get(True))          # YAML 1.1 reads the key `on` as True
    assert 'push' in on(w['tests.yml']) and on(w['tests.yml'])['push'] in (None, {})
    readme = (ROOT/'README.md').read_text()
    assert 'make test' in readme and 'make test' in runs(w['tests.yml'])
    d = w['devices.yml']
    assert 'make devices' in runs(d) and any('tests/test_devices.py' in r for r in runs(d))
    assert 'actions/upload-artifact' in uses(d) and 'softprops/action-gh-release' in uses(d)
    rel = [s for j in d['jobs'].values() for s in j['steps'] if s.get('uses', '').startswith('softprops/')][0]
    assert rel['if'] == "startsWith(github.ref, 'refs/tags/')"
    c = w['compilers.yml']
    assert 'v*' in on(c)['push']['tags']
    assert {'docker/setup-buildx-action', 'docker/setup-qemu-action', 'docker/build-push-action'} <= set(uses(c))
    builds = [s['with'] for j in c['jobs'].values() for s in j['steps'] if s.get('uses', '').startswith('docker/build-push-action')]
    assert {b['target'] for b in builds} == {'base', *TARGETS}
    assert c['env']['PLATFORMS'] == 'linux/amd64,linux/arm64' and all(b['platforms'] == '${{ env.PLATFORMS }}' for b in builds)
    assert all('type=gha' in b['cache-from'] for b in builds)
    assert all(b['push'] == "${{ startsWith(github.ref, 'refs/tags/') }}" for b in builds if b['target'] != 'base')

def _tool(name):
    t = shutil.which(name) or (Path(sys.executable).parent/name)
    assert Path(t).exists(), f'{name} is not installed (settings.ini dev_requirements; scripts/test.sh installs it)'
    return str(t)

def test_linters_are_live(tmp_path):
    "The linters of scripts/test.sh pass the repository's files and reject broken ones."
    hl = _tool('hadolint')
    assert subprocess.run([hl, str(ROOT/'Dockerfile')], capture_output=True).returncode == 0
    (tmp_path/'Dockerfile').write_text('FROM python:latest\nRUN apt-get install curl\nRUN cd /tmp\n')
    r = subprocess.run([hl, str(tmp_path/'Dockerfile')], capture_output=True, text=True)
    assert r.returncode != 0 and 'DL3007' in r.stdout
    cj = _tool('check-jsonschema')
    wfs = sorted(str(p) for p in (ROOT/'.github'/'workflows').glob('*.yml'))
    assert subprocess.run([cj, '--builtin-schema', 'vendor.github-workflows', *wfs], capture_output=True).returncode == 0
    (tmp_path/'bad.yml').write_text('name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n')
    assert subprocess.run([cj, '--builtin-schema', 'vendor.github-workflows', str(tmp_path/'bad.yml')], capture_output=True).returncode != 0
