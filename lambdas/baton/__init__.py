"""Baton: a Conductor-compatible workflow engine on AWS serverless parts."""

# The project's version, as pyproject.toml gives it (a test keeps the two equal): the Lambda
# bundles carry the package, not its metadata.
__version__ = "0.1.0"
