"""For readers: the corpus the views read from a store, the interactive network views (network, with
the Jinja template under templates/), and network statistics (stats).
"""
