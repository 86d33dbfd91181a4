"""Baton: a Conductor-compatible workflow engine on AWS serverless parts."""
