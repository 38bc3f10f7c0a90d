"""The ``warplab`` command line."""
