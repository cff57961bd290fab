"""The tamper-evident audit log (A1–A3): an RFC 6962 Merkle tree with signed checkpoints."""
