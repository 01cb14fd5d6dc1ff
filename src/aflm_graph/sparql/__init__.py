"""Queries: the catalogue of named .rq files, the embedded engine and its result formats, killable
workers with time and memory limits, remote endpoints (query and push), and the one `run`.
"""
