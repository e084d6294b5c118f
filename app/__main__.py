"""`python -m app` is the `conveyor` command."""

import sys

from app.cli import main

sys.exit(main())
