"""Council information items: provenance, designation, files and their encryption at rest (I1–I11)."""
