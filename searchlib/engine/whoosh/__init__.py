"""The Whoosh-Reloaded engine: schema and analyzer, storage, patches, segment workers and
commit, query evaluation and ranking, facet data, the term list and the index check.

The only package of searchlib that imports :mod:`whoosh` (``tests/test_layers.py`` enforces it);
Whoosh objects and document numbers do not leave it.
"""
