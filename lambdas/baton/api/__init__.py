"""Conductor's REST API (`/api/...`), routed by Powertools' APIGatewayRestResolver."""
