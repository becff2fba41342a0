"""protocol-kb: the domain (records, loading, validation, storage, comparison) with no web imports."""

__version__ = "0.1.0"
