"""The `rdoflow` command (rdoflow.cli.main) and its subcommands."""
