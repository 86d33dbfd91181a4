"""Lambda entry points: thin adapters from each event source to `baton.service`."""
