"""Write a notebook from a plain-text description, for authoring notebooks outside Jupyter.

Usage: python scripts/mknb.py SRC.py OUT.ipynb

SRC is Python-like text split into cells by lines of the form `# %% [markdown]` or `# %%`
(optionally `# %% tags=parameters`). Markdown cells are written without the leading `# `.
The result has no outputs and minimal metadata, as nbdev_clean leaves it.
"""
import sys, re, nbformat

def cells_from(text):
    cells, kind, tags, buf = [], None, [], []
    def flush():
        if kind is None: return
        src = '\n'.join(buf).strip('\n')
        if kind == 'markdown':
            src = '\n'.join(l[2:] if l.startswith('# ') else l.lstrip('#') for l in src.split('\n'))
            c = nbformat.v4.new_markdown_cell(src)
        else:
            c = nbformat.v4.new_code_cell(src)
        if tags: c.metadata['tags'] = tags
        cells.append(c)
    for line in text.split('\n'):
        m = re.match(r'^# %%\s*(\[markdown\])?\s*(tags=(\S+))?\s*$', line)
        if m:
            flush(); buf = []
            kind = 'markdown' if m.group(1) else 'code'
            tags = m.group(3).split(',') if m.group(3) else []
        else: buf.append(line)
    flush()
    return cells

if __name__ == '__main__':
    src, out = sys.argv[1:3]
    nb = nbformat.v4.new_notebook()
    nb.cells = cells_from(open(src).read())
    nb.metadata = {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}}
    nbformat.write(nb, out)
