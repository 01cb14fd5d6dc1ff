"""aflm-graph: a knowledge graph of the recommendations of the ASEAN Forum on Migrant Labour."""

from __future__ import annotations

__version__ = "0.1.0"
