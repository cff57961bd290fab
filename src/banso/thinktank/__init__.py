"""The think tank's pages over the analytics outputs (Japan's position, country tables, TOPSIS) and its demo data."""
