"""Allow ``python -m searchlib`` as well as the ``search`` console script."""

from .cli import main

main()
