#!/usr/bin/python3
"""Check that every binding's copy of the C headers' constants is right.

The values of the enums in include/vicreg.h and include/vicreg_mpi.h (status
codes, parameter keys, terms, conventions, paths, precisions, the MPI
layer's codes and keys) and the VICREG_VERSION_* macros are pinned ABI, and
the bindings restate them by hand, where no compiler compares them with the
header:

  python  vicreg/_errors.py (OK, ERR_*), the PARAMS, CONVENTIONS, PATHS,
          TERMS, VIEW_TERMS and PRECISIONS tables and MAX_VIEWS of
          vicreg/_context.py, imported from
          the source tree without running vicreg/__init__.py (which loads
          libvicreg.so); needs numpy, as the package does
  rust    the `const VICREG_*` items of src/*.rs, and the `Enum::Variant =>
          sys::VICREG_*` match arms that give the safe enums their keys
  c++     the `enum class` enumerators of include/vicreg.hpp

Each binding entry is turned into the header name it stands for (PARAMS
["eps"] is VICREG_PARAM_EPSILON, Term::MinStdA is VICREG_TERM_MIN_STD_A)
and must exist in the headers with the same value (an enum named in
CamelCase stands for its snake-case prefix: ViewTerm::MinStd is
VICREG_VIEW_TERM_MIN_STD). A binding that has any
constant of a header enum must have all of them, the Python and Rust
bindings must have every status code of vicreg.h, and every binding must
have the per-view terms (VICREG_VIEW_TERM_*) and the Python and Rust ones
VICREG_MAX_VIEWS (the views calls of 1.2). Exit status 0 when all
agree, 1 naming each constant that does not, 77 (skip) when numpy is
missing for the Python part (the other bindings are still checked).
"""

import argparse
import ast
import importlib
import pathlib
import re
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parents[2]


def evaluate(expr, known):
    """The int value of a constant expression of literals and known names."""
    expr = re.sub(r'\b(VICREG_\w+)\b',
                  lambda m: str(known[m.group(1)]) if m.group(1) in known else m.group(1),
                  expr)
    expr = re.sub(r'\b(\d+)[uUlL]*\b', r'\1', expr.strip())
    tree = ast.parse(expr, mode='eval')
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add,
               ast.Sub, ast.Mult, ast.USub, ast.UAdd)
    if not all(isinstance(node, allowed) for node in ast.walk(tree)):
        raise ValueError('not a constant expression: ' + expr)
    value = eval(compile(tree, '<expr>', 'eval'))
    if not isinstance(value, int):
        raise ValueError('not an integer: ' + expr)
    return value


def snake(name):
    """MinStdA -> MIN_STD_A: a CamelCase name as the header spells it."""
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', name).upper()


def strip_c_comments(text):
    return re.sub(r'//[^\n]*', '', re.sub(r'/\*.*?\*/', ' ', text, flags=re.S))


def parse_headers(paths):
    """{name: value} and the list of groups (one per enum, one for the
    integer #defines of each header)."""
    values, groups = {}, []
    for path in paths:
        text = strip_c_comments(path.read_text())
        for body in re.findall(r'\benum\s*\w*\s*\{([^}]*)\}', text):
            group = []
            for entry in filter(None, (e.strip() for e in body.split(','))):
                name, eq, expr = entry.partition('=')
                if not eq:
                    sys.exit('FAIL: {}: enum constant {} has no explicit value'
                             .format(path, name.strip()))
                values[name.strip()] = evaluate(expr, values)
                group.append(name.strip())
            groups.append(group)
        defines = []
        text = text.replace('\\\n', ' ')
        for name, expr in re.findall(r'^\s*#\s*define\s+(VICREG_\w+)[ \t]+(.+)$', text, re.M):
            try:
                values[name] = evaluate(expr, values)
                defines.append(name)
            except (ValueError, SyntaxError, KeyError):
                pass  # VICREG_API and the like: not numbers
        if defines:
            groups.append(defines)
    if len(values) < 10 or 'VICREG_OK' not in values:
        sys.exit('FAIL: found only {} constants in {}: the header parser is broken'
                 .format(len(values), ', '.join(map(str, paths))))
    return values, groups


def python_entries(python_dir):
    """[(header name, value, where)] of the Python package in python_dir."""
    package = types.ModuleType('vicreg')  # stands in for vicreg/__init__.py
    package.__path__ = [str(python_dir / 'vicreg')]
    sys.modules['vicreg'] = package
    sys.dont_write_bytecode = True
    errors = importlib.import_module('vicreg._errors')
    context = importlib.import_module('vicreg._context')
    entries = []
    for name, value in sorted(vars(errors).items()):
        if name == 'OK' or name.startswith('ERR_'):
            entries.append(('VICREG_' + name, value, '_errors.' + name))
    aliases = {'eps': 'EPSILON'}
    for table, prefix in [('PARAMS', 'VICREG_PARAM_'), ('CONVENTIONS', 'VICREG_CONVENTION_'),
                          ('PATHS', 'VICREG_PATH_'), ('TERMS', 'VICREG_TERM_'),
                          ('VIEW_TERMS', 'VICREG_VIEW_TERM_'),
                          ('PRECISIONS', 'VICREG_PRECISION_')]:
        for key, value in getattr(context, table, {}).items():
            if table == 'PRECISIONS':  # keys are numpy dtypes
                suffix = 'F%d' % (key.itemsize * 8)
            else:
                suffix = aliases.get(key, key.upper())
            entries.append((prefix + suffix, value, '_context.%s[%r]' % (table, str(key))))
    if hasattr(context, 'MAX_VIEWS'):
        entries.append(('VICREG_MAX_VIEWS', context.MAX_VIEWS, '_context.MAX_VIEWS'))
    return entries


def rust_entries(rust_dir):
    """[(header name, value, where)] of the crate in rust_dir."""
    consts, entries, arms = {}, [], []
    for path in sorted((rust_dir / 'src').glob('*.rs')):
        text = path.read_text()
        for name, expr in re.findall(r'\bconst\s+(VICREG_\w+)\s*:[^=;]+=\s*([^;]+);', text):
            consts[name] = evaluate(expr, consts)
            entries.append((name, consts[name], '%s: const %s' % (path.name, name)))
        arms += [(e, v, c, '%s: %s::%s => sys::%s' % (path.name, e, v, c)) for e, v, c in
                 re.findall(r'\b(\w+)::(\w+)\s*=>\s*sys::(VICREG_\w+)', text)]
        arms += [(e, v, c, '%s: sys::%s => %s::%s' % (path.name, c, e, v)) for c, e, v in
                 re.findall(r'sys::(VICREG_\w+)\s*=>\s*(\w+)::(\w+)', text)]
        for enum, body in re.findall(r'\benum\s+(\w+)\s*\{([^}]*)\}', text):
            if re.search(r'^\s*\w+\s*=\s*-?\d', body, re.M):
                sys.exit('FAIL: {}: enum {} has explicit discriminants, which this '
                         'script does not read yet'.format(path, enum))
    if not consts:
        sys.exit('FAIL: no `const VICREG_*` found in {}/src'.format(rust_dir))
    for enum, variant, const, where in arms:
        prefix = 'VICREG_ERR_' if enum == 'Error' else 'VICREG_%s_' % snake(enum)
        entries.append((prefix + snake(variant), consts.get(const), where))  # None: undefined
    return entries


def cxx_entries(header, values):
    """[(header name, value, where)] of the enum classes of vicreg.hpp."""
    text = strip_c_comments(header.read_text())
    entries = []
    aliases = {'automatic': 'AUTO'}
    for enum, body in re.findall(r'\benum\s+class\s+(\w+)\s*(?::\s*\w+\s*)?\{([^}]*)\}', text):
        for entry in filter(None, (e.strip() for e in body.split(','))):
            name, _, expr = (s.strip() for s in entry.partition('='))
            entries.append(('VICREG_%s_%s' % (snake(enum), aliases.get(name, name.upper())),
                            evaluate(expr, values), '%s::%s = %s' % (enum, name, expr)))
    return entries


def check(binding, entries, values, groups, need_status, need=()):
    """need_status: the status codes' group must be there; need: names
    whose groups must be there."""
    errors = []
    for name, value, where in entries:
        if name not in values:
            errors.append('{} stands for {}, which is not in the headers'.format(where, name))
        elif value is None:
            errors.append('{}: the constant it names is not defined'.format(where))
        elif value != values[name]:
            errors.append('{} is {}, but {} = {} in the headers'.format(
                where, value, name, values[name]))
    declared = {name for name, value, _ in entries if value is not None}
    for group in groups:
        required = (need_status and 'VICREG_OK' in group) or bool(set(need) & set(group))
        if required or declared & set(group):
            for name in group:
                if name not in declared:
                    errors.append('{} (= {}) is missing'.format(name, values[name]))
    if not entries:
        errors.append('no constants found')
    if errors:
        print('FAIL: {}: {} error(s)'.format(binding, len(errors)))
        for e in errors:
            print('  - ' + e)
        return False
    print('OK: {}: {} entries ({} constants) match the headers'.format(
        binding, len(entries), len(declared)))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--header', action='append', type=pathlib.Path,
                    help='a C header (repeat; default: vicreg.h and vicreg_mpi.h)')
    ap.add_argument('--python-dir', type=pathlib.Path, default=ROOT / 'bindings' / 'python',
                    help='the directory that holds the vicreg package')
    ap.add_argument('--rust-dir', type=pathlib.Path, default=ROOT / 'bindings' / 'rust')
    ap.add_argument('--cxx-header', type=pathlib.Path, default=ROOT / 'include' / 'vicreg.hpp')
    args = ap.parse_args()
    headers = args.header or [ROOT / 'include' / 'vicreg.h', ROOT / 'include' / 'vicreg_mpi.h']

    values, groups = parse_headers(headers)
    print('headers: {} constants in {} groups'.format(len(values), len(groups)))
    views = ['VICREG_VIEW_TERM_VARIANCE', 'VICREG_MAX_VIEWS']
    ok = check('rust ' + str(args.rust_dir), rust_entries(args.rust_dir),
               values, groups, need_status=True, need=views)
    ok &= check('c++ ' + str(args.cxx_header), cxx_entries(args.cxx_header, values),
                values, groups, need_status=False, need=views[:1])
    try:
        entries = python_entries(args.python_dir)
    except ModuleNotFoundError as e:
        if e.name != 'numpy':
            raise
        print('SKIP: python: importing vicreg._context needs numpy, not found')
        return 1 if not ok else 77
    ok &= check('python ' + str(args.python_dir), entries, values, groups, need_status=True,
                need=views)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
