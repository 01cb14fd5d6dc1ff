"""The bottom room: the ontology's namespaces, the SKOS vocabularies, reference data (member states), and
where the packaged resources (ontology/, queries/) are found. Imports nothing else of ours.
"""
