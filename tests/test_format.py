"""The op spec (tinyruntime.format) against c/FORMAT.md and c/src/ops.h, and the reader fuzzed: any byte string is
a valid model or a FormatError, never another exception."""
import re, struct
from pathlib import Path
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from tinyruntime.format import (HEADER, VALUE, OP, PARAM, LINEAR_PARAMS, FormatError, read_model_bytes,
                                model_bytes, fix_checksum, checksum, write_model_file, read_model_file)
from tinyruntime.format_gen import ops_h, format_md_op_table

C = Path(__file__).resolve().parent.parent/'c'
FORMAT_MD = (C/'FORMAT.md').read_text()

def md_table(title_line):
    "The rows (lists of cells) of the markdown table whose header line is `title_line`."
    lines = FORMAT_MD.split('\n')
    i = lines.index(title_line) + 2
    rows = []
    while i < len(lines) and lines[i].startswith('|'):
        rows.append([c.strip() for c in lines[i].strip('|').split('|')]); i += 1
    return rows

def record_tables():
    "The four record layout tables of FORMAT.md, in order: header, value, op, param."
    lines, out = FORMAT_MD.split('\n'), []
    for i, l in enumerate(lines):
        if l.startswith('| offset | type | field |'):
            rows, j = [], i + 2
            while j < len(lines) and lines[j].startswith('|'):
                rows.append([c.strip() for c in lines[j].strip('|').split('|')]); j += 1
            out.append(rows)
    return out

def test_ops_h_is_generated():
    assert (C/'src'/'ops.h').read_text() == ops_h(), 'stale: python -m tinyruntime.format_gen --write-ops-h'

def test_op_table_is_generated():
    assert format_md_op_table() in FORMAT_MD, "stale: python -m tinyruntime.format_gen --write-format-md"

@pytest.mark.parametrize('k,layout', list(enumerate([HEADER, VALUE, OP, PARAM])))
def test_record_tables_match_layouts(k, layout):
    rows = record_tables()[k]
    assert [(int(r[0]), r[2]) for r in rows] == list((o, n) for n, o in layout.offsets.items())

def test_param_table_matches_spec():
    rows = {r[0]: r[1:] for r in md_table('| kind | param[0] | param[1] | param[2] | param[3] |')}
    for kind, slots in LINEAR_PARAMS.items():
        for j, p in enumerate(slots):
            cell = rows[kind][j]
            assert f'{p.dtype} {p.dims}' in cell, (kind, j, cell)
            assert ('or none' in cell) == p.optional, (kind, j, cell)

def tiny(version=2):
    v = [dict(shape=(3, 2, 2)), dict(shape=(12, 1, 1)), dict(shape=(4, 1, 1)), dict(shape=(4, 1, 1))]
    ops = [dict(type='flatten', inputs=[0], out=1), dict(type='linear', act='relu', inputs=[1], out=2, attr=dict(out_f=4, in_f=12), params=[0, 1]),
           dict(type='add', inputs=[2, 2], out=3)]
    p = [np.arange(48, dtype=np.float32).reshape(4, 12), np.ones(4, np.float32)]
    return model_bytes('f32', (3, 2, 2), list('abcd'), v, ops, p, 3, version=version)

def test_checksum_and_version1():
    b = tiny()
    assert struct.unpack_from('<I', b, 112)[0] == checksum(b)
    read_model_bytes(b)
    for pos in (20, 130, 300, len(b) - 1):                   # any flipped byte: checksum mismatch (or an earlier header check)
        c = bytearray(b); c[pos] ^= 0x10
        with pytest.raises(FormatError): read_model_bytes(bytes(c))
    c = bytearray(b); c[-1] ^= 1
    with pytest.raises(FormatError, match='checksum mismatch'): read_model_bytes(bytes(c))
    b1 = tiny(version=1)
    assert read_model_bytes(b1)['version'] == 1 and b1[112:128] == bytes(16)

def test_failed_write_keeps_the_old_file(tmp_path):
    write_model_file(tmp_path/'m.bin', 'f32', (12, 1, 1), ['a'], [dict(shape=(12, 1, 1)), dict(shape=(1, 1, 1))],
                     [dict(type='linear', inputs=[0], out=1, attr=dict(out_f=1, in_f=12), params=[0])], [np.ones((1, 12), np.float32)], 1)
    before = (tmp_path/'m.bin').read_bytes()
    with pytest.raises(FormatError):
        write_model_file(tmp_path/'m.bin', 'f32', (12, 1, 1), ['a'], [dict(shape=(12, 1, 1)), dict(shape=(1, 1, 1))],
                         [dict(type='linear', inputs=[0], out=1, attr=dict(out_f=1, in_f=12), params=[0])], [np.ones((1, 11), np.float32)], 1)
    assert (tmp_path/'m.bin').read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ['m.bin']

RAW = tiny()

@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=600),
                 st.tuples(st.integers(0, len(RAW) - 1), st.binary(min_size=1, max_size=8), st.booleans(), st.integers(0, 40))))
def test_reader_fuzz(case):
    "Random bytes, and the tiny file with bytes overwritten and possibly cut (checksum fixed up or not)."
    if isinstance(case, tuple):
        pos, patch, fix, cut = case
        b = bytearray(RAW); b[pos:pos + len(patch)] = patch; b = b[:len(RAW) - cut]
        if fix and len(b) >= HEADER.size:
            struct.pack_into('<Q', b, 104, len(b)); b = bytearray(fix_checksum(b))
        case = bytes(b)
    try: m = read_model_bytes(case)
    except FormatError: return
    assert m['ops'] and m['values']
