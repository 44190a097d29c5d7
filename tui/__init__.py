"""searchlib's terminal UI (``search tui``): a Textual app over the public searchlib API.

Entry points live in :mod:`tui.app`: ``make_app(index, index_dir=...)`` builds the app for
the CLI and the tests, ``run_app(index_dir)`` opens the index and runs it.
"""
