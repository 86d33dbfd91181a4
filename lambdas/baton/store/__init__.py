"""DynamoDB persistence through pynamodb: models, loading and revision-checked commits."""
