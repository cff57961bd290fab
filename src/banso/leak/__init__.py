"""Leak attribution (I8, I9): per-recipient watermarks and fingerprints, and attributing leaked copies."""
