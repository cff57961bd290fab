"""Resource-level policies, one module per domain."""
