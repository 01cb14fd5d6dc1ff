"""Putting it together and out: the build pipeline, the release bundle, the ontology's HTML
documentation and the query catalogue's markdown.
"""
