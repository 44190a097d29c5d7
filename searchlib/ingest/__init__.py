"""From a file to a prepared document: reading, cleaning, HTML main text, dates, the gazetteer
and facet extraction.

Pure Python: nothing here imports a search engine (``tests/test_layers.py`` enforces it), so the
same prepared documents feed Whoosh today and any other engine behind :mod:`searchlib.engine`.
"""
