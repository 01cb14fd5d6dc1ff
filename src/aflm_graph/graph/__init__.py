"""Documents become RDF: statements (N-Triples lines, sorted), the build under the ontology, the RDF
syntaxes written deterministically (export), the dataset description (VoID, DCAT, schema.org), and
safe reading of RDF files (rdfio).
"""
