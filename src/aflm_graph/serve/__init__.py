"""The HTTP side: a read-only SPARQL 1.1 Protocol endpoint over a build (`aflm-graph serve`).
"""
