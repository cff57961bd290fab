"""Backup and restore (O2): consistent online backups of database, sealed files and keys, encrypted to an
operator key; verify; restore into an empty target, keeping destroyed keys destroyed."""
