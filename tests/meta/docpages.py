"""What check-readme.py and check-readme-sources.py share: the README and
the pages of the docs directory they read."""

import glob
import os


def add_arguments(ap):
    """--readme and --docs, for the argparse parser ap."""
    ap.add_argument('--readme', required=True)
    ap.add_argument('--docs', help='a directory whose *.md files are checked too')


def readme_and_docs(args):
    """(README path, docs directory or None): VICREG_README and VICREG_DOCS
    when set, else --readme and --docs."""
    return (os.environ.get('VICREG_README') or args.readme,
            os.environ.get('VICREG_DOCS') or args.docs)


def pages(docs):
    """The .md files of the directory docs, sorted; None (after printing
    why) when it does not exist or holds none."""
    if not os.path.isdir(docs):
        print('FAIL: the docs directory {} does not exist'.format(docs))
        return None
    found = sorted(glob.glob(os.path.join(docs, '*.md')))
    if not found:
        print('FAIL: {} holds no .md file'.format(docs))
        return None
    return found
