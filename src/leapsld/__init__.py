"""leapsld: publish the LEAPS science-diplomacy knowledge graph as Linked Data."""

__version__ = "0.1.0"
