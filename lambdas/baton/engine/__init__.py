"""Conductor's semantics as a pure engine: definitions, `${...}` parameters and the decider.

Nothing in this package does I/O or imports an AWS library; the store, the Lambda handlers
and the embedded runtime all wrap it.
"""
