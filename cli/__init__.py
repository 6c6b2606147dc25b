"""`contestctl`: the organisers' command line."""
