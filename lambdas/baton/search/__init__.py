"""Search: Conductor's query grammar (`grammar`), planned onto DynamoDB indexes (`plan`)."""
