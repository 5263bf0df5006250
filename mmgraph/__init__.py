"""mmgraph."""
