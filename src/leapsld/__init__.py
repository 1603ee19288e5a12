"""leapsld: publish an RDF dataset as Linked Data: validate, query, serve."""

__version__ = "0.1.0"
