"""The command line (Typer): each module registers one group of commands."""
