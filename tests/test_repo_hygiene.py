"""The repository itself: no secret and no untrusted pickle.

1. No token-shaped string anywhere in the tree that git would commit (tracked files and untracked ones
   not ignored), notebooks read cell by cell, sources and outputs alike: Hugging Face (`hf_...`),
   GitHub (`ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`, `github_pat_`), AWS access keys and secrets, Slack and
   OpenAI-style keys, private-key blocks, and generic assignments `api_key = "..."` / `token: '...'` of
   a long random-looking literal. The scanner is tested on synthetic tokens built at run time (so this
   file holds none).
2. No pickle loaded by default: every `torch.load(` passes `weights_only=True`, and `pickle.load(s)`,
   `joblib.load`, `dill.load`, `np.load(..., allow_pickle=True)` appear only under an explicit trust flag
   (a name containing `trust` within the three lines before, e.g. `if trust_pickle:`).
"""
import json, re, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

def repo_files():
    "Files git would commit: tracked + untracked-not-ignored (a plain walk without git, minus the usual build dirs)."
    try:
        out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=ROOT,
                             capture_output=True, check=True).stdout
        return sorted({ROOT/p for p in out.decode().split('\0') if p and (ROOT/p).is_file()})
    except (OSError, subprocess.CalledProcessError):
        skip = {'.git', '.venv', 'build', '__pycache__', '_proc', 'runs', '.pytest_cache'}
        return sorted(p for p in ROOT.rglob('*') if p.is_file() and not skip & set(p.relative_to(ROOT).parts))

def texts(path):
    "(where, text) pieces of a file: a notebook's cells (source and every output), else the file; none for binaries."
    data = path.read_bytes()
    if len(data) > 20_000_000 or b'\0' in data[:8192]: return []
    text = data.decode('utf-8', errors='replace')
    if path.suffix != '.ipynb': return [(str(path.relative_to(ROOT)), text)]
    try: nb = json.loads(text)
    except ValueError: return [(str(path.relative_to(ROOT)), text)]
    out = [(f'{path.relative_to(ROOT)} (raw)', text)]
    for i, c in enumerate(nb.get('cells', [])):
        out.append((f'{path.relative_to(ROOT)} cell {i}', ''.join(c.get('source', []))))
        for o in c.get('outputs', []):
            parts = [o.get('text', '')] + [v for k, v in o.get('data', {}).items() if k.startswith('text')] + [o.get('evalue', ''), *o.get('traceback', [])]
            out.append((f'{path.relative_to(ROOT)} cell {i} output', '\n'.join(''.join(p) if isinstance(p, list) else str(p) for p in parts)))
    return out

SECRET_PATTERNS = {
    'Hugging Face token': r'\bhf_[A-Za-z0-9]{30,}',
    'GitHub token': r'\bgh[pousr]_[A-Za-z0-9]{36,}',
    'GitHub fine-grained token': r'\bgithub_pat_[A-Za-z0-9_]{40,}',
    'AWS access key id': r'\b(?:AKIA|ASIA)[0-9A-Z]{16}\b',
    'AWS secret access key': r'(?i)aws_?secret_?access_?key\W{0,5}[A-Za-z0-9/+=]{40}',
    'Slack token': r'\bxox[abprs]-[A-Za-z0-9-]{10,}',
    'OpenAI-style key': r'\bsk-(?:proj-)?[A-Za-z0-9]{32,}',
    'private key': r'-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY( BLOCK)?-----',
    'generic secret assignment': r'(?i)\b[\w-]*(?:api_?key|apikey|secret(?:_?key)?|access_?token|auth_?token|token|passw(?:or)?d)'
                                 r'["\']?\s*[:=]\s*[rbf]?["\']([A-Za-z0-9_\-+/=.]{16,})["\']',
}
PLACEHOLDER = re.compile(r'(?i)x{4,}|your|example|dummy|placeholder|changeme|redacted|<|\{')

def find_secrets(text):
    "[(kind, match)] of the token-shaped strings in text (generic assignments: only random-looking literals)."
    hits = []
    for kind, pat in SECRET_PATTERNS.items():
        for m in re.finditer(pat, text):
            s = m.group(m.lastindex or 0) if kind == 'generic secret assignment' else m.group(0)
            if kind == 'generic secret assignment':
                if PLACEHOLDER.search(s) or not (re.search(r'[A-Za-z]', s) and re.search(r'\d', s)): continue
            hits.append((kind, m.group(0)[:12] + '...'))
    return hits

def test_scanner_finds_synthetic_tokens():
    a = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0'        # 40 random-looking characters
    for tok, kind in [('hf_' + a[:34], 'Hugging Face token'), ('gh' + 'p_' + a[:36], 'GitHub token'),
                      ('github' + '_pat_' + a + a[:20], 'GitHub fine-grained token'), ('AKIA' + 'IOSFODNN7EXAMPL3', 'AWS access key id'),
                      ('-----BEGIN RSA ' + 'PRIVATE KEY-----', 'private key')]:
        assert kind in [k for k, _ in find_secrets(f'x = "{tok}"\n')], tok
    assert find_secrets('api' + '_key = "' + a + '"')
    assert find_secrets('{"token": "' + a + '"}')
    assert find_secrets('aws_secret' + '_access_key=' + a)
    # not secrets: environment look-ups, placeholders, ordinary words, short values
    for ok in ['token = os.environ.get("HF_TOKEN")', 'api' + '_key = "your-api-key-here-please"', 'token = "hello"',
               'hf_hub_download(repo_id)', 'password = "correcthorsebatterystaple"', 'token:str|None=None']:
        assert not find_secrets(ok), ok

def test_no_secrets_in_the_tree():
    files = repo_files()
    assert len(files) > 20, files
    hits = [(where, kind, s) for f in files if f.name != Path(__file__).name for where, t in texts(f) for kind, s in find_secrets(t)]
    assert not hits, 'token-shaped strings (revoke them, then remove them from the history):\n' + \
        '\n'.join(f'{w}: {k}: {s}' for w, k, s in hits)

PICKLE_CALLS = re.compile(r'\b(?:c?pickle|dill|joblib|cloudpickle)\.loads?\s*\(|allow_pickle\s*=\s*True|\.load_pickle\s*\(')
TORCH_LOAD = re.compile(r'\btorch\.load\s*\(')

def _call_text(lines, i, start):
    "The text of the call opened at lines[i][start:], up to its closing parenthesis (or 20 lines)."
    depth, out = 0, []
    for line in lines[i:i + 20]:
        seg = line[start:] if not out else line
        for k, ch in enumerate(seg):
            depth += ch == '('
            depth -= ch == ')'
            if depth == 0 and ch == ')': return ''.join(out) + seg[:k + 1]
        out.append(seg + '\n')
    return ''.join(out)

def pickle_findings(where, text):
    "[(where:line, what)] of unsafe loads in text: torch.load without weights_only=True, pickle-family loads outside a trust flag."
    lines, bad = text.splitlines(), []
    for i, line in enumerate(lines):
        code = line.split('#')[0]
        before = '\n'.join(lines[max(0, i - 3):i + 1])
        trusted = re.search(r'\w*trust\w*', before, re.I)      # an explicit opt-in, e.g. --trust-pickle
        for m in TORCH_LOAD.finditer(code):
            call = _call_text(lines, i, m.start())
            if not re.search(r'weights_only\s*=\s*True', call) and not trusted: bad.append((f'{where}:{i + 1}', line.strip()))
        if PICKLE_CALLS.search(code) and not trusted: bad.append((f'{where}:{i + 1}', line.strip()))
    return bad

def test_pickle_finder_works():
    assert pickle_findings('x', 'sd = torch.load(path)\n')
    assert pickle_findings('x', 'sd = torch.load(path,\n   map_location="cpu")\n')
    assert not pickle_findings('x', 'sd = torch.load(path,\n   map_location="cpu", weights_only=True)\n')
    assert pickle_findings('x', 'import pickle\nm = pickle.load(f)\n')
    assert pickle_findings('x', 'a = np.load(p, allow_pickle=True)\n')
    assert not pickle_findings('x', 'if trust_pickle:\n    m = pickle.load(f)\n')
    assert pickle_findings('x', 'm = torch.load(p, weights_only=False)\n')
    assert not pickle_findings('x', 'if not trust_pickle: raise TinyError(p)\nm = torch.load(p, weights_only=False)\n')
    assert not pickle_findings('x', '# pickle.load(f) is never used\n')

def test_no_untrusted_pickle_loads():
    files = [f for f in repo_files() if f.suffix in ('.py', '.ipynb', '.sh') and f.name != Path(__file__).name]
    assert any(f.suffix == '.ipynb' for f in files) and any(f.suffix == '.py' for f in files)
    bad = []
    for f in files:
        for where, t in texts(f):
            if not where.endswith('(raw)') and 'output' not in where: bad += pickle_findings(where, t)
    assert not bad, 'pickle loads by default (use safetensors, torch.load(..., weights_only=True), or a trust flag):\n' + \
        '\n'.join(f'{w}: {l}' for w, l in bad)
