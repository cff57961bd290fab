"""Small shared helpers: clock, errors, pagination."""
