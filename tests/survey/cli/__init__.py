"""The command line: accounts and data."""
