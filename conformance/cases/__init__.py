"""The conformance cases, one test per spec §12 clause, run by ``gmc conform``."""
