"""qunyun (群运): a self-hosted platform for running brand communities across chat groups."""

__version__ = "0.1.0"
