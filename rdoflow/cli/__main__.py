"""``python -m rdoflow.cli``: the same as the ``rdoflow`` command."""

import sys

from rdoflow.cli.main import console

sys.exit(console())
