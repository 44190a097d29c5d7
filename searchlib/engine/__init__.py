"""What the rest of searchlib needs from a search engine.

The engines themselves live in subpackages (:mod:`searchlib.engine.whoosh`); nothing outside
them imports an engine library (``tests/test_layers.py`` enforces it).
"""
