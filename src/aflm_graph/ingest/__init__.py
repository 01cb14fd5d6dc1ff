"""Reading documents: text and PDF (in a sandboxed process) into plain dataclasses, and the errors that
name the file and place. Knows nothing of RDF (a test checks).
"""
