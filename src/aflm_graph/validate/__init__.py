"""Checking a build: the report types, pySHACL and the SPARQL checks (shacl), the compiled SHACL-core
checker for big graphs (stream), and the entry point that picks one (check).
"""
