"""What the words say: concept mentions (annotate), duplicates and similar recommendations (link), and
the annotator's scores against hand-written gold (evaluate).
"""
