"""SHACL Core compiled to SPARQL and run on the store itself.

pyshacl walks an rdflib graph focus node by focus node, and re-parses a SPARQL constraint for
each one: about 45 s for 100k triples here, hours for a million, and the data must first be
copied into rdflib. Compiled, each constraint of each shape becomes one query that finds all
its violations at once, evaluated by Oxigraph over the very store that will be served: a few
seconds for a million triples.

pyshacl is the reference: ``tests/test_shacl.py`` checks the two engines give the same results
construct by construct, and ``tests/test_shacl_w3c.py`` runs the W3C test suite. Whatever the
compiler cannot state exactly raises ``Unsupported``, and the caller runs pyshacl instead.

The parts, each depending only on those before it:

- ``model``: what the shapes graph says (targeted shapes, deactivation, severities);
- ``prebinding``: when a SPARQL-based constraint can run once for all its focus nodes;
- ``compiler``: shapes to SPARQL patterns (``compile_shapes`` gives the ``Plan``);
- ``running``: the plan evaluated on the store, in parallel, with a limit (``run``);
- ``report``: the results as the SHACL report graph pyshacl would write (``report_graph``).
"""

from .compiler import QueryFn, compile_shapes
from .model import SEVERITIES, IllFormed, Unsupported, severity_name, severity_rank
from .report import report_graph
from .running import run

__all__ = [
    "SEVERITIES",
    "IllFormed",
    "QueryFn",
    "Unsupported",
    "compile_shapes",
    "report_graph",
    "run",
    "severity_name",
    "severity_rank",
]
